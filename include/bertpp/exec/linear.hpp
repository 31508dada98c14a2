// SPDX-License-Identifier: Apache-2.0
// exec::Linear: y = act(x W^T + b) + residual with the weight prepared once, at load, for the
// kernel chosen from the CPU's features. Every dense layer of the models and heads runs here.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "bertpp/core/context.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/core/types.hpp"
#include "bertpp/exec/cpu.hpp"
#include "bertpp/exec/detail/kernels_f32.hpp"
#include "bertpp/exec/kernels/bf16.hpp"
#include "bertpp/exec/kernels/int8.hpp"
#include "bertpp/io/weight_store.hpp"

namespace bertpp {

/// @brief The storage and compute type of the linear layers' weights.
enum class Precision {
  f32,   ///< float weights, fp32 GEMMs (the default)
  bf16,  ///< bfloat16 weights and activations in the GEMMs, fp32 accumulation and elsewhere
  int8,  ///< int8 weights per output channel, activations quantized per row at run time
};

/// @brief "f32", "bf16" or "int8".
inline const char* precision_name(Precision p) {
  switch (p) {
    case Precision::f32:
      return "f32";
    case Precision::bf16:
      return "bf16";
    case Precision::int8:
      return "int8";
  }
  return "?";
}

/// @brief Parses a precision name as precision_name() writes it.
/// @throws ConfigError for another name, naming `where`.
inline Precision precision_from_name(const std::string& name, const std::string& where) {
  if (name == "f32") return Precision::f32;
  if (name == "bf16") return Precision::bf16;
  if (name == "int8") return Precision::int8;
  throw ConfigError(where + ": unknown precision '" + name + "'; expected f32, bf16 or int8");
}

/// @brief How a model's layers are prepared: the kernel family and the weights' precision.
struct ExecOptions {
  /// Highest kernel family to use; the CPU's best by default. The environment variable
  /// BERTPP_ISA (generic | avx2 | avx512 | amx) lowers it further.
  exec::Isa isa = exec::Isa::best;
  /// Storage and compute type of the dense layers' weights. bf16 uses AMX tiles where the
  /// CPU and OS have them, else AVX512_BF16 dot products; elsewhere it keeps bf16 weights
  /// (half the memory) and widens them to fp32 in registers (AVX2), or runs the generic
  /// path. int8 uses AMX tiles, else AVX512_VNNI, else exact int16 dot products on AVX2,
  /// else the generic path.
  Precision precision = Precision::f32;
  /// Tokens the encoder runs through a layer at a time: a batch of more tokens runs as
  /// groups of consecutive whole sequences of at most this many tokens (consecutive longer
  /// sequences: one group), every layer over each group in turn, so that a group's
  /// activations stay in the core's cache between the layer's products; on a context of
  /// several threads, each thread runs the groups of its own share of the batch (a lane),
  /// where the batch splits evenly, else the whole batch runs as one group on all threads
  /// (docs/design-notes.md, "Layer groups"). 0: the default, 128; negative: always one
  /// group. The results are the same bit for bit either way.
  std::int64_t group_tokens = 0;
};

/// @brief The fp32 SIMD family a layer of scalar T prepared with `options` uses for its
/// row kernels (LayerNorm, softmax), or null for the scalar path (double, generic).
template <typename T>
inline const exec::F32Kernels* layer_kernels(const ExecOptions& options) {
  if constexpr (std::is_same_v<T, float>) {
    const auto& k = exec::f32_kernels(exec::resolve_isa(options.isa));
    return k.simd() ? &k : nullptr;
  } else {
    (void)options;
    return nullptr;
  }
}

namespace exec {

/// @brief The scalar form of each activation (the generic path and the reference).
template <typename T>
inline T apply_act(Act act, T x) {
  switch (act) {
    case Act::none:
      return x;
    case Act::gelu:
      return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
    case Act::gelu_tanh:
      return T(0.5) * x *
             (T(1) + std::tanh(T(0.79788456080286535588) * (x + T(0.044715) * x * x * x)));
    case Act::relu:
      return x > T(0) ? x : T(0);
    case Act::silu:
      return x / (T(1) + std::exp(-x));
    case Act::tanh:
      return std::tanh(x);
  }
  return x;
}

/// @brief A dense layer, HF's `nn.Linear`: weight [out x in], optional bias [out].
/// Immutable after construction; forward may run from several threads at once (each with
/// its own Context).
template <typename T>
class Linear {
 public:
  Linear() = default;

