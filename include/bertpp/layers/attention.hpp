// SPDX-License-Identifier: Apache-2.0
// Multi-head self-attention with its output projection, residual and LayerNorm (HF's
// BertAttention: `attention.self` + `attention.output`).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/threads.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/layers/batch.hpp"
#include "bertpp/ops/attention.hpp"
#include "bertpp/ops/layer_norm.hpp"
#include "bertpp/ops/linear.hpp"

namespace bertpp {

/// @brief Self-attention block of one encoder layer.
template <typename T>
class SelfAttention {
 public:
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
  SelfAttention(const WeightSet<T>& w, const std::string& prefix, const BertConfig& c)
      : heads_(c.num_attention_heads),
        head_size_(c.head_size()),
        eps_(c.layer_norm_eps),
        out_w_(w.at(prefix + "output.dense.weight")),
        out_b_(w.at(prefix + "output.dense.bias")),
        gamma_(w.at(prefix + "output.LayerNorm.weight")),
        beta_(w.at(prefix + "output.LayerNorm.bias")) {
    const auto h = c.hidden_size;
    qkv_w_.resize(3 * h, h);
    qkv_b_.resize(3 * h);
    const char* names[] = {"query", "key", "value"};
    for (int i = 0; i < 3; ++i) {
      qkv_w_.middleRows(i * h, h) = w.at(prefix + "self." + names[i] + ".weight").matrix();
      qkv_b_.segment(i * h, h) = w.at(prefix + "self." + names[i] + ".bias").vector();
    }
  }

  /// @brief x [tokens x hidden] -> x = LayerNorm(x + Attention(x) W_o^T + b_o), in place.
  /// `qkv` [tokens x 3 hidden] and `context` [tokens x hidden] are scratch.
  void forward(Matrix<T>& x, const PackedBatch& batch, Matrix<T>& qkv, Matrix<T>& context,
               ThreadPool* pool) const {
    const Eigen::Index h = x.cols();
    ops::linear<T>(x, qkv_w_, qkv_b_, qkv, pool);
    context.resize(x.rows(), h);
    const T scale = T(1) / std::sqrt(static_cast<T>(head_size_));
    const std::size_t tasks = batch.batch() * static_cast<std::size_t>(heads_);
    auto run = [&](std::size_t begin, std::size_t end) {
      Matrix<T> scores;
      for (std::size_t t = begin; t < end; ++t) {
        const std::size_t s = t / static_cast<std::size_t>(heads_);
        const auto head = static_cast<Eigen::Index>(t % static_cast<std::size_t>(heads_));
        const auto r0 = static_cast<Eigen::Index>(batch.start[s]);
        const auto len = static_cast<Eigen::Index>(batch.length[s]);
        const Eigen::Index c0 = head * head_size_;
        ops::attention<T>(qkv.block(r0, c0, len, head_size_),
                          qkv.block(r0, h + c0, len, head_size_),
                          qkv.block(r0, 2 * h + c0, len, head_size_), scale, scores,
                          context.block(r0, c0, len, head_size_));
      }
    };
    if (pool && pool->size() > 1)
      pool->parallel_for(tasks, run);
    else
      run(0, tasks);
    ops::linear<T>(context, out_w_.matrix(), out_b_.vector(), qkv, pool);
    qkv.swap(x);  // x <- projection, qkv <- the layer's input (the residual)
    ops::add_layer_norm(x, &qkv, gamma_.vector(), beta_.vector(), eps_, pool);
  }

 private:
  Eigen::Index heads_ = 0, head_size_ = 0;
  double eps_ = 1e-12;
  Matrix<T> qkv_w_;
  Vector<T> qkv_b_;
  Tensor<T> out_w_, out_b_, gamma_, beta_;
};

}  // namespace bertpp
