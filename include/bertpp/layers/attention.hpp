// SPDX-License-Identifier: Apache-2.0
// Multi-head self-attention with its output projection, residual and LayerNorm (HF's
// BertAttention: `attention.self` + `attention.output`).
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/exec/linear.hpp"
#include "bertpp/exec/norm.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/layers/batch.hpp"
#include "bertpp/layers/names.hpp"

namespace bertpp {

/// @brief A row-major [rows x cols] view of `storage`, which grows to hold it and never
/// shrinks: the layers' scratch (qkv, context, inter, tmp) is sized by the largest layer
/// group a forward runs, and a group of fewer rows reuses the same, still cached, memory.
template <typename T>
Eigen::Map<Matrix<T>> scratch_rows(Matrix<T>& storage, Eigen::Index rows, Eigen::Index cols) {
  if (storage.size() < rows * cols) storage.resize(rows, cols);
  return Eigen::Map<Matrix<T>>(storage.data(), rows, cols);
}

/// @brief Scratch buffers of one forward pass, kept in the caller's Context.
template <typename T>
struct Workspace {
  /// hidden: the batch's activations; the others are scratch of one layer step, used
  /// through scratch_rows() (grow only).
  Matrix<T> hidden, qkv, context, inter, tmp, first;
  /// Per thread (grow only): attention scores, and one head's keys and values packed for
  /// the SIMD kernels.
  std::vector<std::vector<T>> scores, keys, values;
  /// Per thread: one head's queries, probabilities, keys and values in bf16 (reduced
  /// precisions on AVX512_BF16).
  struct Bf16Head {
    exec::bf16::ConvertedRows queries, probabilities;
    exec::bf16::PackedWeights keys, values;
  };
  std::vector<Bf16Head> bf16;
  PackedBatch packed;
  /// Layer groups (ExecOptions::group_tokens): the plan, and each group's sequences (rows
  /// from 0) and activations, kept between the layers.
  GroupPlan plan;
  std::vector<PackedBatch> group_batch;
  std::vector<Matrix<T>> group_hidden;
};

/// @brief The lanes of a forward that runs its groups side by side: one context of one
/// thread and one workspace per lane, kept in the caller's context.
template <typename T>
struct Lanes {
  std::vector<std::unique_ptr<Context>> ctx;
  std::vector<Workspace<T>> ws;
  void ensure(std::size_t n) {
    while (ctx.size() < n) ctx.push_back(std::make_unique<Context>(1));
    if (ws.size() < n) ws.resize(n);
  }
};

/// @brief MPNet's relative position bias, shared by every layer: the score of query i for
/// key j gets table[bucket(j - i)][head] after scaling, bucketed as HF's
/// MPNetEncoder.relative_position_bucket (32 buckets, max distance 128, in float32 as torch).
template <typename T>
class RelativeBias {
 public:
  /// @brief `table` [buckets x heads]; distances up to `max_len` - 1 either way.
  /// @throws WeightError when the table has fewer than the 32 buckets HF's bucketing uses.
  RelativeBias(Tensor<T> table, std::int64_t max_len) : table_(std::move(table)), span_(max_len) {
    if (table_.shape().size() != 2 || table_.shape()[0] < 32)
      throw WeightError("relative_attention_bias: needs at least 32 buckets (HF buckets with 32)");
    heads_ = table_.shape()[1];
    bucket_.resize(static_cast<std::size_t>(2 * span_ + 1));
    for (std::int64_t d = -span_; d <= span_; ++d)
      bucket_[static_cast<std::size_t>(d + span_)] = bucket_of(d);
  }

  /// @brief HF's bucket of relative position `d` = key - query.
  static std::int32_t bucket_of(std::int64_t d) {
    constexpr std::int64_t half = 16, exact = 8;  // num_buckets // 2, its half
    std::int64_t n = -d;
    std::int32_t ret = n < 0 ? static_cast<std::int32_t>(half) : 0;
    n = n < 0 ? -n : n;
    if (n < exact) return ret + static_cast<std::int32_t>(n);
    const float v = std::log(static_cast<float>(n) / 8.0f) /
                    static_cast<float>(std::log(128.0 / 8.0)) * static_cast<float>(half - exact);
    return ret + static_cast<std::int32_t>(
                     std::min<std::int64_t>(exact + static_cast<std::int64_t>(v), half - 1));
  }

