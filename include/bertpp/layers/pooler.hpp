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

namespace bertpp {

/// @brief HF's BertPooler.
template <typename T>
class Pooler {
 public:
  /// @brief The tensors under `prefix` (e.g. "pooler."); optional, as HF models may be
  /// saved without a pooler (add_pooling_layer=False).
  static void table(const BertConfig& c, const std::string& prefix, std::vector<TensorSpec>& out) {
    out.push_back({prefix + "dense.weight", {c.hidden_size, c.hidden_size}, false});
    out.push_back({prefix + "dense.bias", {c.hidden_size}, false});
  }

  Pooler() = default;
  /// @throws WeightError when only one of the two tensors is present.
  Pooler(const WeightSet<T>& w, const std::string& prefix, const ExecOptions& exec = {}) {
    const bool has_w = w.has(prefix + "dense.weight"), has_b = w.has(prefix + "dense.bias");
    if (has_w != has_b)
      throw WeightError("pooler: found '" + prefix + (has_w ? "dense.weight" : "dense.bias") +
                        "' without '" + prefix + (has_w ? "dense.bias" : "dense.weight") + "'");
    if (has_w)
      dense_ = exec::Linear<T>(w.at(prefix + "dense.weight"), w.at(prefix + "dense.bias"), exec,
                               "pooler");
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
