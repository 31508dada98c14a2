// SPDX-License-Identifier: Apache-2.0
// bf16 GEMM: y = x W^T (+ bias) with x and W rounded to bf16 (round to nearest even) and
// the products summed in fp32.
//
//   pack:         W (n, k) float -> bf16 (n, k)            (once, at load; half the bytes)
//   convert_rows: x (m, k) float -> bf16 (m, k)            (per call)
//   gemm:         y[r, c] = sum_k bf16(x[r, k]) * bf16(W[c, k]) (fp32) + bias[c]
//
// Paths: generic (plain C++), avx2 (bf16 weights widened to fp32 in registers, FMA; the
// activations are kept as fp32 holding bf16 values), avx512 (AVX512_BF16 vdpbf16ps on
// pairs of k), amx (tdpbf16ps on the same layout, 16 rows x 32 k a tile; the k past the
// last full tile step, and the output stage, on avx512).
// The paths differ only in fp32 summation order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "bertpp/core/error.hpp"
#include "bertpp/exec/aligned.hpp"
#include "bertpp/exec/cpu.hpp"
#include "bertpp/exec/kernels/detail/amx.hpp"
#include "bertpp/exec/kernels/detail/common.hpp"
#include "bertpp/exec/kernels/detail/driver.hpp"
#include "bertpp/exec/kernels/detail/traits_bf16.hpp"

