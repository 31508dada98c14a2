// SPDX-License-Identifier: Apache-2.0
// Feed-forward block: intermediate dense + activation, output dense, residual, LayerNorm.
#pragma once

#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/exec/linear.hpp"
#include "bertpp/exec/norm.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/ops/activations.hpp"

namespace bertpp {

/// @brief The exec activation of HF's `hidden_act` name.
/// @throws ConfigError for an unknown name.
inline exec::Act act_from_name(const std::string& name) {
  switch (ops::activation_from_name(name)) {
    case ops::Activation::gelu:
      return exec::Act::gelu;
    case ops::Activation::gelu_tanh:
      return exec::Act::gelu_tanh;
    case ops::Activation::relu:
      return exec::Act::relu;
    case ops::Activation::silu:
      return exec::Act::silu;
  }
  return exec::Act::gelu;
}

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
  FeedForward(const WeightSet<T>& w, const std::string& prefix, const BertConfig& c,
              const ExecOptions& exec)
      : act_(act_from_name(c.hidden_act)),
        eps_(c.layer_norm_eps),
        in_(w.at(prefix + "intermediate.dense.weight"), w.at(prefix + "intermediate.dense.bias"),
            exec, "ffn in (+ activation)"),
        out_(w.at(prefix + "output.dense.weight"), w.at(prefix + "output.dense.bias"), exec,
             "ffn out (+ residual)"),
        gamma_(w.at(prefix + "output.LayerNorm.weight")),
        beta_(w.at(prefix + "output.LayerNorm.bias")),
        kernels_(layer_kernels<T>(exec)) {}

  /// @brief x [tokens x hidden] -> x = LayerNorm(x + act(x W_i^T + b_i) W_o^T + b_o), in
  /// place; the activation runs in the first GEMM's epilogue, the residual in the second's.
  /// `inter` [tokens x intermediate] and `tmp` [tokens x hidden] are scratch.
  void forward(Matrix<T>& x, Matrix<T>& inter, Matrix<T>& tmp, Context& ctx) const {
    in_.forward(x, inter, ctx, act_);
    out_.forward(inter, tmp, ctx, exec::Act::none, &x);
    exec::layer_norm(tmp, gamma_.data(), beta_.data(), eps_, kernels_, ctx);
    x.swap(tmp);
  }

 private:
  exec::Act act_ = exec::Act::gelu;
  double eps_ = 1e-12;
  exec::Linear<T> in_, out_;
  Tensor<T> gamma_, beta_;
  const exec::F32Kernels* kernels_ = nullptr;
};

}  // namespace bertpp
