// SPDX-License-Identifier: Apache-2.0
// int8 GEMM: y = x W^T (+ bias) with W per-output-channel symmetric int8 and x per-row
// asymmetric u8 (a scale and a zero point per row; detail/quantize.hpp gives the rules).
//
//   pack:          W (n, k) float -> qw (n, k) in [-127, 127], sw (n)          (once, at load)
//   quantize_rows: x (m, k) float -> qx (m, k) in [0, 255], sx (m), zx (m)      (per call)
//   gemm:          y[r, c] = float(sum_k (qx[r, k] - zx[r]) * qw[c, k]) * sx[r] * sw[c] + bias[c]
//
// The integer sum is exact on every path (it fits int32 for k <= max_k), so the paths
// differ only in the rounding of the final multiply and add. Paths: generic (plain C++),
// avx2 (int16 qx - zx pairs and vpmaddwd; vpmaddubsw would saturate), avx512 (AVX512_VNNI
// vpdpbusd on the u8 codes, the extra zx[r] * sum_k qw[c, k] removed at the end), amx
// (tdpbusd on the same codes and layout, 16 rows x 64 k a tile; the k past the last full
// tile step, and the output stage, on avx512).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "bertpp/core/error.hpp"
#include "bertpp/exec/aligned.hpp"
#include "bertpp/exec/cpu.hpp"
#include "bertpp/exec/kernels/detail/amx.hpp"
#include "bertpp/exec/kernels/detail/common.hpp"
#include "bertpp/exec/kernels/detail/driver.hpp"
#include "bertpp/exec/kernels/detail/quantize.hpp"
#include "bertpp/exec/kernels/detail/traits_int8.hpp"

namespace bertpp::exec::int8 {

using kernels_detail::Kernel;

/// @brief Packed int8 weights, made once by pack() and read-only after (any number of
/// threads may run gemm() on one PackedWeights at once).
struct PackedWeights {
  Isa isa = Isa::generic;
  std::int64_t n = 0, k = 0;
  Kernel kernel = Kernel::generic;
  std::int64_t block = 1;            // column_block of the kernel
  AlignedBuffer<std::uint8_t> data;  // generic: int8 (n, k); else panels (common.hpp)
  AlignedBuffer<float> scale;        // sw, [round_up(n, block)], padding 1
  AlignedBuffer<std::int32_t> comp;  // VNNI: sum_k qw[c, k] (times zx at the end); else empty

  /// @brief The quantized weight qw[c, kk] (for tests and debugging).
  int value(std::int64_t c, std::int64_t kk) const;
};

/// @brief Per-row quantized activations in the layout the kernel wants; reusable: prepare()
/// allocates only when m * k grows past what it held before.
struct QuantizedRows {
  Isa isa = Isa::generic;
  std::int64_t m = 0, k = 0;
  Kernel kernel = Kernel::generic;
  std::int64_t stride = 0;           // bytes between rows
  AlignedBuffer<std::uint8_t> data;  // generic, avx512: u8 qx; avx2: int16 qx - zx
  AlignedBuffer<float> scale;        // sx, [m]
  AlignedBuffer<std::int32_t> zero;  // zx, [m], in [0, 255]

