// SPDX-License-Identifier: Apache-2.0
// int8 quantization: weights symmetric per output channel (at load), activations asymmetric
// per row (at run time, as ONNX Runtime's DynamicQuantizeLinear does per tensor). Scalar,
// AVX2 and AVX-512 give the same results: the minimum and maximum are exact, the reciprocal
// and the products are IEEE in each, and vcvtps2dq rounds like nearbyint in the current mode
// (ties to even by default).
//
// weights:     w (k) -> s = max|w| / 127 (1 when all zero), q = nearbyint(w / s) in [-127, 127]
// activations: x (k) -> lo = min(0, min x), hi = max(0, max x),
//              s = hi / 255 - lo / 255 (1 when both are zero; NaN when a value is not finite),
//              z = nearbyint(-lo / s) in [0, 255], q = nearbyint(x * r) + z clamped to [0, 255]
//              with r = 1 / s (x / s where 1 / s overflows: s below 2^-128),
//              so x ~ s * (q - z) and 0 is exact. Stored as u8 q (generic, avx512) or as int16
//              q - z (avx2), padded to the row stride with codes of 0 (x = 0).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "bertpp/exec/kernels/detail/common.hpp"

namespace bertpp::exec::kernels_detail {

/// The symmetric int8 code of v for scale s: nearbyint(v / s) in the default rounding mode
/// (to nearest, ties to even), clamped to [-127, 127].
inline int quantize_value(float v, float s) {
  float q = std::nearbyint(v / s);
  q = q > 127.0f ? 127.0f : q;
  q = q < -127.0f ? -127.0f : q;
  return static_cast<int>(q);
}

/// max |v[i]| / 127 over n values (1 when all are zero); NaN when one is not finite.
inline float symmetric_scale(const float* v, std::int64_t n) {
  float amax = 0.0f;
  bool finite = true;
  for (std::int64_t i = 0; i < n; ++i) {
    const float a = std::fabs(v[i]);
    finite = finite && a <= std::numeric_limits<float>::max();
    amax = a > amax ? a : amax;
  }
  if (!finite) return std::numeric_limits<float>::quiet_NaN();
  return amax == 0.0f ? 1.0f : amax / 127.0f;
}

/// The scale and zero point of one activation row.
struct RowCode {
  float scale = 1.0f;
  std::int32_t zero = 0;
  float inverse = 1.0f;  ///< 1 / scale, rounded once (infinite: divide instead)
  bool multiplies() const { return inverse <= std::numeric_limits<float>::max(); }
};

/// The row code for the range [lo, hi] (lo <= 0 <= hi), or NaN when not `finite`.
inline RowCode row_code(float lo, float hi, bool finite) {
  if (!finite) return {std::numeric_limits<float>::quiet_NaN(), 0};
  if (hi == 0.0f && lo == 0.0f) return {1.0f, 0};
  RowCode c;
  c.scale = hi / 255.0f - lo / 255.0f;  // (hi - lo) / 255 without overflow
  if (c.scale == 0.0f) c.scale = std::numeric_limits<float>::denorm_min();  // underflow
  float z = std::nearbyint(-lo / c.scale);
  z = z > 255.0f ? 255.0f : z;
  c.zero = static_cast<std::int32_t>(z < 0.0f ? 0.0f : z);
  c.inverse = 1.0f / c.scale;
  return c;
}

/// The unsigned code of v: nearbyint(v * (1 / s)) + z clamped to [0, 255].
inline int quantize_unsigned(float v, const RowCode& c) {
  float q =
      std::nearbyint(c.multiplies() ? v * c.inverse : v / c.scale) + static_cast<float>(c.zero);
  q = q > 255.0f ? 255.0f : q;
  q = q < 0.0f ? 0.0f : q;
  return static_cast<int>(q);
}

/// The row code after folding x[from, k) into the range [lo, hi] and `finite` (the SIMD
/// loops' remainder, or the whole row); `finite` is updated.
inline RowCode finish_row_code(const float* x, std::int64_t from, std::int64_t k, float lo,
                               float hi, bool& finite) {
  for (std::int64_t i = from; i < k; ++i) {
    finite = finite && std::fabs(x[i]) <= std::numeric_limits<float>::max();
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  return row_code(lo, hi, finite);
}

/// Writes codes [from, stride_elems) of one row (the code of 0 past k, and on a non-finite
/// row), one code each.
inline void quantize_tail(const float* x, std::int64_t k, const RowCode& c, bool bad, Kernel kern,
                          std::uint8_t* row, std::int64_t from, std::int64_t stride_elems) {
  for (std::int64_t kk = from; kk < stride_elems; ++kk) {
    const int q = kk < k && !bad ? quantize_unsigned(x[kk], c) : c.zero;
    if (kern == Kernel::avx2) {
      const auto v = static_cast<std::int16_t>(q - c.zero);
      std::memcpy(row + 2 * kk, &v, 2);
    } else {
      row[kk] = static_cast<std::uint8_t>(q);
    }
  }
}

/// One row, scalar; returns its code.
inline RowCode quantize_row_scalar(const float* x, std::int64_t k, Kernel kern, std::uint8_t* row,
                                   std::int64_t stride_elems) {
  float lo = 0.0f, hi = 0.0f;
  bool finite = true;
  const RowCode c = finish_row_code(x, 0, k, lo, hi, finite);
  quantize_tail(x, k, c, !finite, kern, row, 0, stride_elems);
  return c;
}

#if BERTPP_KERNELS_SIMD
/// One row for the avx2 (int16) or u8 (generic, avx512) layouts, 8 values at a time;
/// returns its code.
BERTPP_TARGET_AVX2 inline RowCode quantize_row_avx2(const float* x, std::int64_t k, Kernel kern,
                                                    std::uint8_t* row, std::int64_t stride_elems) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256 big = _mm256_set1_ps(std::numeric_limits<float>::max());
  __m256 vmin = _mm256_setzero_ps(), vmax = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
  std::int64_t kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    const __m256 v = _mm256_loadu_ps(x + kk);
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_and_ps(v, abs_mask), big, _CMP_NLE_UQ));
    vmin = _mm256_min_ps(vmin, v);
    vmax = _mm256_max_ps(vmax, v);
  }
  alignas(32) float lows[8], highs[8];
  _mm256_store_ps(lows, vmin);
  _mm256_store_ps(highs, vmax);
  float lo = 0.0f, hi = 0.0f;
  for (int i = 0; i < 8; ++i) {
    lo = lows[i] < lo ? lows[i] : lo;
    hi = highs[i] > hi ? highs[i] : hi;
  }
  bool finite = _mm256_movemask_ps(bad) == 0;
  const RowCode c = finish_row_code(x, kk, k, lo, hi, finite);
  if (!finite || !c.multiplies()) {
    quantize_tail(x, k, c, !finite, kern, row, 0, stride_elems);
    return c;
  }
  const __m256 vs = _mm256_set1_ps(c.inverse);
  const __m256i vz = _mm256_set1_epi32(c.zero);
  const __m256i q_lo = _mm256_setzero_si256(), q_hi = _mm256_set1_epi32(255);
  kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + kk), vs));
    q = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(q, vz), q_lo), q_hi);
    if (kern == Kernel::avx2) {
      q = _mm256_sub_epi32(q, vz);
      const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q, q), 0x08);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(row + 2 * kk), _mm256_castsi256_si128(w));
    } else {
      const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q, q), 0x08);
      const __m128i b = _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_castsi256_si128(w));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(row + kk), b);
    }
  }
  quantize_tail(x, k, c, false, kern, row, kk, stride_elems);
  return c;
}

