// SPDX-License-Identifier: Apache-2.0
// The fp32 kernel families: kernels_f32.inc instantiated for AVX2 (8 lanes, and the 16-lane
// emulation the tests use) and AVX-512 (16 lanes), the weight packing they read, and the
// table that picks a family by Isa at run time.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "bertpp/exec/aligned.hpp"
#include "bertpp/exec/cpu.hpp"
#include "bertpp/exec/detail/erf_table.hpp"
#include "bertpp/exec/detail/simd.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace bertpp::exec {

/// @brief Element-wise activation applied in a GEMM's epilogue.
enum class Act : int { none, gelu, gelu_tanh, relu, silu, tanh };

/// @brief What a GEMM does to each output after the product: y = act(x W^T + bias) + residual.
struct Epilogue {
  Act act = Act::none;
  const float* bias = nullptr;      ///< [n] or null
  const float* residual = nullptr;  ///< [m x n] with row stride ld_residual, or null
  std::int64_t ld_residual = 0;
};

namespace detail {

/// @brief Cache sizes in bytes (L1 data, L2) of this CPU, or safe defaults.
inline std::int64_t cache_size(int level) {
  long v = 0;
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  v = sysconf(level == 1 ? _SC_LEVEL1_DCACHE_SIZE : _SC_LEVEL2_CACHE_SIZE);
#endif
  if (v <= 0) v = level == 1 ? 32 * 1024 : 512 * 1024;
  return v;
}

}  // namespace detail

#if BERTPP_SIMD
namespace detail::avx2 {
#define BERTPP_KT BERTPP_TARGET_AVX2
#include "bertpp/exec/detail/kernels_f32.inc"
#undef BERTPP_KT
}  // namespace detail::avx2
// GCC 12 reports its own AVX-512 intrinsics' `__Y = __Y` placeholders as uninitialized when
// they are inlined into target-attribute functions (a false positive of the compiler's
// headers); the pragmas keep -Werror builds of users quiet.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
namespace detail::avx512 {
#define BERTPP_KT BERTPP_TARGET_AVX512
#include "bertpp/exec/detail/kernels_f32.inc"
#undef BERTPP_KT
}  // namespace detail::avx512
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

/// @brief One family of fp32 kernels (function pointers) and the blocking it was built for.
struct F32Kernels {
  const char* name = "generic";
  int mr = 0, nr = 0;               ///< register tile: rows x columns
  std::int64_t kc = 256, mc = 256;  ///< k block (B micro-panel in L1), row block (A in L2)
  void (*gemm)(const float*, std::int64_t, const float*, std::int64_t, std::int64_t, float*,
               std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
               const Epilogue&, std::int64_t, std::int64_t) = nullptr;
  void (*epilogue)(float*, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                   const Epilogue&) = nullptr;
  void (*softmax)(float*, std::int64_t, float) = nullptr;
  void (*layer_norm)(float*, std::int64_t, const float*, const float*, float) = nullptr;
  /// @brief Attention's products (exec::attention_gemm): y = x W^T with x read in place and W
  /// packed in panels of `direct_nr` columns.
  int direct_nr = 0;
  void (*gemm_direct)(const float*, std::int64_t, const float*, std::int64_t, std::int64_t, float*,
                      std::int64_t, std::int64_t, std::int64_t) = nullptr;
  /// @brief pack_panels_into, vectorized (attention's keys).
  void (*pack_transposed)(const float*, std::int64_t, std::int64_t, std::int64_t, int,
                          float*) = nullptr;
  /// @brief Whether this family has SIMD kernels (false: the caller uses the generic path).
  bool simd() const noexcept { return gemm != nullptr; }
};