namespace bertpp::exec::bf16 {

using kernels_detail::Kernel;

/// @brief The bf16 bits of v, rounded to nearest, ties to even; a NaN stays a NaN (quiet).
inline std::uint16_t from_float(float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

/// @brief The float a bf16 holds (exact).
inline float to_float(std::uint16_t b) {
  const std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float v;
  std::memcpy(&v, &u, 4);
  return v;
}

/// @brief Packed bf16 weights, made once by pack() and read-only after (any number of
/// threads may run gemm() on one PackedWeights at once).
struct PackedWeights {
  Isa isa = Isa::generic;
  std::int64_t n = 0, k = 0;
  Kernel kernel = Kernel::generic;
  std::int64_t block = 1;            // column_block of the kernel
  AlignedBuffer<std::uint8_t> data;  // generic: bf16 (n, k); else bf16 pairs in panels

  /// @brief The bf16 bits of W[c, kk] (for tests and debugging).
  std::uint16_t value(std::int64_t c, std::int64_t kk) const;
};

/// @brief Activations converted for the kernel; reusable: prepare() allocates only when
/// m * k grows past what it held before.
struct ConvertedRows {
  Isa isa = Isa::generic;
  std::int64_t m = 0, k = 0;
  Kernel kernel = Kernel::generic;
  std::int64_t stride = 0;           // bytes between rows
  AlignedBuffer<std::uint8_t> data;  // generic, avx512: bf16; avx2: fp32 of the bf16 values

  /// @brief The bf16 bits of x[r, kk] as converted.
  std::uint16_t value(std::int64_t r, std::int64_t kk) const;
};

namespace detail {

inline bool kernel_supported(Kernel kern) {
  return kernels_detail::kernel_runs(kern, cpu().has_avx512_bf16());
}
using kernels_detail::kernel_block;
using kernels_detail::kernel_of;

/// @throws ConfigError naming `fn` when the CPU (or the build) cannot run `kern`.
inline void require_kernel(const char* fn, Kernel kern) {
  if (!kernel_supported(kern))
    throw ConfigError(std::string(fn) + ": kernel " + kernels_detail::kernel_name(kern) +
                      (kern == Kernel::avx512_emulated && !BERTPP_KERNELS_EMULATED
                           ? " is not compiled in (define BERTPP_KERNELS_EMULATED=1)"
                           : " is not supported on this CPU"));
}

/// @brief pack() for one kernel, including the emulated AVX-512 one (tests use it).
/// @throws ConfigError when the CPU cannot run `kern`.
inline PackedWeights pack(const float* w, std::int64_t n, std::int64_t k, Kernel kern) {
  require_kernel("bf16::pack", kern);
  if (n < 0 || k < 0 || (w == nullptr && n * k > 0))
    kernels_detail::fail("bf16::pack", "bad shape or null weights");
  PackedWeights p;
  p.kernel = kern;
  p.isa = kernels_detail::isa_of(kern);
  p.n = n;
  p.k = k;
  p.block = kernel_block(kern);
  const auto bv = [&](std::int64_t c, std::int64_t kk) { return from_float(w[c * k + kk]); };
  if (kern == Kernel::generic) {
    p.data.resize(static_cast<std::size_t>(n * k * 2));
    auto* d = reinterpret_cast<std::uint16_t*>(p.data.data());
    for (std::int64_t i = 0; i < n * k; ++i) d[i] = from_float(w[i]);
  } else {
    kernels_detail::pack_panels<std::uint16_t>(p.data, n, k, p.block, 2, bv);
  }
  return p;
}

/// @brief prepare() for one kernel (tests use it for the emulated AVX-512 kernel).
inline void prepare(ConvertedRows& a, std::int64_t m, std::int64_t k, Kernel kern) {
  if (m < 0 || k < 0) kernels_detail::fail("bf16::prepare", "negative shape");
  a.kernel = kern;
  a.isa = kernels_detail::isa_of(kern);
  a.m = m;
  a.k = k;
  const std::int64_t kp = kern == Kernel::generic ? k : kernels_detail::round_up(k, 2);
  a.stride = kp * (kern == Kernel::avx2 ? 4 : 2);
  a.data.resize(static_cast<std::size_t>(m * a.stride));
}

inline void gemm_generic(const ConvertedRows& x, std::int64_t m0, std::int64_t m1,
                         const PackedWeights& w, std::int64_t n0, std::int64_t n1,
                         const float* bias, float* y, std::int64_t ldy) {
  const std::int64_t k = w.k;
  const auto* bw = reinterpret_cast<const std::uint16_t*>(w.data.data());
  for (std::int64_t r = m0; r < m1; ++r) {
    const auto* bx = reinterpret_cast<const std::uint16_t*>(x.data.data() + r * x.stride);
    for (std::int64_t c = n0; c < n1; ++c) {
      float acc = 0.0f;
      for (std::int64_t kk = 0; kk < k; ++kk) acc += to_float(bx[kk]) * to_float(bw[c * k + kk]);
      y[r * ldy + c] = bias ? acc + bias[c] : acc;
    }
  }
}

}  // namespace detail

/// @brief Whether this CPU (and build) runs the bf16 kernels of `isa`: generic always,
/// avx2 with AVX2+FMA, avx512 with AVX512_BF16, amx with AMX granted (amx_enabled());
/// `best` always (it resolves to one).
inline bool supported(Isa isa) {
  return isa == Isa::best || detail::kernel_supported(detail::kernel_of(isa));
}

/// @brief The highest supported bf16 family not above resolve_isa(wanted).
/// @throws ConfigError when BERTPP_ISA holds an unknown name.
inline Isa pick(Isa wanted = Isa::best) {
  return kernels_detail::highest_supported(wanted, supported);
}

/// @brief Column granularity of gemm() tiles for `isa`: generic 1, avx2 16, avx512 and amx 32.
inline std::int64_t column_block(Isa isa) {
  return detail::kernel_block(detail::kernel_of(isa == Isa::best ? pick() : isa));
}

/// @brief Rounds W (n, k) row-major to bf16 (nearest even, NaN kept) in the layout of
/// `isa` (`best`: pick()).
/// @throws ConfigError when the CPU cannot run `isa`.
inline PackedWeights pack(const float* w, std::int64_t n, std::int64_t k, Isa isa) {
  return detail::pack(w, n, k, detail::kernel_of(isa == Isa::best ? pick() : isa));
}

/// @brief Sizes `a` for m rows of k activations for `isa` (no allocation when m * k does
/// not grow). Call once per gemm call, before convert_rows.
/// @throws InputError for a negative shape.
inline void prepare(ConvertedRows& a, std::int64_t m, std::int64_t k, Isa isa) {
  detail::prepare(a, m, k, detail::kernel_of(isa == Isa::best ? pick() : isa));
}

/// @brief Converts rows [r0, r1) of x (m, k), leading dimension ldx, to bf16 (nearest even)
/// in a's layout. Disjoint row ranges may run concurrently; never allocates.
/// @throws InputError for rows outside [0, a.m) or ldx < k.
inline void convert_rows(const float* x, std::int64_t ldx, std::int64_t r0, std::int64_t r1,
                         ConvertedRows& a) {
  kernels_detail::check_rows("bf16::convert_rows", r0, r1, a.m, ldx, a.k, x);
  const std::int64_t k = a.k;
  for (std::int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * ldx;
    std::uint8_t* row = a.data.data() + r * a.stride;
    std::int64_t done = 0;
#if BERTPP_KERNELS_SIMD
    if (a.kernel != Kernel::generic && cpu().has_avx2())
      done = kernels_detail::convert_row_avx2(xr, k, a.kernel == Kernel::avx2, row);
#endif
    if (a.kernel == Kernel::avx2) {
      auto* d = reinterpret_cast<float*>(row);
      const std::int64_t kp = a.stride / 4;
      for (std::int64_t kk = done; kk < kp; ++kk)
        d[kk] = kk < k ? to_float(from_float(xr[kk])) : 0.f;
    } else {
      auto* d = reinterpret_cast<std::uint16_t*>(row);
      const std::int64_t kp = a.stride / 2;
      for (std::int64_t kk = done; kk < kp; ++kk) d[kk] = kk < k ? from_float(xr[kk]) : 0;
    }
  }
}

namespace detail {

#if BERTPP_KERNELS_SIMD
/// One row of W (k contiguous floats) as bf16 pairs, pair g at dst[g * block]; returns the
/// pairs written (k / 8 * 4), the caller writes the rest.
BERTPP_TARGET_AVX2 inline std::int64_t pack_row_pairs_avx2(const float* row, std::int64_t k,
                                                           std::uint32_t* dst, std::int64_t block) {
  std::int64_t kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    const __m256i w =
        _mm256_srli_epi32(kernels_detail::round_to_bf16_high(_mm256_loadu_ps(row + kk)), 16);
    const __m128i p =
        _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(w, w), 0x08));
    std::uint32_t* d = dst + (kk / 2) * block;
    d[0] = static_cast<std::uint32_t>(_mm_cvtsi128_si32(p));
    d[block] = static_cast<std::uint32_t>(_mm_extract_epi32(p, 1));
    d[2 * block] = static_cast<std::uint32_t>(_mm_extract_epi32(p, 2));
    d[3 * block] = static_cast<std::uint32_t>(_mm_extract_epi32(p, 3));
  }
  return kk / 2;
}

