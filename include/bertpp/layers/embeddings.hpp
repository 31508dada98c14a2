// SPDX-License-Identifier: Apache-2.0
// BERT embeddings: word + position + token type, then LayerNorm.
#pragma once

#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/exec/linear.hpp"
#include "bertpp/exec/norm.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/layers/batch.hpp"

namespace bertpp {

/// @brief Word, position and token-type embeddings summed, then LayerNorm.
template <typename T>
class Embeddings {
 public:
  /// @brief The tensors under `prefix` (e.g. "embeddings.").
  static void table(const BertConfig& c, const std::string& prefix, std::vector<TensorSpec>& out) {
    const auto h = c.hidden_size;
    out.push_back({prefix + "word_embeddings.weight", {c.vocab_size, h}});
    out.push_back({prefix + "position_embeddings.weight", {c.max_position_embeddings, h}});
    out.push_back({prefix + "token_type_embeddings.weight", {c.type_vocab_size, h}});
    out.push_back({prefix + "LayerNorm.weight", {h}});
    out.push_back({prefix + "LayerNorm.bias", {h}});
  }

  Embeddings() = default;
  Embeddings(const WeightSet<T>& w, const std::string& prefix, const BertConfig& c,
             const ExecOptions& exec = {})
      : word_(w.at(prefix + "word_embeddings.weight")),
        position_(w.at(prefix + "position_embeddings.weight")),
        type_(w.at(prefix + "token_type_embeddings.weight")),
        gamma_(w.at(prefix + "LayerNorm.weight")),
        beta_(w.at(prefix + "LayerNorm.bias")),
        eps_(c.layer_norm_eps),
        kernels_(layer_kernels<T>(exec)) {}

  /// @brief batch ids, type ids, positions [tokens] -> out [tokens x hidden].
  void forward(const PackedBatch& batch, Matrix<T>& out, Context& ctx) const {
    const auto word = word_.matrix();
    const auto pos = position_.matrix();
    const auto type = type_.matrix();
    out.resize(static_cast<Eigen::Index>(batch.tokens()), word.cols());
    for (std::size_t r = 0; r < batch.tokens(); ++r)
      out.row(static_cast<Eigen::Index>(r)) =
          word.row(batch.ids[r]) + type.row(batch.type_ids[r]) + pos.row(batch.positions[r]);
    exec::layer_norm(out, gamma_.data(), beta_.data(), eps_, kernels_, ctx);
  }

  /// @brief The word embedding matrix [vocab x hidden] (tied to the MLM decoder).
  const Tensor<T>& word_embeddings() const noexcept { return word_; }

 private:
  Tensor<T> word_, position_, type_, gamma_, beta_;
  double eps_ = 1e-12;
  const exec::F32Kernels* kernels_ = nullptr;
};

}  // namespace bertpp