namespace detail {

/// @brief Which operand a family's k block is sized to keep in L1 (docs/design-notes.md,
/// "GEMM blocking"): the B micro-panel (kc x nr, reused by every row tile of the block) or
/// the A micro-panel (mr x kc, reused by every column panel) with B streaming from L2.
enum class L1Operand { b_panel, a_panel };

inline F32Kernels make_family(const char* name, int mr, int nr, L1Operand in_l1,
                              decltype(F32Kernels::gemm) gemm,
                              decltype(F32Kernels::epilogue) epilogue,
                              decltype(F32Kernels::softmax) softmax,
                              decltype(F32Kernels::layer_norm) layer_norm, int direct_nr,
                              decltype(F32Kernels::gemm_direct) gemm_direct,
                              decltype(F32Kernels::pack_transposed) pack_transposed) {
  F32Kernels k;
  k.direct_nr = direct_nr;
  k.gemm_direct = gemm_direct;
  k.pack_transposed = pack_transposed;
  k.name = name;
  k.mr = mr;
  k.nr = nr;
  k.gemm = gemm;
  k.epilogue = epilogue;
  k.softmax = softmax;
  k.layer_norm = layer_norm;
  const std::int64_t l1 = cache_size(1), l2 = cache_size(2);
  if (in_l1 == L1Operand::b_panel) {
    // The B micro-panel (kc x nr floats) takes about half of L1, the packed A block a
    // quarter of L2 (the C tile and the B panels stream through the rest).
    k.kc = std::clamp<std::int64_t>(l1 / 2 / (nr * 4) / 8 * 8, 64, 512);
    k.mc = std::clamp<std::int64_t>(l2 / 4 / (k.kc * 4) / mr * mr, mr, 1024);
  } else {
    // The A micro-panel (mr x kc floats) takes three quarters of L1, the packed A block
    // half of L2; the B micro-panel (kc x nr) comes from L2 once per row tile.
    k.kc = std::clamp<std::int64_t>(l1 * 3 / 4 / (mr * 4) / 8 * 8, 64, 1024);
    k.mc = std::clamp<std::int64_t>(l2 / 2 / (k.kc * 4) / mr * mr, mr, 1024);
  }
  return k;
}

}  // namespace detail

/// @brief The fp32 family for `isa` (Isa::generic: no SIMD kernels; Isa::amx: avx512). `isa`
/// must be one the CPU runs (resolve_isa()).
inline const F32Kernels& f32_kernels(Isa isa) {
#if BERTPP_SIMD
  // Register tiles (rows x columns): AVX2 6 x 16 (NV = 2 vectors of 8), AVX-512 8 x 48 (3 of
  // 16). AVX-512's 48-column B panel would leave an L1-sized k block of 80: too short.
  using detail::L1Operand;
  static const F32Kernels avx2 = detail::make_family(
      "avx2", 6, 16, L1Operand::b_panel, &detail::avx2::gemm_tile<detail::F32x8, 6, 2>,
      &detail::avx2::epilogue_block<detail::F32x8>, &detail::avx2::softmax_row<detail::F32x8>,
      &detail::avx2::layer_norm_row<detail::F32x8>, 16,
      &detail::avx2::gemm_direct<detail::F32x8, 6, 2>, &detail::avx2::pack_transposed);
  // Attention's products on AVX-512 use 6 x 64 tiles: a 64-wide panel fits BERT's head size
  // and a 128-token key block exactly, where 48 wastes a third of the context product. Six
  // rows (24 accumulators) rather than four (16): on Zen 5, with two 512-bit FMA pipes,
  // attention took 31 ms of a BERT-base 8 x 128 forward against 47 (docs/design-notes.md).
  static const F32Kernels avx512 = detail::make_family(
      "avx512", 8, 48, L1Operand::a_panel, &detail::avx512::gemm_tile<detail::F32x16, 8, 3>,
      &detail::avx512::epilogue_block<detail::F32x16>, &detail::avx512::softmax_row<detail::F32x16>,
      &detail::avx512::layer_norm_row<detail::F32x16>, 64,
      &detail::avx512::gemm_direct<detail::F32x16, 6, 4>, &detail::avx512::pack_transposed);
  if (isa == Isa::avx512 || isa == Isa::amx) return avx512;  // AMX has no fp32 products
  if (isa == Isa::avx2) return avx2;
#else
  (void)isa;
#endif
  static const F32Kernels generic;
  return generic;
}