/// Columns [0, n) of two rows a and b (b null: zeros) as bf16 pairs (a low, b high),
/// 8 at a time into dst[c]; returns the count written (n rounded down to 8).
BERTPP_TARGET_AVX2 inline std::int64_t pair_rows_avx2(const float* a, const float* b,
                                                      std::int64_t n, std::uint32_t* dst) {
  std::int64_t c = 0;
  for (; c + 8 <= n; c += 8) {
    const __m256i lo =
        _mm256_srli_epi32(kernels_detail::round_to_bf16_high(_mm256_loadu_ps(a + c)), 16);
    const __m256i hi =
        b ? kernels_detail::round_to_bf16_high(_mm256_loadu_ps(b + c)) : _mm256_setzero_si256();
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + c), _mm256_or_si256(lo, hi));
  }
  return c;
}
#endif

/// pack_strided() for one kernel (tests use it for the emulated AVX-512 kernel).
/// @throws ConfigError when the CPU cannot run `kern`; InputError for a bad shape.
inline void pack_strided(const float* w, std::int64_t n, std::int64_t k, std::int64_t sc,
                         std::int64_t sk, Kernel kern, PackedWeights& out) {
  require_kernel("bf16::pack_strided", kern);
  if (n < 0 || k < 0 || (w == nullptr && n * k > 0) || (sc != 1 && sk != 1))
    kernels_detail::fail("bf16::pack_strided", "bad shape, null weights, or neither stride 1");
  out.kernel = kern;
  out.isa = kernels_detail::isa_of(kern);
  out.n = n;
  out.k = k;
  out.block = kernel_block(kern);
  if (kern == Kernel::generic) {
    out.data.resize(static_cast<std::size_t>(n * k * 2));
    auto* d = reinterpret_cast<std::uint16_t*>(out.data.data());
    for (std::int64_t c = 0; c < n; ++c)
      for (std::int64_t kk = 0; kk < k; ++kk) d[c * k + kk] = from_float(w[c * sc + kk * sk]);
    return;
  }
  const std::int64_t block = out.block, groups = (k + 1) / 2, panels = (n + block - 1) / block;
  out.data.resize(static_cast<std::size_t>(panels * groups * block * 4));
  auto* d32 = reinterpret_cast<std::uint32_t*>(out.data.data());
  if (n % block != 0)  // the last panel's columns past n
    std::memset(d32 + (panels - 1) * groups * block, 0,
                static_cast<std::size_t>(groups * block * 4));
  const auto bits = [&](std::int64_t c, std::int64_t kk) -> std::uint32_t {
    return kk < k ? from_float(w[c * sc + kk * sk]) : 0u;
  };
#if BERTPP_KERNELS_SIMD
  const bool simd = cpu().has_avx2();
#endif
  if (sk == 1) {  // a row of W is contiguous (attention's keys): one row at a time
    for (std::int64_t c = 0; c < n; ++c) {
      std::uint32_t* dst = d32 + (c / block) * groups * block + c % block;
      std::int64_t g = 0;
#if BERTPP_KERNELS_SIMD
      if (simd) g = pack_row_pairs_avx2(w + c * sc, k, dst, block);
#endif
      for (; g < groups; ++g) dst[g * block] = bits(c, 2 * g) | bits(c, 2 * g + 1) << 16;
    }
    return;
  }
  // A column of W is contiguous (attention's values, read as V^T): the pair (kk, kk + 1) of
  // every column comes from two source rows.
  for (std::int64_t g = 0; g < groups; ++g) {
    const float* a = w + 2 * g * sk;
    const float* b = 2 * g + 1 < k ? w + (2 * g + 1) * sk : nullptr;
    for (std::int64_t p = 0; p < panels; ++p) {
      const std::int64_t c0 = p * block, cn = std::min(block, n - c0);
      std::uint32_t* dst = d32 + (p * groups + g) * block;
      std::int64_t j = 0;
#if BERTPP_KERNELS_SIMD
      if (simd) j = pair_rows_avx2(a + c0, b ? b + c0 : nullptr, cn, dst);
#endif
      for (; j < cn; ++j) dst[j] = bits(c0 + j, 2 * g) | bits(c0 + j, 2 * g + 1) << 16;
    }
  }
}

}  // namespace detail