  /// @brief The centred code qx[r, kk] - zx[r], in [-255, 255] (x ~ sx * that).
  int value(std::int64_t r, std::int64_t kk) const;
};

/// @brief The longest k the int8 kernels take: 255 * 127 * k must fit in int32.
inline constexpr std::int64_t max_k = 2147483647 / (255 * 127);

namespace detail {

inline bool kernel_supported(Kernel kern) {
  return kernels_detail::kernel_runs(kern, cpu().has_avx512_vnni());
}
using kernels_detail::kernel_block;
using kernels_detail::kernel_of;

// k values per 32-bit lane of the packed layouts.
inline std::int64_t kernel_group(Kernel kern) {
  return kern == Kernel::avx2 ? 2 : kern == Kernel::generic ? 1 : 4;
}

using kernels_detail::quantize_value;
using kernels_detail::symmetric_scale;

/// @brief pack() for one kernel, including the emulated AVX-512 one (tests use it).
/// @throws ConfigError when the CPU cannot run `kern`; WeightError for a non-finite weight;
/// InputError for a bad shape or k > max_k.
inline PackedWeights pack(const float* w, std::int64_t n, std::int64_t k, Kernel kern) {
  if (!kernel_supported(kern))
    throw ConfigError(std::string("int8::pack: kernel ") + kernels_detail::kernel_name(kern) +
                      (kern == Kernel::avx512_emulated && !BERTPP_KERNELS_EMULATED
                           ? " is not compiled in (define BERTPP_KERNELS_EMULATED=1)"
                           : " is not supported on this CPU"));
  if (n < 0 || k < 0 || (w == nullptr && n * k > 0))
    kernels_detail::fail("int8::pack", "bad shape or null weights");
  if (k > max_k)
    kernels_detail::fail("int8::pack",
                         "k=" + std::to_string(k) + " is over " + std::to_string(max_k) +
                             ", past which an int32 sum of 255 * 127 * k can overflow");
  PackedWeights p;
  p.kernel = kern;
  p.isa = kernels_detail::isa_of(kern);
  p.n = n;
  p.k = k;
  p.block = kernel_block(kern);
  const std::int64_t np = kernels_detail::round_up(n, p.block);
  p.scale.resize(static_cast<std::size_t>(np));
  AlignedBuffer<std::int8_t> q(static_cast<std::size_t>(n * k));
  for (std::int64_t c = 0; c < np; ++c) p.scale[c] = 1.0f;
  for (std::int64_t c = 0; c < n; ++c) {
    const float s = symmetric_scale(w + c * k, k);
    if (std::isnan(s))
      throw WeightError("int8::pack: weight row " + std::to_string(c) +
                        " holds a non-finite value");
    p.scale[c] = s;
    for (std::int64_t kk = 0; kk < k; ++kk)
      q[c * k + kk] = static_cast<std::int8_t>(quantize_value(w[c * k + kk], s));
  }
  const auto qv = [&](std::int64_t c, std::int64_t kk) { return q[c * k + kk]; };
  switch (kern) {
    case Kernel::generic:
      p.data.resize(static_cast<std::size_t>(n * k));
      if (n * k > 0) std::memcpy(p.data.data(), q.data(), static_cast<std::size_t>(n * k));
      break;
    case Kernel::avx2:
      kernels_detail::pack_panels<std::int16_t>(p.data, n, k, p.block, 2, qv);
      break;
    case Kernel::avx512:
    case Kernel::avx512_emulated:
    case Kernel::amx:
      kernels_detail::pack_panels<std::int8_t>(p.data, n, k, p.block, 4, qv);
      p.comp.assign_zero(static_cast<std::size_t>(np));
      for (std::int64_t c = 0; c < n; ++c) {
        std::int64_t sum = 0;
        for (std::int64_t kk = 0; kk < k; ++kk) sum += q[c * k + kk];
        p.comp[c] = static_cast<std::int32_t>(sum);  // |sum| <= 127 * k
      }
      break;
  }
  return p;
}

/// @brief prepare() for one kernel (tests use it for the emulated AVX-512 kernel).
inline void prepare(QuantizedRows& q, std::int64_t m, std::int64_t k, Kernel kern) {
  if (m < 0 || k < 0) kernels_detail::fail("int8::prepare", "negative shape");
  q.kernel = kern;
  q.isa = kernels_detail::isa_of(kern);
  q.m = m;
  q.k = k;
  const std::int64_t g = kernel_group(kern);
  q.stride = kern == Kernel::generic ? k : kernels_detail::round_up(k, g) * (4 / g);
  q.data.resize(static_cast<std::size_t>(m * q.stride));
  q.scale.resize(static_cast<std::size_t>(m));
  q.zero.resize(static_cast<std::size_t>(m));
}

inline void gemm_generic(const QuantizedRows& x, std::int64_t m0, std::int64_t m1,
                         const PackedWeights& w, std::int64_t n0, std::int64_t n1,
                         const float* bias, float* y, std::int64_t ldy) {
  const std::int64_t k = w.k;
  const auto* qw = reinterpret_cast<const std::int8_t*>(w.data.data());
  for (std::int64_t r = m0; r < m1; ++r) {
    const std::uint8_t* qx = x.data.data() + r * x.stride;
    const std::int32_t zx = x.zero[r];
    for (std::int64_t c = n0; c < n1; ++c) {
      std::int32_t acc = 0;
      for (std::int64_t kk = 0; kk < k; ++kk) acc += (qx[kk] - zx) * qw[c * k + kk];
      float v = static_cast<float>(acc) * x.scale[r] * w.scale[c];
      if (bias) v += bias[c];
      y[r * ldy + c] = v;
    }
  }
}

}  // namespace detail

/// @brief Whether this CPU (and build) runs the int8 kernels of `isa`: generic always,
/// avx2 with AVX2+FMA, avx512 with AVX512_VNNI, amx with AMX granted (amx_enabled());
/// `best` always (it resolves to one).
inline bool supported(Isa isa) {
  return isa == Isa::best || detail::kernel_supported(detail::kernel_of(isa));
}

/// @brief The highest supported int8 family not above resolve_isa(wanted).
/// @throws ConfigError when BERTPP_ISA holds an unknown name.
inline Isa pick(Isa wanted = Isa::best) {
  return kernels_detail::highest_supported(wanted, supported);
}

/// @brief Column granularity of gemm() tiles for `isa` (n0 must be a multiple): generic 1,
/// avx2 16, avx512 and amx 32.
inline std::int64_t column_block(Isa isa) {
  return detail::kernel_block(detail::kernel_of(isa == Isa::best ? pick() : isa));
}

/// @brief Quantizes W (n, k) row-major per output channel: sw[c] = max|W[c, :]| / 127 (1 for
/// an all-zero row), qw = nearbyint(W / sw) (ties to even) clamped to [-127, 127], laid
/// out for `isa` (`best`: pick()).
/// @throws ConfigError when the CPU cannot run `isa`; WeightError for a non-finite weight;
/// InputError for a bad shape or k > max_k (133144).
inline PackedWeights pack(const float* w, std::int64_t n, std::int64_t k, Isa isa) {
  return detail::pack(w, n, k, detail::kernel_of(isa == Isa::best ? pick() : isa));
}

/// @brief Sizes `q` for m rows of k activations for the kernels of `isa` (no allocation
/// when m * k does not grow). Call once per gemm call, before quantize_rows.
/// @throws InputError for a negative shape.
inline void prepare(QuantizedRows& q, std::int64_t m, std::int64_t k, Isa isa) {
  detail::prepare(q, m, k, detail::kernel_of(isa == Isa::best ? pick() : isa));
}

/// @brief Quantizes rows [r0, r1) of x (m, k), leading dimension ldx, into q, per row:
/// lo = min(0, min x[r, :]), hi = max(0, max x[r, :]), sx[r] = (hi - lo) / 255 (1 for a
/// zero row), zx[r] = nearbyint(-lo / sx) and qx = nearbyint(x * (1 / sx)) + zx in [0, 255]. A row
/// holding a non-finite value gets sx = NaN (its outputs are NaN). Disjoint row ranges may
/// run concurrently; never allocates.
/// @throws InputError for rows outside [0, q.m) or ldx < k.
inline void quantize_rows(const float* x, std::int64_t ldx, std::int64_t r0, std::int64_t r1,
                          QuantizedRows& q) {
  kernels_detail::check_rows("int8::quantize_rows", r0, r1, q.m, ldx, q.k, x);
  const std::int64_t elems = q.kernel == Kernel::avx2 ? q.stride / 2 : q.stride;
#if BERTPP_KERNELS_SIMD
  if (q.kernel == Kernel::avx512 || q.kernel == Kernel::amx) {  // only made where the CPU runs it
    for (std::int64_t r = r0; r < r1; ++r) {
      const kernels_detail::RowCode c = kernels_detail::quantize_row_avx512(
          x + r * ldx, q.k, q.data.data() + r * q.stride, elems);
      q.scale[r] = c.scale;
      q.zero[r] = c.zero;
    }
    return;
  }
  if (q.kernel != Kernel::generic && cpu().has_avx2()) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const kernels_detail::RowCode c = kernels_detail::quantize_row_avx2(
          x + r * ldx, q.k, q.kernel, q.data.data() + r * q.stride, elems);
      q.scale[r] = c.scale;
      q.zero[r] = c.zero;
    }
    return;
  }