/// @brief The AVX-512 family's kernels (same tiles, packing and blocking) on pairs of AVX2
/// registers: what the tests run on machines without AVX-512. Needs AVX2; only the tests
/// call it, so only they pay for compiling it.
inline const F32Kernels& f32_kernels_emulated_avx512() {
#if BERTPP_SIMD
  static const F32Kernels k = detail::make_family(
      "avx512-emulated", 8, 48, detail::L1Operand::a_panel,
      &detail::avx2::gemm_tile<detail::F32x16e, 8, 3>,
      &detail::avx2::epilogue_block<detail::F32x16e>, &detail::avx2::softmax_row<detail::F32x16e>,
      &detail::avx2::layer_norm_row<detail::F32x16e>, 64,
      &detail::avx2::gemm_direct<detail::F32x16e, 6, 4>, &detail::avx2::pack_transposed);
  return k;
#else
  static const F32Kernels generic;
  return generic;
#endif
}

/// @brief W [n x k] row-major (HF Linear) -> panels of `nr` columns: panel p holds, for each
/// k, the nr weights of outputs p*nr ... p*nr + nr - 1 (zeros past n). [ceil(n/nr) * k * nr].
inline AlignedBuffer<float> pack_panels(const float* w, std::int64_t n, std::int64_t k, int nr) {
  const std::int64_t panels = (n + nr - 1) / nr;
  AlignedBuffer<float> out;
  out.assign_zero(static_cast<std::size_t>(panels * k * nr));
  for (std::int64_t p = 0; p < panels; ++p)
    for (std::int64_t j = 0; j < nr && p * nr + j < n; ++j) {
      const float* src = w + (p * nr + j) * k;
      float* dst = out.data() + p * k * nr + j;
      for (std::int64_t kk = 0; kk < k; ++kk) dst[kk * nr] = src[kk];
    }
  return out;
}

/// @brief As pack_panels, into `out` (ceil(n/nr) * k * nr floats), from W [n x k] whose rows
/// are `ldw` apart: attention packs each head's keys this way (K [len x d] is the "weight"
/// of Q K^T).
inline void pack_panels_into(const float* w, std::int64_t n, std::int64_t k, std::int64_t ldw,
                             int nr, float* out) {
  const std::int64_t panels = (n + nr - 1) / nr;
  for (std::int64_t p = 0; p < panels; ++p) {
    float* dst = out + p * k * nr;
    const std::int64_t cols = std::min<std::int64_t>(nr, n - p * nr);
    for (std::int64_t kk = 0; kk < k; ++kk) {
      float* d = dst + kk * nr;
      for (std::int64_t j = 0; j < cols; ++j) d[j] = w[(p * nr + j) * ldw + kk];
      for (std::int64_t j = cols; j < nr; ++j) d[j] = 0.0f;
    }
  }
}

/// @brief B [k x n] row-major (rows `ldb` apart) into the same panels as pack_panels packs
/// W = B^T: attention packs each head's values this way (softmax(...) V).
inline void pack_panels_kn_into(const float* b, std::int64_t k, std::int64_t n, std::int64_t ldb,
                                int nr, float* out) {
  const std::int64_t panels = (n + nr - 1) / nr;
  for (std::int64_t p = 0; p < panels; ++p) {
    float* dst = out + p * k * nr;
    const std::int64_t cols = std::min<std::int64_t>(nr, n - p * nr);
    for (std::int64_t kk = 0; kk < k; ++kk) {
      float* d = dst + kk * nr;
      std::memcpy(d, b + kk * ldb + p * nr, static_cast<std::size_t>(cols) * sizeof(float));
      for (std::int64_t j = cols; j < nr; ++j) d[j] = 0.0f;
    }
  }
}

}  // namespace bertpp::exec