  /// @brief The bias of `head` for relative position `d` (|d| < max_len).
  T at(std::int64_t head, std::int64_t d) const {
    return table_.data()[bucket_[static_cast<std::size_t>(d + span_)] * heads_ + head];
  }
  /// @brief Number of heads the table has.
  std::int64_t heads() const noexcept { return heads_; }

 private:
  Tensor<T> table_;
  std::vector<std::int32_t> bucket_;
  std::int64_t span_ = 0, heads_ = 0;
};

/// @brief Self-attention block of one encoder layer.
template <typename T>
class SelfAttention {
 public:
  /// Query rows per block of attention scores: a block of [rows x L] scores stays in L2 even
  /// for L = 512.
  static constexpr Eigen::Index query_block = 64;

  /// @brief The tensors of the layer named by `n`.
  static void table(const EncoderConfig& c, const LayerNames& n, std::vector<TensorSpec>& out) {
    const auto h = c.hidden_size;
    for (const std::string* m : {&n.query, &n.key, &n.value}) linear_specs(*m, h, h, out);
    linear_specs(n.attention_output, h, h, out);
    norm_specs(n.attention_norm, h, out);
  }

  SelfAttention() = default;
  /// Q, K and V are fused into one [3h x h] projection at load (one GEMM instead of three).
  SelfAttention(const WeightSet<T>& w, const LayerNames& n, const EncoderConfig& c,
                const ExecOptions& exec, std::shared_ptr<const RelativeBias<T>> bias = nullptr)
      : bias_(std::move(bias)),
        heads_(c.num_attention_heads),
        head_size_(c.head_size()),
        eps_(c.layer_norm_eps),
        out_(w.at(n.attention_output + ".weight"), w.at(n.attention_output + ".bias"), exec,
             "attention output"),
        gamma_(w.at(n.attention_norm + ".weight")),
        beta_(w.at(n.attention_norm + ".bias")),
        kernels_(layer_kernels<T>(exec)) {
    // bf16 and int8 run attention's two products on vdpbf16ps too (softmax stays fp32),
    // where the CPU has it: on AVX2 the bf16 kernels widen to fp32 and would only be slower.
    if constexpr (std::is_same_v<T, float>)
      bf16_products_ = kernels_ && exec.precision != Precision::f32 &&
                       (exec::bf16::pick(exec.isa) == exec::Isa::avx512 ||
                        exec::bf16::pick(exec.isa) == exec::Isa::amx);  // on avx512
    const auto h = c.hidden_size;
    std::vector<T> qkv_w(static_cast<std::size_t>(3 * h * h)),
        qkv_b(static_cast<std::size_t>(3 * h));
    const std::string* names[] = {&n.query, &n.key, &n.value};
    for (std::int64_t i = 0; i < 3; ++i) {
      const auto& wi = w.at(*names[i] + ".weight");
      const auto& bi = w.at(*names[i] + ".bias");
      std::copy(wi.data(), wi.data() + h * h, qkv_w.begin() + i * h * h);
      std::copy(bi.data(), bi.data() + h, qkv_b.begin() + i * h);
      // The fused copy is what the layer keeps: give a mapped checkpoint's pages of the
      // three weights back (as Linear does for the weights it packs), or they stay
      // resident beside it (83 MB on BERT-base).
      wi.release_pages();
    }
    qkv_ = exec::Linear<T>(Tensor<T>(std::move(qkv_w), {3 * h, h}),
                           Tensor<T>(std::move(qkv_b), {3 * h}), exec, "qkv");
  }

