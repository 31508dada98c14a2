// SPDX-License-Identifier: Apache-2.0
// Vector traits of the int8 kernels: what one vector of 32-bit accumulators is, how a
// weight vector and an activation broadcast are loaded, the dot-product step and the
// output stage y = float(acc - row_zero * comp) * row_scale * col_scale + bias.
//
//  I16x8   (AVX2): lanes hold int16 pairs; step = vpmaddwd + vpaddd (exact: the activations
//          are the centred codes q - z, |q - z| <= 255, and |w| <= 127).
//  U8S8x16 (AVX-512 VNNI): lanes hold 4 bytes; step = vpdpbusd (u8 activation codes q times
//          s8 weights; the z * sum_k qw[c, k] this adds, z the row's zero point and the sum
//          `comp`, is removed at store).
//  U8S8x16Emulated (AVX2): U8S8x16 with each zmm as two ymm and vpdpbusd done with
//          vpmaddwd on the zero-extended / sign-extended even and odd bytes (exact).
#pragma once

#include <cstdint>
#include <cstring>

#include "bertpp/exec/kernels/detail/common.hpp"

#if BERTPP_KERNELS_SIMD
namespace bertpp::exec::kernels_detail {

struct I16x8 {
  static constexpr int lanes = 8, phases = 1, wbytes = 32, xbytes = 4;
  using Acc = __m256i;
  using W = __m256i;
  using B = __m256i;
  BERTPP_TARGET_AVX2 static void save(std::uint8_t* p, Acc a) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), a);
  }
  BERTPP_TARGET_AVX2 static Acc restore(const std::uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  BERTPP_TARGET_AVX2 static Acc zero() { return _mm256_setzero_si256(); }
  template <int PH>
  BERTPP_TARGET_AVX2 static W load_w(const std::uint8_t* p) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
  }
  template <int PH>
  BERTPP_TARGET_AVX2 static B bcast(const std::uint8_t* p) {
    return _mm256_set1_epi32(load32(p));
  }
  BERTPP_TARGET_AVX2 static Acc step(Acc a, B x, W w) {
    return _mm256_add_epi32(a, _mm256_madd_epi16(x, w));
  }
  BERTPP_TARGET_AVX2 static void store(float* d, Acc a, float rs, std::int32_t /*zero: in x*/,
                                       const float* cs, const std::int32_t* /*comp: none*/,
                                       const float* bias) {
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(a), _mm256_set1_ps(rs));
    v = _mm256_mul_ps(v, _mm256_loadu_ps(cs));
    _mm256_storeu_ps(d, _mm256_add_ps(v, _mm256_loadu_ps(bias)));
  }
};

struct U8S8x16 {
  static constexpr int lanes = 16, phases = 1, wbytes = 64, xbytes = 4;
  using Acc = __m512i;
  using W = __m512i;
  using B = __m512i;
  BERTPP_TARGET_AVX512_VNNI static void save(std::uint8_t* p, Acc a) {
    _mm512_storeu_si512(reinterpret_cast<void*>(p), a);
  }
  BERTPP_TARGET_AVX512_VNNI static Acc restore(const std::uint8_t* p) {
    return _mm512_loadu_si512(reinterpret_cast<const void*>(p));
  }
  BERTPP_TARGET_AVX512_VNNI static Acc zero() { return _mm512_setzero_si512(); }
  template <int PH>
  BERTPP_TARGET_AVX512_VNNI static W load_w(const std::uint8_t* p) {
    return _mm512_load_si512(reinterpret_cast<const void*>(p));
  }
  template <int PH>
  BERTPP_TARGET_AVX512_VNNI static B bcast(const std::uint8_t* p) {
    return _mm512_set1_epi32(load32(p));
  }
  // Per 32-bit lane: a + sum of 4 products u8(x byte) * s8(w byte), no saturation.
  BERTPP_TARGET_AVX512_VNNI static Acc step(Acc a, B x, W w) {
    return _mm512_dpbusd_epi32(a, x, w);
  }
  BERTPP_TARGET_AVX512_VNNI static void store(float* d, Acc a, float rs, std::int32_t rz,
                                              const float* cs, const std::int32_t* comp,
                                              const float* bias) {
    const __m512i sums = _mm512_loadu_si512(reinterpret_cast<const void*>(comp));
    a = _mm512_sub_epi32(a, _mm512_mullo_epi32(_mm512_set1_epi32(rz), sums));
    // (the masked form with a zero source: GCC 12 warns on _mm512_cvtepi32_ps's undefined one)
    __m512 v = _mm512_mask_cvtepi32_ps(_mm512_setzero_ps(), 0xFFFF, a);
    v = _mm512_mul_ps(v, _mm512_set1_ps(rs));
    v = _mm512_mul_ps(v, _mm512_loadu_ps(cs));
    _mm512_storeu_ps(d, _mm512_add_ps(v, _mm512_loadu_ps(bias)));
  }
};

