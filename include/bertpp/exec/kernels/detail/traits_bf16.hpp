// SPDX-License-Identifier: Apache-2.0
// Vector traits of the bf16 kernels (see traits_int8.hpp for the roles). Weights are bf16
// pairs (k even in the low half of a 32-bit lane, k odd in the high half), accumulation
// is fp32, the output stage adds the bias.
//
//  Bf16Widen8 (AVX2): each weight vector is widened to two fp32 vectors in registers
//          (even k: lane << 16, odd k: lane & 0xFFFF0000) and used by one FMA per row;
//          activations are fp32 holding bf16-rounded values. Two phases per pair.
//  Bf16x16 (AVX-512 BF16): activations are bf16 pairs; step = vdpbf16ps.
//  Bf16x16Emulated (AVX2): Bf16x16 with each zmm as two ymm and vdpbf16ps done as its
//          documented two fused steps, odd element first, then even (the products of two
//          bf16 are exact in fp32). Unlike vdpbf16ps it does not flush denormals.
#pragma once

#include <cstdint>
#include <cstring>

#include "bertpp/exec/kernels/detail/common.hpp"

#if BERTPP_KERNELS_SIMD
namespace bertpp::exec::kernels_detail {

struct Bf16Widen8 {
  static constexpr int lanes = 8, phases = 2, wbytes = 32, xbytes = 8;
  using Acc = __m256;
  using W = __m256;
  using B = __m256;
  BERTPP_TARGET_AVX2 static void save(std::uint8_t* p, Acc a) {
    _mm256_storeu_ps(reinterpret_cast<float*>(p), a);
  }
  BERTPP_TARGET_AVX2 static Acc restore(const std::uint8_t* p) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
  BERTPP_TARGET_AVX2 static Acc zero() { return _mm256_setzero_ps(); }
  template <int PH>
  BERTPP_TARGET_AVX2 static W load_w(const std::uint8_t* p) {
    const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
    if constexpr (PH == 0) {
      return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    } else {
      return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(-65536)));
    }
  }
  template <int PH>
  BERTPP_TARGET_AVX2 static B bcast(const std::uint8_t* p) {
    return _mm256_broadcast_ss(reinterpret_cast<const float*>(p) + PH);
  }
  BERTPP_TARGET_AVX2 static Acc step(Acc a, B x, W w) { return _mm256_fmadd_ps(x, w, a); }
  BERTPP_TARGET_AVX2 static void store(float* d, Acc a, float, std::int32_t, const float*,
                                       const std::int32_t*, const float* bias) {
    _mm256_storeu_ps(d, _mm256_add_ps(a, _mm256_loadu_ps(bias)));
  }
};

struct Bf16x16 {
  static constexpr int lanes = 16, phases = 1, wbytes = 64, xbytes = 4;
  using Acc = __m512;
  using W = __m512bh;
  using B = __m512bh;
  BERTPP_TARGET_AVX512_BF16 static void save(std::uint8_t* p, Acc a) {
    _mm512_storeu_ps(reinterpret_cast<void*>(p), a);
  }
  BERTPP_TARGET_AVX512_BF16 static Acc restore(const std::uint8_t* p) {
    return _mm512_loadu_ps(reinterpret_cast<const void*>(p));
  }
  BERTPP_TARGET_AVX512_BF16 static Acc zero() { return _mm512_setzero_ps(); }
  template <int PH>
  BERTPP_TARGET_AVX512_BF16 static W load_w(const std::uint8_t* p) {
    return (__m512bh)_mm512_load_si512(reinterpret_cast<const void*>(p));
  }
  template <int PH>
  BERTPP_TARGET_AVX512_BF16 static B bcast(const std::uint8_t* p) {
    return (__m512bh)_mm512_set1_epi32(load32(p));
  }
  BERTPP_TARGET_AVX512_BF16 static Acc step(Acc a, B x, W w) { return _mm512_dpbf16_ps(a, x, w); }
  BERTPP_TARGET_AVX512_BF16 static void store(float* d, Acc a, float, std::int32_t, const float*,
                                              const std::int32_t*, const float* bias) {
    _mm512_storeu_ps(d, _mm512_add_ps(a, _mm512_loadu_ps(bias)));
  }
};

