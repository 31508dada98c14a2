// SPDX-License-Identifier: Apache-2.0
// Per-row symmetric int8 quantization of activations, scalar and AVX2 (same results: the
// maximum is exact, the division is IEEE in both, and vcvtps2dq rounds like nearbyint in
// the current mode, ties to even by default).
//
// x (k) float -> s = max|x| / 127 (1 when all zero; NaN when one is not finite),
//                q = nearbyint(x / s) clamped to [-127, 127] (0 on a non-finite row),
// stored as int8 (generic), int16 (avx2) or u8 q + 128 (avx512), padded to the row stride.
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

inline float scale_of_max(float amax, bool finite) {
  if (!finite) return std::numeric_limits<float>::quiet_NaN();
  return amax == 0.0f ? 1.0f : amax / 127.0f;
}

/// Writes codes [from, stride_elems) of one row (zero codes past k), one code each.
inline void quantize_tail(const float* x, std::int64_t k, float s, bool bad, Kernel kern,
                          std::uint8_t* row, std::int64_t from, std::int64_t stride_elems) {
  for (std::int64_t kk = from; kk < stride_elems; ++kk) {
    const int q = kk < k && !bad ? quantize_value(x[kk], s) : 0;
    if (kern == Kernel::generic) {
      row[kk] = static_cast<std::uint8_t>(static_cast<std::int8_t>(q));
    } else if (kern == Kernel::avx2) {
      const std::int16_t v = static_cast<std::int16_t>(q);
      std::memcpy(row + 2 * kk, &v, 2);
    } else {
      row[kk] = static_cast<std::uint8_t>(128 + q);
    }
  }
}

/// One row, scalar; returns its scale.
inline float quantize_row_scalar(const float* x, std::int64_t k, Kernel kern, std::uint8_t* row,
                                 std::int64_t stride_elems) {
  const float s = symmetric_scale(x, k);
  quantize_tail(x, k, s, std::isnan(s), kern, row, 0, stride_elems);
  return s;
}

#if BERTPP_KERNELS_SIMD
/// One row for the avx2 (int16) or avx512 (u8) layouts, 8 values at a time; returns its
/// scale.
BERTPP_TARGET_AVX2 inline float quantize_row_avx2(const float* x, std::int64_t k, Kernel kern,
                                                  std::uint8_t* row, std::int64_t stride_elems) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256 big = _mm256_set1_ps(std::numeric_limits<float>::max());
  __m256 vmax = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
  std::int64_t kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    const __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + kk), abs_mask);
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, big, _CMP_NLE_UQ));  // > max, or NaN
    vmax = _mm256_max_ps(vmax, a);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax);
  float amax = 0.0f;
  for (float v : lanes) amax = v > amax ? v : amax;
  bool finite = _mm256_movemask_ps(bad) == 0;
  for (std::int64_t t = kk; t < k; ++t) {
    const float a = std::fabs(x[t]);
    finite = finite && a <= std::numeric_limits<float>::max();
    amax = a > amax ? a : amax;
  }
  const float s = scale_of_max(amax, finite);
  if (!finite) {
    quantize_tail(x, k, s, true, kern, row, 0, stride_elems);
    return s;
  }
  const __m256 vs = _mm256_set1_ps(s);
  const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
  kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    __m256i q = _mm256_cvtps_epi32(_mm256_div_ps(_mm256_loadu_ps(x + kk), vs));
    q = _mm256_min_epi32(_mm256_max_epi32(q, lo), hi);
    if (kern == Kernel::avx2) {
      const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q, q), 0x08);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(row + 2 * kk), _mm256_castsi256_si128(w));
    } else {
      q = _mm256_add_epi32(q, _mm256_set1_epi32(128));
      const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q, q), 0x08);
      const __m128i b = _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_castsi256_si128(w));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(row + kk), b);
    }
  }
  quantize_tail(x, k, s, false, kern, row, kk, stride_elems);
  return s;
}
#endif

}  // namespace bertpp::exec::kernels_detail
