// SPDX-License-Identifier: Apache-2.0
// Embeddings: word + position (+ token type) (+ ERNIE's task type), then LayerNorm, then
// (ALBERT, ELECTRA) a dense projection from embedding_size to hidden_size.
#pragma once

#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/exec/linear.hpp"
#include "bertpp/exec/norm.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/layers/batch.hpp"
#include "bertpp/layers/names.hpp"

namespace bertpp {

/// @brief The embeddings of every BERT family (names from layers/names.hpp).
template <typename T>
class Embeddings {
 public:
  /// @brief The tensors of the family of `c`.
  static void table(const EncoderConfig& c, std::vector<TensorSpec>& out) {
    const EmbeddingNames n = embedding_names(c);
    const auto e = c.embedding_dim();
    out.push_back({n.word + ".weight", {c.vocab_size, e}});
    out.push_back({n.position + ".weight", {c.max_position_embeddings, e}});
    if (!n.token_type.empty()) out.push_back({n.token_type + ".weight", {c.type_vocab_size, e}});
    if (!n.task_type.empty()) out.push_back({n.task_type + ".weight", {c.task_type_vocab_size, e}});
    norm_specs(n.norm, e, out);
    if (!n.projection.empty()) linear_specs(n.projection, c.hidden_size, e, out);
  }

  Embeddings() = default;
  Embeddings(const WeightSet<T>& w, const EncoderConfig& c, const ExecOptions& exec = {}) {
    const EmbeddingNames n = embedding_names(c);
    word_ = w.at(n.word + ".weight");
    position_ = w.at(n.position + ".weight");
    if (!n.token_type.empty()) type_ = w.at(n.token_type + ".weight");
    if (!n.task_type.empty()) task_ = w.at(n.task_type + ".weight");
    gamma_ = w.at(n.norm + ".weight");
    beta_ = w.at(n.norm + ".bias");
    if (!n.projection.empty())
      projection_ = exec::Linear<T>(w.at(n.projection + ".weight"), w.at(n.projection + ".bias"),
                                    exec, "embedding projection");
    eps_ = c.layer_norm_eps;
    kernels_ = layer_kernels<T>(exec);
  }

  /// @brief batch ids, type ids, positions [tokens] -> out [tokens x hidden]; `tmp` is
  /// scratch (the [tokens x embedding_size] rows before the projection).
  void forward(const PackedBatch& batch, Matrix<T>& out, Matrix<T>& tmp, Context& ctx) const {
    const bool project = projection_.out_features() > 0;
    Matrix<T>& x = project ? tmp : out;
    const auto word = word_.matrix();
    const auto pos = position_.matrix();
    x.resize(static_cast<Eigen::Index>(batch.tokens()), word.cols());
    // HF's order of the sums: (word + type) + position (+ task).
    if (!type_.empty()) {
      const auto type = type_.matrix();
      for (std::size_t r = 0; r < batch.tokens(); ++r)
        x.row(static_cast<Eigen::Index>(r)) =
            word.row(batch.ids[r]) + type.row(batch.type_ids[r]) + pos.row(batch.positions[r]);
    } else {
      for (std::size_t r = 0; r < batch.tokens(); ++r)
        x.row(static_cast<Eigen::Index>(r)) = word.row(batch.ids[r]) + pos.row(batch.positions[r]);
    }
    if (!task_.empty()) x.rowwise() += task_.matrix().row(0);  // task id 0, HF's default
    exec::layer_norm(x, gamma_.data(), beta_.data(), eps_, kernels_, ctx);
    if (project) projection_.forward(x, out, ctx);
  }

  /// @brief The word embedding matrix [vocab x embedding_size] (tied to the MLM decoder).
  const Tensor<T>& word_embeddings() const noexcept { return word_; }

 private:
  Tensor<T> word_, position_, type_, task_, gamma_, beta_;
  exec::Linear<T> projection_;
  double eps_ = 1e-12;
  const exec::F32Kernels* kernels_ = nullptr;
};

}  // namespace bertpp
