// SPDX-License-Identifier: Apache-2.0
// Encoder layers and the stack of them.
#pragma once

#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/layers/attention.hpp"
#include "bertpp/layers/batch.hpp"
#include "bertpp/layers/callback.hpp"
#include "bertpp/layers/feed_forward.hpp"

namespace bertpp {

/// @brief One transformer layer: self-attention block, then feed-forward block.
template <typename T>
class EncoderLayer {
 public:
  /// @brief The tensors under `prefix` (e.g. "encoder.layer.3.").
  static void table(const BertConfig& c, const std::string& prefix, std::vector<TensorSpec>& out) {
    SelfAttention<T>::table(c, prefix + "attention.", out);
    FeedForward<T>::table(c, prefix, out);
  }

  EncoderLayer() = default;
  EncoderLayer(const WeightSet<T>& w, const std::string& prefix, const BertConfig& c,
               const ExecOptions& exec)
      : attention_(w, prefix + "attention.", c, exec), ffn_(w, prefix, c, exec) {}

  /// @brief ws.hidden [tokens x hidden] -> ws.hidden, in place.
  void forward(Workspace<T>& ws, const PackedBatch& batch, Context& ctx, int index,
               const Callback<T>& cb) const {
    attention_.forward(ws, batch, ctx);
    if (cb) cb("layer." + std::to_string(index) + ".attention", ws.hidden);
    ffn_.forward(ws.hidden, ws.inter, ws.tmp, ctx);
    if (cb) cb("layer." + std::to_string(index) + ".output", ws.hidden);
  }

 private:
  SelfAttention<T> attention_;
  FeedForward<T> ffn_;
};

/// @brief The stack of `num_hidden_layers` encoder layers.
template <typename T>
class Encoder {
 public:
  /// @brief The tensors under `prefix` (e.g. "encoder.").
  static void table(const BertConfig& c, const std::string& prefix, std::vector<TensorSpec>& out) {
    for (std::int64_t i = 0; i < c.num_hidden_layers; ++i)
      EncoderLayer<T>::table(c, prefix + "layer." + std::to_string(i) + ".", out);
  }

  Encoder() = default;
  Encoder(const WeightSet<T>& w, const std::string& prefix, const BertConfig& c,
          const ExecOptions& exec = {}) {
    layers_.reserve(static_cast<std::size_t>(c.num_hidden_layers));  // no copies of packed weights
    for (std::int64_t i = 0; i < c.num_hidden_layers; ++i)
      layers_.emplace_back(w, prefix + "layer." + std::to_string(i) + ".", c, exec);
  }

  /// @brief Number of layers.
  std::size_t size() const noexcept { return layers_.size(); }
  /// @brief Layer i.
  const EncoderLayer<T>& layer(std::size_t i) const { return layers_.at(i); }

 private:
  std::vector<EncoderLayer<T>> layers_;
};

}  // namespace bertpp