/// @brief Packs W (n, k), W[c, kk] = w[c * sc + kk * sk], into `out` for the kernels of
/// `isa` (`best`: pick()), reusing out's buffer (it allocates only when the size grows).
/// One of the strides is 1: sk = 1 (rows of W contiguous: attention's keys, W = K) or
/// sc = 1 (columns contiguous: its values, W = V^T). Same bits as pack() of that W.
/// @throws ConfigError when the CPU cannot run `isa`; InputError for a bad shape.
inline void pack_strided(const float* w, std::int64_t n, std::int64_t k, std::int64_t sc,
                         std::int64_t sk, Isa isa, PackedWeights& out) {
  detail::pack_strided(w, n, k, sc, sk, detail::kernel_of(isa == Isa::best ? pick() : isa), out);
}

/// @brief The tile rows [m0, m1) x columns [n0, n1) of y (m, n), leading dimension ldy:
/// y[r, c] = sum_k x[r, k] W[c, k] over the bf16 values, in fp32, + bias[c] (bias may be
/// null), then `post` on each finished block of y (the whole tile on the generic path). n0 must be
/// a multiple of column_block(w.isa). Tiles that do not overlap may run concurrently on shared x
/// and w; never allocates.
/// @throws InputError when x and w were made for different kernels or k, or the tile is
/// outside y.
inline void gemm(const ConvertedRows& x, std::int64_t m0, std::int64_t m1, const PackedWeights& w,
                 std::int64_t n0, std::int64_t n1, const float* bias, float* y, std::int64_t ldy,
                 const PostOp& post = {}) {
  kernels_detail::check_tile("bf16::gemm", x.kernel, w.kernel, x.m, x.k, w.n, w.k, w.block, m0, m1,
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
  o.w = w.data.data();
  o.groups = (w.k + 1) / 2;
  switch (w.kernel) {
    case Kernel::avx2:
      kernels_detail::drive_avx2::tile<kernels_detail::Bf16Avx2>(o, m0, m1, n0, n1, bias, y, ldy);
      break;
    case Kernel::avx512:
      kernels_detail::drive_avx512_bf16::tile<kernels_detail::Bf16Avx512>(o, m0, m1, n0, n1, bias,
                                                                          y, ldy);
      break;
    case Kernel::amx:
#if BERTPP_KERNELS_AMX
      kernels_detail::amx_tile<kernels_detail::Bf16Avx512, false>(o, m0, m1, n0, n1, bias, y, ldy);
#endif
      break;
    case Kernel::avx512_emulated:
#if BERTPP_KERNELS_EMULATED
      kernels_detail::drive_avx2::tile<kernels_detail::Bf16Avx512Emulated>(o, m0, m1, n0, n1, bias,
                                                                           y, ldy);
#endif
      break;
    case Kernel::generic:
      break;
  }
#endif
}

inline std::uint16_t PackedWeights::value(std::int64_t c, std::int64_t kk) const {
  if (kernel == Kernel::generic)
    return reinterpret_cast<const std::uint16_t*>(data.data())[c * k + kk];
  return kernels_detail::panel_value<std::uint16_t>(data, k, block, 2, c, kk);
}

inline std::uint16_t ConvertedRows::value(std::int64_t r, std::int64_t kk) const {
  const std::uint8_t* row = data.data() + r * stride;
  if (kernel == Kernel::avx2) {
    std::uint32_t u;
    std::memcpy(&u, row + 4 * kk, 4);
    return static_cast<std::uint16_t>(u >> 16);
  }
  std::uint16_t v;
  std::memcpy(&v, row + 2 * kk, 2);
  return v;
}

}  // namespace bertpp::exec::bf16