// GCC 12 reports its own AVX-512 intrinsics' `__Y = __Y` placeholders as uninitialized when
// they are inlined into target-attribute functions (as in detail/kernels_f32.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
/// One row for the u8 layout (generic, avx512), 16 values at a time; returns its code.
BERTPP_TARGET_AVX512_VNNI inline RowCode quantize_row_avx512(const float* x, std::int64_t k,
                                                             std::uint8_t* row,
                                                             std::int64_t stride_elems) {
  const __m512 big = _mm512_set1_ps(std::numeric_limits<float>::max());
  __m512 vmin = _mm512_setzero_ps(), vmax = _mm512_setzero_ps();
  __mmask16 bad = 0;
  std::int64_t kk = 0;
  for (; kk + 16 <= k; kk += 16) {
    const __m512 v = _mm512_loadu_ps(x + kk);
    bad |= _mm512_cmp_ps_mask(_mm512_abs_ps(v), big, _CMP_NLE_UQ);
    vmin = _mm512_min_ps(vmin, v);
    vmax = _mm512_max_ps(vmax, v);
  }
  alignas(64) float lows[16], highs[16];  // (GCC 12 warns on _mm512_reduce_min_ps)
  _mm512_store_ps(lows, vmin);
  _mm512_store_ps(highs, vmax);
  float lo = 0.0f, hi = 0.0f;  // a -0.0 lane counts as 0, as in the scalar loop
  for (int i = 0; i < 16; ++i) {
    lo = lows[i] < lo ? lows[i] : lo;
    hi = highs[i] > hi ? highs[i] : hi;
  }
  bool finite = bad == 0;
  const RowCode c = finish_row_code(x, kk, k, lo, hi, finite);
  if (!finite || !c.multiplies()) {
    quantize_tail(x, k, c, !finite, Kernel::avx512, row, 0, stride_elems);
    return c;
  }
  const __m512 vr = _mm512_set1_ps(c.inverse);
  const __m512i vz = _mm512_set1_epi32(c.zero);
  const __m512i q_lo = _mm512_setzero_si512(), q_hi = _mm512_set1_epi32(255);
  for (kk = 0; kk + 16 <= k; kk += 16) {
    __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + kk), vr));
    q = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(q, vz), q_lo), q_hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + kk), _mm512_cvtepi32_epi8(q));
  }
  quantize_tail(x, k, c, false, Kernel::avx512, row, kk, stride_elems);
  return c;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

}  // namespace bertpp::exec::kernels_detail