  /// @brief Prepares `weight` [out x in] (and `bias` [out], or an empty Tensor) for the
  /// kernels `options` and the CPU allow. The original tensors are kept only where the
  /// generic (Eigen) path needs them.
  /// @throws ConfigError for a precision other than f32 on a double model.
  /// `op` names the layer in a Context's profile (a string literal).
  Linear(Tensor<T> weight, Tensor<T> bias, const ExecOptions& options = {},
         const char* op = "linear")
      : out_(weight.shape().at(0)), in_(weight.shape().at(1)), op_(op), bias_(std::move(bias)) {
    isa_ = resolve_isa(options.isa);
    precision_ = options.precision;
    if (precision_ != Precision::f32 && !std::is_same_v<T, float>)
      throw ConfigError(std::string("precision ") + precision_name(precision_) +
                        " needs a float model (BertModel<float>)");
    if constexpr (std::is_same_v<T, float>) {
      // The epilogue (activation, residual) of the reduced-precision GEMMs runs on the
      // fp32 family's vector kernels when there is one.
      const auto& f32 = f32_kernels(isa_);
      if (precision_ == Precision::int8) {
        q8_ = int8::pack(weight.data(), out_, in_, int8::pick(options.isa));
        kernels_ = f32.simd() ? &f32 : nullptr;
        weight.release_pages();
        return;
      }
      if (precision_ == Precision::bf16) {
        b16_ = bf16::pack(weight.data(), out_, in_, bf16::pick(options.isa));
        kernels_ = f32.simd() ? &f32 : nullptr;
        weight.release_pages();
        return;
      }
      kernels_ = &f32;
      if (kernels_->simd()) {
        packed_ = pack_panels(weight.data(), out_, in_, kernels_->nr);
        weight.release_pages();  // the packed copy is the one used from now on
        return;
      }
      kernels_ = nullptr;
    }
    weight_ = std::move(weight);
  }

  /// @brief Output features (rows of W).
  std::int64_t out_features() const noexcept { return out_; }
  /// @brief Input features (columns of W).
  std::int64_t in_features() const noexcept { return in_; }
  /// @brief The kernel family this layer runs ("generic", "avx2", "avx512", "amx").
  const char* kernel() const noexcept {
    if (precision_ == Precision::int8) return isa_name(q8_.isa);
    if (precision_ == Precision::bf16) return isa_name(b16_.isa);
    return kernels_ ? kernels_->name : "generic";
  }
  /// @brief The weights' precision.
  Precision precision() const noexcept { return precision_; }
  /// @brief The weight as given [out x in] where the generic path keeps it (a view of the
  /// checkpoint's memory when the dtype matches); empty when it was packed for a kernel.
  const Tensor<T>& weight() const noexcept { return weight_; }

  /// @brief y [m x out] = act(x [m x in] W^T + b) + residual [m x out] (rows `ldx`, `ldy`,
  /// `ldr` apart). `residual` may be null; it may not alias x. y may not alias x.
  void forward(const T* x, std::int64_t m, std::int64_t ldx, T* y, std::int64_t ldy, Act act,
               const T* residual, std::int64_t ldr, Context& ctx) const {
    if (m == 0 || out_ == 0) return;
    const ScopedOpTimer timer(ctx, op_);
    if constexpr (std::is_same_v<T, float>) {
      if (precision_ == Precision::int8) {
        run_quantized<int8::QuantizedRows>(x, m, ldx, y, ldy, act, residual, ldr, ctx);
        return;
      }
      if (precision_ == Precision::bf16) {
        run_quantized<bf16::ConvertedRows>(x, m, ldx, y, ldy, act, residual, ldr, ctx);
        return;
      }
      if (kernels_) {
        run_simd(x, m, ldx, y, ldy, act, residual, ldr, ctx);
        return;
      }
    }
    run_generic(x, m, ldx, y, ldy, act, residual, ldr, ctx);
  }

  /// @brief As above on whole matrices: y is resized to [x.rows() x out].
  void forward(const Matrix<T>& x, Matrix<T>& y, Context& ctx, Act act = Act::none,
               const Matrix<T>* residual = nullptr) const {
    check_input(x.cols());
    y.resize(x.rows(), out_);
    forward(x.data(), x.rows(), x.cols(), y.data(), out_, act,
            residual ? residual->data() : nullptr, out_, ctx);
  }

