// SPDX-License-Identifier: Apache-2.0
// Vector traits for the fp32 kernels: one struct per register kind, every function compiled
// for its instruction set with a per-function target attribute (no global -m flags), so a
// program built with plain -O2 carries every path and picks one at run time.
//
//   F32x8    AVX2 + FMA, __m256
//   F32x16e  the AVX-512 kernels' width (16 lanes) built from two __m256, AVX2 + FMA only:
//            the tests run the 16-wide kernels through it on machines without AVX-512
//   F32x16   AVX-512 F/BW/VL/DQ, __m512
//
// Each offers the same static functions (load, store, partial load/store, fma, min/max,
// select, integer exponent tricks, horizontal sums), so the kernels are written once.
#pragma once

#include "bertpp/exec/cpu.hpp"

#if BERTPP_X86 && (defined(__GNUC__) || defined(__clang__))
#define BERTPP_SIMD 1
#include <immintrin.h>
#define BERTPP_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define BERTPP_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
#else
#define BERTPP_SIMD 0
#endif

#if BERTPP_SIMD
namespace bertpp::exec::detail {

// -- AVX2: 8 floats ------------------------------------------------------------------------
struct F32x8 {
  using reg = __m256;
  static constexpr int width = 8;
  BERTPP_TARGET_AVX2 static reg zero() { return _mm256_setzero_ps(); }
  BERTPP_TARGET_AVX2 static reg set1(float v) { return _mm256_set1_ps(v); }
  /// lane indices 0, 1, ... as floats
  BERTPP_TARGET_AVX2 static reg iota() { return _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7); }
  BERTPP_TARGET_AVX2 static reg load(const float* p) { return _mm256_loadu_ps(p); }
  BERTPP_TARGET_AVX2 static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
  BERTPP_TARGET_AVX2 static __m256i tail_mask(int n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
  }
  /// the first n (0..8) lanes of p, zeros after
  BERTPP_TARGET_AVX2 static reg load_partial(const float* p, int n) {
    return _mm256_maskload_ps(p, tail_mask(n));
  }
  BERTPP_TARGET_AVX2 static void store_partial(float* p, reg v, int n) {
    _mm256_maskstore_ps(p, tail_mask(n), v);
  }
  BERTPP_TARGET_AVX2 static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  BERTPP_TARGET_AVX2 static reg sub(reg a, reg b) { return _mm256_sub_ps(a, b); }
  BERTPP_TARGET_AVX2 static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  BERTPP_TARGET_AVX2 static reg div(reg a, reg b) { return _mm256_div_ps(a, b); }
  /// a * b + c, one rounding
  BERTPP_TARGET_AVX2 static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  BERTPP_TARGET_AVX2 static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  BERTPP_TARGET_AVX2 static reg min(reg a, reg b) { return _mm256_min_ps(a, b); }
  BERTPP_TARGET_AVX2 static reg abs(reg a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  /// the sign bit of s on the magnitude of a
  BERTPP_TARGET_AVX2 static reg copysign(reg a, reg s) {
    const reg sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, a), _mm256_and_ps(sign, s));
  }
  /// a < b ? x : y, lane by lane
  BERTPP_TARGET_AVX2 static reg select_lt(reg a, reg b, reg x, reg y) {
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
  }
  /// round to nearest integer (ties to even), as float
  BERTPP_TARGET_AVX2 static reg round(reg a) {
    return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  /// round toward minus infinity, as float
  BERTPP_TARGET_AVX2 static reg floor(reg a) { return _mm256_floor_ps(a); }
  /// t[i] for lanes holding integers i in [0, 15] (as float); t: 16 floats
  BERTPP_TARGET_AVX2 static reg lookup16(const float* t, reg i) {
    const __m256i k = _mm256_cvttps_epi32(i);
    const reg lo = _mm256_permutevar8x32_ps(_mm256_loadu_ps(t), k);
    const reg hi = _mm256_permutevar8x32_ps(_mm256_loadu_ps(t + 8), k);
    return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(k, 28)));
  }
  /// 2^n for lanes holding integers n in [-126, 127]
  BERTPP_TARGET_AVX2 static reg pow2(reg n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  BERTPP_TARGET_AVX2 static float sum(reg a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  BERTPP_TARGET_AVX2 static float hmax(reg a) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

// -- 16 floats as two AVX2 registers (the AVX-512 kernels' logic, testable on AVX2) -------
struct F32x16e {
  struct reg {
    __m256 lo, hi;
  };
  using H = F32x8;
  static constexpr int width = 16;
  BERTPP_TARGET_AVX2 static reg zero() { return {H::zero(), H::zero()}; }
  BERTPP_TARGET_AVX2 static reg set1(float v) { return {H::set1(v), H::set1(v)}; }
  BERTPP_TARGET_AVX2 static reg iota() { return {H::iota(), H::add(H::iota(), H::set1(8))}; }
  BERTPP_TARGET_AVX2 static reg load(const float* p) { return {H::load(p), H::load(p + 8)}; }
  BERTPP_TARGET_AVX2 static void store(float* p, reg v) {
    H::store(p, v.lo);
    H::store(p + 8, v.hi);
  }
  BERTPP_TARGET_AVX2 static reg load_partial(const float* p, int n) {
    if (n >= 8) return {H::load(p), H::load_partial(p + 8, n - 8)};
    return {H::load_partial(p, n), H::zero()};
  }
  BERTPP_TARGET_AVX2 static void store_partial(float* p, reg v, int n) {
    if (n >= 8) {
      H::store(p, v.lo);
      H::store_partial(p + 8, v.hi, n - 8);
    } else {
      H::store_partial(p, v.lo, n);
    }
  }
#define BERTPP_E2(name)                                \
  BERTPP_TARGET_AVX2 static reg name(reg a, reg b) {   \
    return {H::name(a.lo, b.lo), H::name(a.hi, b.hi)}; \
  }
  BERTPP_E2(add)
  BERTPP_E2(sub)
  BERTPP_E2(mul)
  BERTPP_E2(div)
  BERTPP_E2(max)
  BERTPP_E2(min)
  BERTPP_E2(copysign)
#undef BERTPP_E2
  BERTPP_TARGET_AVX2 static reg fma(reg a, reg b, reg c) {
    return {H::fma(a.lo, b.lo, c.lo), H::fma(a.hi, b.hi, c.hi)};
  }
  BERTPP_TARGET_AVX2 static reg abs(reg a) { return {H::abs(a.lo), H::abs(a.hi)}; }
  BERTPP_TARGET_AVX2 static reg select_lt(reg a, reg b, reg x, reg y) {
    return {H::select_lt(a.lo, b.lo, x.lo, y.lo), H::select_lt(a.hi, b.hi, x.hi, y.hi)};
  }
  BERTPP_TARGET_AVX2 static reg round(reg a) { return {H::round(a.lo), H::round(a.hi)}; }
  BERTPP_TARGET_AVX2 static reg floor(reg a) { return {H::floor(a.lo), H::floor(a.hi)}; }
  BERTPP_TARGET_AVX2 static reg lookup16(const float* t, reg i) {
    return {H::lookup16(t, i.lo), H::lookup16(t, i.hi)};
  }
  BERTPP_TARGET_AVX2 static reg pow2(reg n) { return {H::pow2(n.lo), H::pow2(n.hi)}; }
  BERTPP_TARGET_AVX2 static float sum(reg a) { return H::sum(H::add(a.lo, a.hi)); }
  BERTPP_TARGET_AVX2 static float hmax(reg a) { return H::hmax(H::max(a.lo, a.hi)); }
};

// -- AVX-512: 16 floats --------------------------------------------------------------------
struct F32x16 {
  using reg = __m512;
  static constexpr int width = 16;
  BERTPP_TARGET_AVX512 static reg zero() { return _mm512_setzero_ps(); }
  BERTPP_TARGET_AVX512 static reg set1(float v) { return _mm512_set1_ps(v); }
  BERTPP_TARGET_AVX512 static reg iota() {
    return _mm512_set_ps(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  }
  BERTPP_TARGET_AVX512 static reg load(const float* p) { return _mm512_loadu_ps(p); }
  BERTPP_TARGET_AVX512 static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
  BERTPP_TARGET_AVX512 static __mmask16 tail_mask(int n) {
    return static_cast<__mmask16>(n >= 16 ? 0xFFFFu : ((1u << n) - 1u));
  }
  BERTPP_TARGET_AVX512 static reg load_partial(const float* p, int n) {
    return _mm512_maskz_loadu_ps(tail_mask(n), p);
  }
  BERTPP_TARGET_AVX512 static void store_partial(float* p, reg v, int n) {
    _mm512_mask_storeu_ps(p, tail_mask(n), v);
  }
  BERTPP_TARGET_AVX512 static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  BERTPP_TARGET_AVX512 static reg sub(reg a, reg b) { return _mm512_sub_ps(a, b); }
  BERTPP_TARGET_AVX512 static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  BERTPP_TARGET_AVX512 static reg div(reg a, reg b) { return _mm512_div_ps(a, b); }
  BERTPP_TARGET_AVX512 static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  BERTPP_TARGET_AVX512 static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  BERTPP_TARGET_AVX512 static reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
  BERTPP_TARGET_AVX512 static reg abs(reg a) {
    return _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7FFFFFFF)));
  }
  BERTPP_TARGET_AVX512 static reg copysign(reg a, reg s) {
    const __m512i mag = _mm512_set1_epi32(0x7FFFFFFF);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(a), mag),
                                               _mm512_andnot_si512(mag, _mm512_castps_si512(s))));
  }
  BERTPP_TARGET_AVX512 static reg select_lt(reg a, reg b, reg x, reg y) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), y, x);
  }
  BERTPP_TARGET_AVX512 static reg round(reg a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  BERTPP_TARGET_AVX512 static reg floor(reg a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  }
  BERTPP_TARGET_AVX512 static reg lookup16(const float* t, reg i) {
    return _mm512_permutexvar_ps(_mm512_cvttps_epi32(i), _mm512_loadu_ps(t));
  }
  BERTPP_TARGET_AVX512 static reg pow2(reg n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  BERTPP_TARGET_AVX512 static float sum(reg a) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  BERTPP_TARGET_AVX512 static float hmax(reg a) {
    __m256 h = _mm256_max_ps(_mm512_castps512_ps256(a),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace bertpp::exec::detail
#endif  // BERTPP_SIMD
