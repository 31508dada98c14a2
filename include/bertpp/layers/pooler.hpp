// SPDX-License-Identifier: Apache-2.0
// Pooler: tanh(dense) on each sequence's first ([CLS]) token.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/exec/linear.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/layers/batch.hpp"
#include "bertpp/layers/names.hpp"

namespace bertpp {

/// @brief HF's BertPooler (ALBERT's `pooler` is the same dense + tanh).
template <typename T>
class Pooler {
 public:
  /// @brief The tensors of the family's pooler; optional, as HF models may be saved without
  /// one (add_pooling_layer=False); none for DistilBERT and ELECTRA.
  static void table(const EncoderConfig& c, std::vector<TensorSpec>& out) {
    const std::string stem = pooler_name(c);
    if (!stem.empty()) linear_specs(stem, c.hidden_size, c.hidden_size, out, false);
  }

  Pooler() = default;
  /// @throws WeightError when only one of the two tensors is present.
  Pooler(const WeightSet<T>& w, const EncoderConfig& c, const ExecOptions& exec = {}) {
    const std::string stem = pooler_name(c);
    if (stem.empty()) return;
    const bool has_w = w.has(stem + ".weight"), has_b = w.has(stem + ".bias");
    if (has_w != has_b)
      throw WeightError("pooler: found '" + stem + (has_w ? ".weight" : ".bias") + "' without '" +
                        stem + (has_w ? ".bias" : ".weight") + "'");
    if (has_w)
      dense_ = exec::Linear<T>(w.at(stem + ".weight"), w.at(stem + ".bias"), exec, "pooler");
  }

  /// @brief Whether the checkpoint has pooler weights.
  bool present() const noexcept { return dense_.out_features() > 0; }

  /// @brief hidden [tokens x hidden] -> out [batch x hidden] = tanh(first rows W^T + b).
  /// `first` is scratch.
  void forward(const Matrix<T>& hidden, const PackedBatch& batch, Matrix<T>& first, Matrix<T>& out,
               Context& ctx) const {
    first.resize(static_cast<Eigen::Index>(batch.batch()), hidden.cols());
    for (std::size_t s = 0; s < batch.batch(); ++s)
      first.row(static_cast<Eigen::Index>(s)) =
          hidden.row(static_cast<Eigen::Index>(batch.start[s]));
    dense_.forward(first, out, ctx, exec::Act::tanh);
  }

 private:
  exec::Linear<T> dense_;
};

}  // namespace bertpp
