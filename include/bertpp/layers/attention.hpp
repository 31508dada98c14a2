// SPDX-License-Identifier: Apache-2.0
// Multi-head self-attention with its output projection, residual and LayerNorm (HF's
// BertAttention: `attention.self` + `attention.output`).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/exec/context.hpp"
#include "bertpp/exec/linear.hpp"
#include "bertpp/exec/norm.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/layers/batch.hpp"

namespace bertpp {

/// @brief Scratch buffers of one forward pass, kept in the caller's Context.
template <typename T>
struct Workspace {
  Matrix<T> hidden, qkv, context, inter, tmp, first;
  std::vector<std::vector<T>> scores;  ///< one attention score buffer per thread (grows only)
  PackedBatch packed;
};

/// @brief Self-attention block of one encoder layer.
template <typename T>
class SelfAttention {
 public:
  /// Query rows per block of attention scores: a block of [rows x L] scores stays in L2 even
  /// for L = 512.
  static constexpr Eigen::Index query_block = 64;

  /// @brief The tensors under `prefix` (e.g. "encoder.layer.0.attention.").
  static void table(const BertConfig& c, const std::string& prefix, std::vector<TensorSpec>& out) {
    const auto h = c.hidden_size;
    for (const char* m : {"query", "key", "value"}) {
      out.push_back({prefix + "self." + m + ".weight", {h, h}});
      out.push_back({prefix + "self." + m + ".bias", {h}});
    }
    out.push_back({prefix + "output.dense.weight", {h, h}});
    out.push_back({prefix + "output.dense.bias", {h}});
    out.push_back({prefix + "output.LayerNorm.weight", {h}});
    out.push_back({prefix + "output.LayerNorm.bias", {h}});
  }

  SelfAttention() = default;
  /// Q, K and V are fused into one [3h x h] projection at load (one GEMM instead of three).
  SelfAttention(const WeightSet<T>& w, const std::string& prefix, const BertConfig& c,
                const ExecOptions& exec)
      : heads_(c.num_attention_heads),
        head_size_(c.head_size()),
        eps_(c.layer_norm_eps),
        out_(w.at(prefix + "output.dense.weight"), w.at(prefix + "output.dense.bias"), exec,
             "attention output"),
        gamma_(w.at(prefix + "output.LayerNorm.weight")),
        beta_(w.at(prefix + "output.LayerNorm.bias")),
        kernels_(layer_kernels<T>(exec)) {
    const auto h = c.hidden_size;
    std::vector<T> qkv_w(static_cast<std::size_t>(3 * h * h)),
        qkv_b(static_cast<std::size_t>(3 * h));
    const char* names[] = {"query", "key", "value"};
    for (std::int64_t i = 0; i < 3; ++i) {
      const auto& wi = w.at(prefix + "self." + names[i] + ".weight");
      const auto& bi = w.at(prefix + "self." + names[i] + ".bias");
      std::copy(wi.data(), wi.data() + h * h, qkv_w.begin() + i * h * h);
      std::copy(bi.data(), bi.data() + h, qkv_b.begin() + i * h);
    }
    qkv_ = exec::Linear<T>(Tensor<T>(std::move(qkv_w), {3 * h, h}),
                           Tensor<T>(std::move(qkv_b), {3 * h}), exec, "qkv");
  }

  /// @brief ws.hidden [tokens x hidden] -> LayerNorm(x + Attention(x) W_o^T + b_o), in place.
  void forward(Workspace<T>& ws, const PackedBatch& batch, Context& ctx) const {
    Matrix<T>& x = ws.hidden;
    const Eigen::Index h = x.cols();
    qkv_.forward(x, ws.qkv, ctx);
    ws.context.resize(x.rows(), h);
    if (ws.scores.size() < static_cast<std::size_t>(ctx.num_threads()))
      ws.scores.resize(static_cast<std::size_t>(ctx.num_threads()));
    const T scale = T(1) / std::sqrt(static_cast<T>(head_size_));
    // Tasks: (sequence, head, query block), in that order.
    const auto hs = static_cast<std::size_t>(heads_);
    std::size_t tasks = 0;
    for (std::size_t s = 0; s < batch.batch(); ++s)
      tasks += hs * ((batch.length[s] + query_block - 1) / query_block);
    const Matrix<T>& qkv = ws.qkv;
    {
      const ScopedOpTimer timer(ctx, "attention (scores, softmax, context)");
      auto run = [&](std::size_t begin, std::size_t end, std::vector<T>& buffer) {
        std::size_t t = 0;
        for (std::size_t s = 0; s < batch.batch() && t < end; ++s) {
          const auto len = static_cast<Eigen::Index>(batch.length[s]);
          const std::size_t blocks =
              static_cast<std::size_t>((len + query_block - 1) / query_block);
          if (t + hs * blocks <= begin) {
            t += hs * blocks;
            continue;
          }
          const auto r0 = static_cast<Eigen::Index>(batch.start[s]);
          for (std::size_t head = 0; head < hs; ++head)
            for (std::size_t b = 0; b < blocks; ++b, ++t) {
              if (t < begin || t >= end) continue;
              const Eigen::Index c0 = static_cast<Eigen::Index>(head) * head_size_;
              const Eigen::Index q0 = static_cast<Eigen::Index>(b) * query_block;
              const Eigen::Index qn = std::min(query_block, len - q0);
              if (buffer.size() < static_cast<std::size_t>(qn * len))
                buffer.resize(static_cast<std::size_t>(qn * len));
              Eigen::Map<Matrix<T>> scores(buffer.data(), qn, len);
              scores.noalias() = qkv.block(r0 + q0, c0, qn, head_size_) *
                                 qkv.block(r0, h + c0, len, head_size_).transpose();
              exec::softmax_rows(scores, scale, kernels_);
              ws.context.block(r0 + q0, c0, qn, head_size_).noalias() =
                  scores * qkv.block(r0, 2 * h + c0, len, head_size_);
            }
        }
      };
      if (ctx.num_threads() > 1 && tasks > 1) {
        // Chunk i runs on thread i: each thread has its own score buffer.
        const std::size_t parts =
            std::min<std::size_t>(static_cast<std::size_t>(ctx.num_threads()), tasks);
        ctx.parallel_for(parts, [&](std::size_t p0, std::size_t p1) {
          for (std::size_t p = p0; p < p1; ++p)
            run(tasks * p / parts, tasks * (p + 1) / parts, ws.scores[p]);
        });
      } else {
        run(0, tasks, ws.scores[0]);
      }
    }
    out_.forward(ws.context, ws.tmp, ctx, exec::Act::none, &x);
    exec::layer_norm(ws.tmp, gamma_.data(), beta_.data(), eps_, kernels_, ctx);
    x.swap(ws.tmp);
  }

 private:
  Eigen::Index heads_ = 0, head_size_ = 0;
  double eps_ = 1e-12;
  exec::Linear<T> qkv_, out_;
  Tensor<T> gamma_, beta_;
  const exec::F32Kernels* kernels_ = nullptr;
};

}  // namespace bertpp