 private:
  void check_input(std::int64_t cols) const {
    if (cols != in_)
      throw InputError("linear layer [" + std::to_string(out_) + " x " + std::to_string(in_) +
                       "]: input has " + std::to_string(cols) + " columns");
  }

  // Eigen GEMM on column chunks of 16 (whole SIMD panels), then the scalar epilogue.
  void run_generic(const T* x, std::int64_t m, std::int64_t ldx, T* y, std::int64_t ldy, Act act,
                   const T* residual, std::int64_t ldr, Context& ctx) const {
    using Strided = Eigen::Map<const Matrix<T>, 0, Eigen::OuterStride<>>;
    using StridedOut = Eigen::Map<Matrix<T>, 0, Eigen::OuterStride<>>;
    const Strided xm(x, m, in_, Eigen::OuterStride<>(ldx));
    const auto w = weight_.matrix();
    const T* b = bias_.empty() ? nullptr : bias_.data();
    auto chunk = [&](std::size_t c0, std::size_t c1) {
      const auto n0 = static_cast<Eigen::Index>(c0), nn = static_cast<Eigen::Index>(c1 - c0);
      StridedOut ym(y + n0, m, nn, Eigen::OuterStride<>(ldy));
      ym.noalias() = xm * w.middleRows(n0, nn).transpose();
      for (std::int64_t r = 0; r < m; ++r) {
        T* row = y + r * ldy;
        const T* res = residual ? residual + r * ldr : nullptr;
        for (auto c = n0; c < n0 + nn; ++c) {
          T v = row[c] + (b ? b[c] : T(0));
          v = apply_act(act, v);
          row[c] = res ? v + res[c] : v;
        }
      }
    };
    if (ctx.num_threads() > 1 && m * out_ >= 4096) {
      const std::size_t blocks = static_cast<std::size_t>((out_ + 15) / 16);
      ctx.parallel_for(blocks, [&](std::size_t b0, std::size_t b1) {
        chunk(b0 * 16, std::min<std::size_t>(b1 * 16, static_cast<std::size_t>(out_)));
      });
    } else {
      chunk(0, static_cast<std::size_t>(out_));
    }
  }

  // The packed GEMM, its tiles spread over the context's threads: column panels first,
  // rows (in whole register tiles) when there are fewer panels than threads.
  void run_simd(const float* x, std::int64_t m, std::int64_t ldx, float* y, std::int64_t ldy,
                Act act, const float* residual, std::int64_t ldr, Context& ctx) const {
    Epilogue ep;
    ep.act = act;
    ep.bias = bias_.empty() ? nullptr : bias_.data();
    ep.residual = residual;
    ep.ld_residual = ldr;
    const auto& k = *kernels_;
    const std::int64_t panels = (out_ + k.nr - 1) / k.nr;
    const auto threads = static_cast<std::int64_t>(ctx.num_threads());
    const double flops =
        2.0 * static_cast<double>(m) * static_cast<double>(out_) * static_cast<double>(in_);
    if (threads == 1 || flops < 2e5) {
      k.gemm(x, ldx, packed_.data(), in_, out_, y, ldy, 0, m, 0, panels, ep, k.kc, k.mc);
      return;
    }
    const std::int64_t col_parts = std::min(threads, panels);
    const std::int64_t row_blocks = (m + k.mr - 1) / k.mr;
    const std::int64_t row_parts =
        std::max<std::int64_t>(1, std::min(threads / col_parts, row_blocks));
    const std::int64_t tasks = col_parts * row_parts;
    ctx.parallel_for(static_cast<std::size_t>(tasks), [&](std::size_t t0, std::size_t t1) {
      for (auto t = static_cast<std::int64_t>(t0); t < static_cast<std::int64_t>(t1); ++t) {
        const std::int64_t cp = t % col_parts, rp = t / col_parts;
        const std::int64_t p0 = panels * cp / col_parts, p1 = panels * (cp + 1) / col_parts;
        const std::int64_t r0 = std::min(m, row_blocks * rp / row_parts * k.mr);
        const std::int64_t r1 = std::min(m, row_blocks * (rp + 1) / row_parts * k.mr);
        if (p0 < p1 && r0 < r1)
          k.gemm(x, ldx, packed_.data(), in_, out_, y, ldy, r0, r1, p0, p1, ep, k.kc, k.mc);
      }
    });
  }