struct Bf16x16Emulated : Emulated512Loads {
  struct V2f {
    __m256 lo, hi;
  };
  using Acc = V2f;
  BERTPP_TARGET_AVX2 static void save(std::uint8_t* p, Acc a) {
    _mm256_storeu_ps(reinterpret_cast<float*>(p), a.lo);
    _mm256_storeu_ps(reinterpret_cast<float*>(p + 32), a.hi);
  }
  BERTPP_TARGET_AVX2 static Acc restore(const std::uint8_t* p) {
    return {_mm256_loadu_ps(reinterpret_cast<const float*>(p)),
            _mm256_loadu_ps(reinterpret_cast<const float*>(p + 32))};
  }
  BERTPP_TARGET_AVX2 static Acc zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  BERTPP_TARGET_AVX2 static __m256 even(__m256i v) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
  BERTPP_TARGET_AVX2 static __m256 odd(__m256i v) {
    return _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(-65536)));
  }
  // vdpbf16ps on 8 lanes: a += x.odd * w.odd; a += x.even * w.even (each rounded once).
  BERTPP_TARGET_AVX2 static __m256 dpbf16(__m256 a, __m256i x, __m256i w) {
    a = _mm256_fmadd_ps(odd(x), odd(w), a);
    return _mm256_fmadd_ps(even(x), even(w), a);
  }
  BERTPP_TARGET_AVX2 static Acc step(Acc a, B x, W w) {
    return {dpbf16(a.lo, x, w.lo), dpbf16(a.hi, x, w.hi)};
  }
  BERTPP_TARGET_AVX2 static void store(float* d, Acc a, float, std::int32_t, const float*,
                                       const std::int32_t*, const float* bias) {
    _mm256_storeu_ps(d, _mm256_add_ps(a.lo, _mm256_loadu_ps(bias)));
    _mm256_storeu_ps(d + 8, _mm256_add_ps(a.hi, _mm256_loadu_ps(bias + 8)));
  }
};

/// Rounds 8 floats to bf16 (nearest even; a NaN stays a quiet NaN), returned as the 32-bit
/// patterns with the bf16 in the high half and zeros below (the fp32 of the bf16 value).
BERTPP_TARGET_AVX2 inline __m256i round_to_bf16_high(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), odd);
  const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF)),
                                         _mm256_set1_epi32(0x7F800000));
  const __m256i quiet = _mm256_or_si256(u, _mm256_set1_epi32(0x00400000));
  return _mm256_and_si256(_mm256_blendv_epi8(rounded, quiet, nan), _mm256_set1_epi32(-65536));
}

/// One row of k floats to the avx2 layout (fp32 of the bf16 values) or the bf16 layout,
/// 8 at a time; writes [0, k) rounded down to 8 and returns that count (the caller does
/// the rest).
BERTPP_TARGET_AVX2 inline std::int64_t convert_row_avx2(const float* x, std::int64_t k,
                                                        bool as_fp32, std::uint8_t* row) {
  std::int64_t kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    const __m256i h = round_to_bf16_high(_mm256_loadu_ps(x + kk));
    if (as_fp32) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + 4 * kk), h);
    } else {
      const __m256i w = _mm256_srli_epi32(h, 16);
      const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(w, w), 0x08);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(row + 2 * kk), _mm256_castsi256_si128(p));
    }
  }
  return kk;
}

/// Block shapes. AVX2: 5 x 2 (10 accumulators, 2 widened weights, the mask and a broadcast:
/// 6 rows spill with GCC 12); AVX-512: 8 x 2 (16 of 32 zmm).
struct Bf16Avx2 {
  using V = Bf16Widen8;
  static constexpr int MR = 5, NV = 2;
};
struct Bf16Avx512 {
  using V = Bf16x16;
  static constexpr int MR = 8, NV = 2;
};
struct Bf16Avx512Emulated {
  using V = Bf16x16Emulated;
  static constexpr int MR = 8, NV = 2;
};

}  // namespace bertpp::exec::kernels_detail
#endif