  /// @brief x [tokens x hidden] -> LayerNorm(x + Attention(x) W_o^T + b_o), in place, for
  /// the sequences of `batch` (rows of x); ws's scratch buffers hold the intermediates.
  void forward(Matrix<T>& x, const PackedBatch& batch, Workspace<T>& ws, Context& ctx) const {
    const Eigen::Index h = x.cols(), m = x.rows();
    auto qkv = scratch_rows(ws.qkv, m, 3 * h);
    qkv_.forward(x.data(), m, h, qkv.data(), 3 * h, exec::Act::none, nullptr, 0, ctx);
    auto context = scratch_rows(ws.context, m, h);
    if (ws.scores.size() < static_cast<std::size_t>(ctx.num_threads())) {
      ws.scores.resize(static_cast<std::size_t>(ctx.num_threads()));
      ws.keys.resize(ws.scores.size());
      ws.values.resize(ws.scores.size());
      ws.bf16.resize(ws.scores.size());
    }
    const T scale = T(1) / std::sqrt(static_cast<T>(head_size_));
    // Tasks: (sequence, head, query block), in that order.
    const auto hs = static_cast<std::size_t>(heads_);
    std::size_t tasks = 0;
    for (std::size_t s = 0; s < batch.batch(); ++s)
      tasks += hs * ((batch.length[s] + query_block - 1) / query_block);
    {
      const ScopedOpTimer timer(ctx, "attention (scores, softmax, context)");
      auto run = [&](std::size_t begin, std::size_t end, std::size_t thread) {
        std::vector<T>& buffer = ws.scores[thread];
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
              if constexpr (std::is_same_v<T, float>) {
                if (bf16_products_) {
                  head_bf16(qkv, r0, q0, qn, len, c0, static_cast<Eigen::Index>(head), scores,
                            ws.bf16[thread], context, scale, b == 0 || t == begin);
                  continue;
                }
                if (kernels_) {
                  head_simd(qkv, r0, q0, qn, len, c0, static_cast<Eigen::Index>(head), scores,
                            ws.keys[thread], ws.values[thread], context, scale,
                            b == 0 || t == begin);
                  continue;
                }
              }
              scores.noalias() = qkv.block(r0 + q0, c0, qn, head_size_) *
                                 qkv.block(r0, h + c0, len, head_size_).transpose();
              if (bias_) {
                add_bias(scores.data(), qn, len, q0, static_cast<Eigen::Index>(head), scale);
                exec::softmax_rows(scores, T(1), kernels_);
              } else {
                exec::softmax_rows(scores, scale, kernels_);
              }
              context.block(r0 + q0, c0, qn, head_size_).noalias() =
                  scores * qkv.block(r0, 2 * h + c0, len, head_size_);
            }
        }
      };
      if (ctx.num_threads() > 1 && tasks > 1) {
        // Chunk i runs on thread i: each thread has its own score buffer.
        const std::size_t parts =
            std::min<std::size_t>(static_cast<std::size_t>(ctx.num_threads()), tasks);
        ctx.parallel_for(parts, [&](std::size_t p0, std::size_t p1) {
          for (std::size_t p = p0; p < p1; ++p) run(tasks * p / parts, tasks * (p + 1) / parts, p);
        });
      } else {
        run(0, tasks, 0);
      }
    }
    auto tmp = scratch_rows(ws.tmp, m, h);
    out_.forward(context.data(), m, h, tmp.data(), h, exec::Act::none, x.data(), h, ctx);
    exec::layer_norm(tmp.data(), x.data(), m, h, gamma_.data(), beta_.data(), eps_, kernels_, ctx);
  }

 private:
  // One query block of one head on the SIMD kernels: scores = Q K^T (K packed as the
  // GEMM's weight), softmax, context = scores V (V packed likewise). The keys and values
  // are packed at the first query block of the head a thread runs (`pack`), reused after.
  // rows [qn x len] of scores (queries q0...) -> scale * scores + the relative position
  // bias of `head` (MPNet; HF adds it after scaling).
  void add_bias(T* scores, Eigen::Index qn, Eigen::Index len, Eigen::Index q0, Eigen::Index head,
                T scale) const {
    for (Eigen::Index r = 0; r < qn; ++r) {
      T* row = scores + r * len;
      for (Eigen::Index j = 0; j < len; ++j)
        row[j] = row[j] * scale + bias_->at(head, j - (q0 + r));
    }
  }

  // Rows [0, qn) of a query block's scores (queries q0...) -> softmax(scale * scores + the
  // relative position bias of `head`), on the SIMD row kernel.
  void softmax_block(float* scores, Eigen::Index qn, Eigen::Index len, Eigen::Index q0,
                     Eigen::Index head, float scale) const {
    if (bias_) {
      add_bias(scores, qn, len, q0, head, scale);
      scale = 1.0f;
    }
    for (Eigen::Index r = 0; r < qn; ++r) kernels_->softmax(scores + r * len, len, scale);
  }

  void head_simd(const Eigen::Map<Matrix<float>>& qkv, Eigen::Index r0, Eigen::Index q0,
                 Eigen::Index qn, Eigen::Index len, Eigen::Index c0, Eigen::Index head,
                 Eigen::Map<Matrix<float>>& scores, std::vector<float>& keys,
                 std::vector<float>& values, Eigen::Map<Matrix<float>>& context, float scale,
                 bool pack) const {
    const auto& k = *kernels_;
    const std::int64_t h = qkv.cols() / 3, ld = qkv.cols(), d = head_size_, nr = k.direct_nr;
    const std::int64_t key_panels = (len + nr - 1) / nr, value_panels = (d + nr - 1) / nr;
    if (pack) {
      if (keys.size() < static_cast<std::size_t>(key_panels * d * nr))
        keys.resize(static_cast<std::size_t>(key_panels * d * nr));
      if (values.size() < static_cast<std::size_t>(value_panels * len * nr))
        values.resize(static_cast<std::size_t>(value_panels * len * nr));
      k.pack_transposed(qkv.data() + r0 * ld + h + c0, len, d, ld, static_cast<int>(nr),
                        keys.data());
      exec::pack_panels_kn_into(qkv.data() + r0 * ld + 2 * h + c0, len, d, ld, static_cast<int>(nr),
                                values.data());
    }
    k.gemm_direct(qkv.data() + (r0 + q0) * ld + c0, ld, keys.data(), d, len, scores.data(), len, 0,
                  qn);
    softmax_block(scores.data(), qn, len, q0, head, scale);
    k.gemm_direct(scores.data(), len, values.data(), len, d,
                  context.data() + (r0 + q0) * context.cols() + c0, context.cols(), 0, qn);
  }

  // head_simd with both products on the bf16 kernels: Q and P rounded to bf16 per block,
  // K and V^T packed as the GEMM's bf16 weights once per head.
  void head_bf16(const Eigen::Map<Matrix<float>>& qkv, Eigen::Index r0, Eigen::Index q0,
                 Eigen::Index qn, Eigen::Index len, Eigen::Index c0, Eigen::Index head,
                 Eigen::Map<Matrix<float>>& scores, typename Workspace<T>::Bf16Head& s,
                 Eigen::Map<Matrix<float>>& context, float scale, bool pack) const {
    namespace bf = exec::bf16;
    constexpr exec::Isa isa = exec::Isa::avx512;
    const std::int64_t h = qkv.cols() / 3, ld = qkv.cols(), d = head_size_;
    const float* rows = qkv.data() + r0 * ld;
    if (pack) {
      bf::pack_strided(rows + h + c0, len, d, ld, 1, isa, s.keys);        // W = K [len x d]
      bf::pack_strided(rows + 2 * h + c0, d, len, 1, ld, isa, s.values);  // W = V^T [d x len]
    }
    bf::prepare(s.queries, qn, d, isa);
    bf::convert_rows(rows + q0 * ld + c0, ld, 0, qn, s.queries);
    bf::gemm(s.queries, 0, qn, s.keys, 0, len, nullptr, scores.data(), len);
    softmax_block(scores.data(), qn, len, q0, head, scale);
    bf::prepare(s.probabilities, qn, len, isa);
    bf::convert_rows(scores.data(), len, 0, qn, s.probabilities);
    bf::gemm(s.probabilities, 0, qn, s.values, 0, d, nullptr,
             context.data() + (r0 + q0) * context.cols() + c0, context.cols());
  }

  bool bf16_products_ = false;
  std::shared_ptr<const RelativeBias<T>> bias_;
  Eigen::Index heads_ = 0, head_size_ = 0;
  double eps_ = 1e-12;
  exec::Linear<T> qkv_, out_;
  Tensor<T> gamma_, beta_;
  const exec::F32Kernels* kernels_ = nullptr;
};

}  // namespace bertpp
