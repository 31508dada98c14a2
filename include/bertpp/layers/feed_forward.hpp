// SPDX-License-Identifier: Apache-2.0
// Feed-forward block: intermediate dense + activation, output dense, residual, LayerNorm.
#pragma once

#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/threads.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/ops/activations.hpp"
#include "bertpp/ops/layer_norm.hpp"
#include "bertpp/ops/linear.hpp"

namespace bertpp {

/// @brief HF's BertIntermediate + BertOutput.
template <typename T>
class FeedForward {
 public:
  /// @brief The tensors under `prefix` (e.g. "encoder.layer.0.").
  static void table(const BertConfig& c, const std::string& prefix, std::vector<TensorSpec>& out) {
    const auto h = c.hidden_size, i = c.intermediate_size;
    out.push_back({prefix + "intermediate.dense.weight", {i, h}});
    out.push_back({prefix + "intermediate.dense.bias", {i}});
    out.push_back({prefix + "output.dense.weight", {h, i}});
    out.push_back({prefix + "output.dense.bias", {h}});
    out.push_back({prefix + "output.LayerNorm.weight", {h}});
    out.push_back({prefix + "output.LayerNorm.bias", {h}});
  }

  FeedForward() = default;
  FeedForward(const WeightSet<T>& w, const std::string& prefix, const BertConfig& c)
      : act_(ops::activation_from_name(c.hidden_act)),
        eps_(c.layer_norm_eps),
        in_w_(w.at(prefix + "intermediate.dense.weight")),
        in_b_(w.at(prefix + "intermediate.dense.bias")),
        out_w_(w.at(prefix + "output.dense.weight")),
        out_b_(w.at(prefix + "output.dense.bias")),
        gamma_(w.at(prefix + "output.LayerNorm.weight")),
        beta_(w.at(prefix + "output.LayerNorm.bias")) {}

  /// @brief x [tokens x hidden] -> x = LayerNorm(x + act(x W_i^T + b_i) W_o^T + b_o), in
  /// place. `inter` [tokens x intermediate] and `tmp` [tokens x hidden] are scratch.
  void forward(Matrix<T>& x, Matrix<T>& inter, Matrix<T>& tmp, ThreadPool* pool) const {
    ops::linear<T>(x, in_w_.matrix(), in_b_.vector(), inter, pool);
    ops::activate(inter, act_, pool);
    ops::linear<T>(inter, out_w_.matrix(), out_b_.vector(), tmp, pool);
    tmp.swap(x);  // x <- output projection, tmp <- the residual
    ops::add_layer_norm(x, &tmp, gamma_.vector(), beta_.vector(), eps_, pool);
  }

 private:
  ops::Activation act_ = ops::Activation::gelu;
  double eps_ = 1e-12;
  Tensor<T> in_w_, in_b_, out_w_, out_b_, gamma_, beta_;
};

}  // namespace bertpp