struct U8S8x16Emulated : Emulated512Loads {
  using Acc = V2i;
  BERTPP_TARGET_AVX2 static void save(std::uint8_t* p, Acc a) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), a.lo);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 32), a.hi);
  }
  BERTPP_TARGET_AVX2 static Acc restore(const std::uint8_t* p) {
    return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32))};
  }
  BERTPP_TARGET_AVX2 static Acc zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256()}; }
  // vpdpbusd on 8 lanes: bytes 0 and 2 of each lane come out of the even-byte words
  // (zero-extended for x, sign-extended for w), bytes 1 and 3 out of the odd ones; each
  // vpmaddwd sums two products of at most 255 * 128 in magnitude, so all of it is exact.
  BERTPP_TARGET_AVX2 static __m256i dpbusd(__m256i a, __m256i x, __m256i w) {
    const __m256i x_even = _mm256_and_si256(x, _mm256_set1_epi16(0x00FF));
    const __m256i x_odd = _mm256_srli_epi16(x, 8);
    const __m256i w_even = _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8);
    const __m256i w_odd = _mm256_srai_epi16(w, 8);
    a = _mm256_add_epi32(a, _mm256_madd_epi16(x_even, w_even));
    return _mm256_add_epi32(a, _mm256_madd_epi16(x_odd, w_odd));
  }
  BERTPP_TARGET_AVX2 static Acc step(Acc a, B x, W w) {
    return {dpbusd(a.lo, x, w.lo), dpbusd(a.hi, x, w.hi)};
  }
  BERTPP_TARGET_AVX2 static void store8(float* d, __m256i a, float rs, std::int32_t rz,
                                        const float* cs, const std::int32_t* comp,
                                        const float* bias) {
    const __m256i sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(comp));
    a = _mm256_sub_epi32(a, _mm256_mullo_epi32(_mm256_set1_epi32(rz), sums));
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(a), _mm256_set1_ps(rs));
    v = _mm256_mul_ps(v, _mm256_loadu_ps(cs));
    _mm256_storeu_ps(d, _mm256_add_ps(v, _mm256_loadu_ps(bias)));
  }
  BERTPP_TARGET_AVX2 static void store(float* d, Acc a, float rs, std::int32_t rz, const float* cs,
                                       const std::int32_t* comp, const float* bias) {
    store8(d, a.lo, rs, rz, cs, comp, bias);
    store8(d + 8, a.hi, rs, rz, cs + 8, comp + 8, bias + 8);
  }
};

/// Block shapes: MR rows x NV vectors of accumulators (AVX2: 12 of 16 ymm; AVX-512: 16 of
/// 32 zmm), so column_block is 16 on AVX2 and 32 on AVX-512.
struct Int8Avx2 {
  using V = I16x8;
  static constexpr int MR = 6, NV = 2;
};
struct Int8Avx512 {
  using V = U8S8x16;
  static constexpr int MR = 8, NV = 2;
};
struct Int8Avx512Emulated {
  using V = U8S8x16Emulated;
  static constexpr int MR = 8, NV = 2;
};

}  // namespace bertpp::exec::kernels_detail
#endif
