// SPDX-License-Identifier: Apache-2.0
// Encoder layers and the stack of them (with ALBERT's shared layers).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/layers/attention.hpp"
#include "bertpp/layers/batch.hpp"
#include "bertpp/layers/callback.hpp"
#include "bertpp/layers/feed_forward.hpp"
#include "bertpp/layers/names.hpp"

namespace bertpp {

/// @brief One transformer layer: self-attention block, then feed-forward block (both
/// post-LayerNorm, as every BERT family has them).
template <typename T>
class EncoderLayer {
 public:
  /// @brief The tensors of the layer named by `n`.
  static void table(const EncoderConfig& c, const LayerNames& n, std::vector<TensorSpec>& out) {
    SelfAttention<T>::table(c, n, out);
    FeedForward<T>::table(c, n, out);
  }

  EncoderLayer() = default;
  EncoderLayer(const WeightSet<T>& w, const LayerNames& n, const EncoderConfig& c,
               const ExecOptions& exec, std::shared_ptr<const RelativeBias<T>> bias = nullptr)
      : attention_(w, n, c, exec, std::move(bias)), ffn_(w, n, c, exec) {}

  /// @brief x [tokens x hidden] (the sequences of `batch`) -> x, in place, with ws's
  /// scratch buffers.
  void forward(Matrix<T>& x, const PackedBatch& batch, Workspace<T>& ws, Context& ctx, int index,
               const Callback<T>& cb) const {
    attention_.forward(x, batch, ws, ctx);
    if (cb) cb("layer." + std::to_string(index) + ".attention", x);
    ffn_.forward(x, ws.inter, ws.tmp, ctx);
    if (cb) cb("layer." + std::to_string(index) + ".output", x);
  }

 private:
  SelfAttention<T> attention_;
  FeedForward<T> ffn_;
};

/// @brief The stack of encoder layers: one step per applied layer (num_hidden_layers of
/// them; ALBERT applies its stored layers as layer_schedule() says).
template <typename T>
class Encoder {
 public:
  /// @brief The tensors of every stored layer.
  static void table(const EncoderConfig& c, std::vector<TensorSpec>& out) {
    for (std::int64_t i = 0; i < c.stored_layers(); ++i)
      EncoderLayer<T>::table(c, layer_names(c, i), out);
    const std::string bias = relative_bias_name(c);
    if (!bias.empty())
      out.push_back({bias + ".weight", {c.relative_attention_num_buckets, c.num_attention_heads}});
  }

  Encoder() = default;
  Encoder(const WeightSet<T>& w, const EncoderConfig& c, const ExecOptions& exec = {})
      : schedule_(layer_schedule(c)) {
    std::shared_ptr<const RelativeBias<T>> bias;
    if (const std::string name = relative_bias_name(c); !name.empty())
      bias = std::make_shared<const RelativeBias<T>>(w.at(name + ".weight"),
                                                     c.max_position_embeddings);
    layers_.reserve(static_cast<std::size_t>(c.stored_layers()));  // no copies of packed weights
    for (std::int64_t i = 0; i < c.stored_layers(); ++i)
      layers_.emplace_back(w, layer_names(c, i), c, exec, bias);
  }

  /// @brief Number of steps (applied layers).
  std::size_t size() const noexcept { return schedule_.size(); }
  /// @brief The layer step i runs.
  const EncoderLayer<T>& layer(std::size_t i) const {
    return layers_.at(static_cast<std::size_t>(schedule_.at(i)));
  }

 private:
  std::vector<EncoderLayer<T>> layers_;
  std::vector<std::int64_t> schedule_;
};

}  // namespace bertpp