  // The activation and residual of the int8 / bf16 GEMMs, run by the kernel on each block
  // of y it finishes (a few rows x 32 columns, still in L1).
  struct PostArgs {
    const F32Kernels* kernels = nullptr;
    Epilogue ep;
  };
  static void apply_post(const void* arg, float* y, std::int64_t ldy, std::int64_t r0,
                         std::int64_t r1, std::int64_t c0, std::int64_t c1) {
    const auto& a = *static_cast<const PostArgs*>(arg);
    if (a.kernels) {
      a.kernels->epilogue(y, ldy, r0, r1, c0, c1, a.ep);
      return;
    }
    for (std::int64_t r = r0; r < r1; ++r)
      for (std::int64_t c = c0; c < c1; ++c) {
        float& v = y[r * ldy + c];
        v = apply_act(a.ep.act, v);
        if (a.ep.residual) v += a.ep.residual[r * a.ep.ld_residual + c];
      }
  }

  // int8 / bf16: activations prepared once for all rows (split over the threads), then the
  // GEMM tiles (columns in the kernel's blocks, rows when there are fewer blocks than
  // threads), the activation and residual fused into the kernel's output stage (PostOp).
  template <typename Rows>
  void run_quantized(const float* x, std::int64_t m, std::int64_t ldx, float* y, std::int64_t ldy,
                     Act act, const float* residual, std::int64_t ldr, Context& ctx) const {
    constexpr bool is_int8 = std::is_same_v<Rows, int8::QuantizedRows>;
    auto& rows = ctx.scratch<Rows>();
    const Isa isa = is_int8 ? q8_.isa : b16_.isa;
    const std::int64_t block = is_int8 ? int8::column_block(isa) : bf16::column_block(isa);
    if constexpr (is_int8)
      int8::prepare(rows, m, in_, isa);
    else
      bf16::prepare(rows, m, in_, isa);
    const auto threads = static_cast<std::int64_t>(ctx.num_threads());
    auto prep = [&](std::size_t r0, std::size_t r1) {
      if constexpr (is_int8)
        int8::quantize_rows(x, ldx, static_cast<std::int64_t>(r0), static_cast<std::int64_t>(r1),
                            rows);
      else
        bf16::convert_rows(x, ldx, static_cast<std::int64_t>(r0), static_cast<std::int64_t>(r1),
                           rows);
    };
    if (threads > 1 && m > 1)
      ctx.parallel_for(static_cast<std::size_t>(m), prep);
    else
      prep(0, static_cast<std::size_t>(m));
    PostArgs post_args;
    post_args.kernels = kernels_;
    post_args.ep.act = act;
    post_args.ep.residual = residual;
    post_args.ep.ld_residual = ldr;
    PostOp post;
    if (act != Act::none || residual) {
      post.fn = &apply_post;
      post.arg = &post_args;
    }
    const float* bias = bias_.empty() ? nullptr : bias_.data();
    auto tile = [&](std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1) {
      if constexpr (is_int8)
        int8::gemm(rows, r0, r1, q8_, c0, c1, bias, y, ldy, post);
      else
        bf16::gemm(rows, r0, r1, b16_, c0, c1, bias, y, ldy, post);
    };
    const std::int64_t blocks = (out_ + block - 1) / block;
    if (threads == 1) {
      tile(0, m, 0, out_);
      return;
    }
    const std::int64_t col_parts = std::min(threads, blocks);
    const std::int64_t row_parts = std::max<std::int64_t>(1, std::min(threads / col_parts, m));
    const std::int64_t tasks = col_parts * row_parts;
    ctx.parallel_for(static_cast<std::size_t>(tasks), [&](std::size_t t0, std::size_t t1) {
      for (auto t = static_cast<std::int64_t>(t0); t < static_cast<std::int64_t>(t1); ++t) {
        const std::int64_t cp = t % col_parts, rp = t / col_parts;
        const std::int64_t c0 = std::min(out_, blocks * cp / col_parts * block);
        const std::int64_t c1 = std::min(out_, blocks * (cp + 1) / col_parts * block);
        const std::int64_t r0 = m * rp / row_parts, r1 = m * (rp + 1) / row_parts;
        if (c0 < c1 && r0 < r1) tile(r0, r1, c0, c1);
      }
    });
  }

  std::int64_t out_ = 0, in_ = 0;
  const char* op_ = "linear";
  Precision precision_ = Precision::f32;
  int8::PackedWeights q8_;
  bf16::PackedWeights b16_;
  Isa isa_ = Isa::generic;
  Tensor<T> weight_, bias_;
  const F32Kernels* kernels_ = nullptr;
  AlignedBuffer<float> packed_;
};

}  // namespace exec
}  // namespace bertpp