#endif
  for (std::int64_t r = r0; r < r1; ++r) {
    const kernels_detail::RowCode c = kernels_detail::quantize_row_scalar(
        x + r * ldx, q.k, q.kernel, q.data.data() + r * q.stride, elems);
    q.scale[r] = c.scale;
    q.zero[r] = c.zero;
  }
}

/// @brief The tile rows [m0, m1) x columns [n0, n1) of y (m, n), leading dimension ldy:
/// y[r, c] = float(sum_k (qx[r, k] - zx[r]) qw[c, k]) * sx[r] * sw[c] + bias[c] (bias may be
/// null), then `post` on each finished block of y (the whole tile on the generic path).
/// n0 must be a multiple of column_block(w.isa). Tiles that do not overlap may run
/// concurrently on shared x and w; never allocates.
/// @throws InputError when x and w were made for different kernels or k, or the tile is
/// outside y.
inline void gemm(const QuantizedRows& x, std::int64_t m0, std::int64_t m1, const PackedWeights& w,
                 std::int64_t n0, std::int64_t n1, const float* bias, float* y, std::int64_t ldy,
                 const PostOp& post = {}) {
  kernels_detail::check_tile("int8::gemm", x.kernel, w.kernel, x.m, x.k, w.n, w.k, w.block, m0, m1,
                             n0, n1, y, ldy);
  if (m0 == m1 || n0 == n1) return;
  if (w.kernel == Kernel::generic) {
    detail::gemm_generic(x, m0, m1, w, n0, n1, bias, y, ldy);
    post(y, ldy, m0, m1, n0, n1);
    return;
  }
#if BERTPP_KERNELS_SIMD
  kernels_detail::Operands o;
  o.post = post;
  o.x = x.data.data();
  o.x_stride = x.stride;
  o.row_scale = x.scale.data();
  o.row_zero = x.zero.data();
  o.w = w.data.data();
  o.groups = (w.k + detail::kernel_group(w.kernel) - 1) / detail::kernel_group(w.kernel);
  o.col_scale = w.scale.data();
  o.comp = w.comp.empty() ? nullptr : w.comp.data();
  switch (w.kernel) {
    case Kernel::avx2:
      kernels_detail::drive_avx2::tile<kernels_detail::Int8Avx2>(o, m0, m1, n0, n1, bias, y, ldy);
      break;
    case Kernel::avx512:
      kernels_detail::drive_avx512_vnni::tile<kernels_detail::Int8Avx512>(o, m0, m1, n0, n1, bias,
                                                                          y, ldy);
      break;
    case Kernel::amx:
#if BERTPP_KERNELS_AMX
      kernels_detail::amx_tile<kernels_detail::Int8Avx512, true>(o, m0, m1, n0, n1, bias, y, ldy);
#endif
      break;
    case Kernel::avx512_emulated:
#if BERTPP_KERNELS_EMULATED
      kernels_detail::drive_avx2::tile<kernels_detail::Int8Avx512Emulated>(o, m0, m1, n0, n1, bias,
                                                                           y, ldy);
#endif
      break;
    case Kernel::generic:
      break;
  }
#endif
}

inline int PackedWeights::value(std::int64_t c, std::int64_t kk) const {
  switch (kernel) {
    case Kernel::generic:
      return reinterpret_cast<const std::int8_t*>(data.data())[c * k + kk];
    case Kernel::avx2:
      return kernels_detail::panel_value<std::int16_t>(data, k, block, 2, c, kk);
    case Kernel::avx512:
    case Kernel::avx512_emulated:
    case Kernel::amx:
      return kernels_detail::panel_value<std::int8_t>(data, k, block, 4, c, kk);
  }
  return 0;
}

inline int QuantizedRows::value(std::int64_t r, std::int64_t kk) const {
  const std::uint8_t* row = data.data() + r * stride;
  switch (kernel) {
    case Kernel::generic:
      return static_cast<int>(row[kk]) - zero[r];
    case Kernel::avx2: {
      std::int16_t v;
      std::memcpy(&v, row + 2 * kk, 2);
      return v;
    }
    case Kernel::avx512:
    case Kernel::avx512_emulated:
    case Kernel::amx:
      return static_cast<int>(row[kk]) - zero[r];
  }
  return 0;
}

}  // namespace bertpp::exec::int8
