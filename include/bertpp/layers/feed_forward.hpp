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
#include "bertpp/layers/names.hpp"
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
  /// @brief The tensors of the layer named by `n`.
  static void table(const EncoderConfig& c, const LayerNames& n, std::vector<TensorSpec>& out) {
    const auto h = c.hidden_size, i = c.intermediate_size;
    linear_specs(n.ffn_in, i, h, out);
    linear_specs(n.ffn_out, h, i, out);
    norm_specs(n.output_norm, h, out);
  }

  FeedForward() = default;
  FeedForward(const WeightSet<T>& w, const LayerNames& n, const EncoderConfig& c,
              const ExecOptions& exec)
      : act_(act_from_name(c.hidden_act)),
        eps_(c.layer_norm_eps),
        in_(w.at(n.ffn_in + ".weight"), w.at(n.ffn_in + ".bias"), exec, "ffn in (+ activation)"),
        out_(w.at(n.ffn_out + ".weight"), w.at(n.ffn_out + ".bias"), exec, "ffn out (+ residual)"),
        gamma_(w.at(n.output_norm + ".weight")),
        beta_(w.at(n.output_norm + ".bias")),
        kernels_(layer_kernels<T>(exec)) {}

  /// @brief x [tokens x hidden] -> x = LayerNorm(x + act(x W_i^T + b_i) W_o^T + b_o), in
  /// place; the activation runs in the first GEMM's epilogue, the residual in the second's.
  /// `inter` [tokens x intermediate] and `tmp` [tokens x hidden] are scratch, used through
  /// scratch_rows() (grow only).
  void forward(Matrix<T>& x, Matrix<T>& inter, Matrix<T>& tmp, Context& ctx) const {
    const Eigen::Index m = x.rows(), h = x.cols(), n = in_.out_features();
    auto mid = scratch_rows(inter, m, n);
    auto out = scratch_rows(tmp, m, h);
    in_.forward(x.data(), m, h, mid.data(), n, act_, nullptr, 0, ctx);
    out_.forward(mid.data(), m, n, out.data(), h, exec::Act::none, x.data(), h, ctx);
    exec::layer_norm(out.data(), x.data(), m, h, gamma_.data(), beta_.data(), eps_, kernels_, ctx);
  }

 private:
  exec::Act act_ = exec::Act::gelu;
  double eps_ = 1e-12;
  exec::Linear<T> in_, out_;
  Tensor<T> gamma_, beta_;
  const exec::F32Kernels* kernels_ = nullptr;
};

}  // namespace bertpp
