// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the int8 and bf16 GEMM kernels: which instantiation runs, the packed
// panel layout and the operands a micro-kernel reads.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "bertpp/core/error.hpp"
#include "bertpp/exec/aligned.hpp"
#include "bertpp/exec/cpu.hpp"

// Intrinsics paths need GCC or Clang on x86-64 (per-function target attributes); any
// other compiler or CPU gets the generic path only.
#if BERTPP_X86 && (defined(__GNUC__) || defined(__clang__))
#define BERTPP_KERNELS_SIMD 1
#include <immintrin.h>
#define BERTPP_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define BERTPP_TARGET_AVX512_VNNI \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define BERTPP_TARGET_AVX512_BF16 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
#else
#define BERTPP_KERNELS_SIMD 0
#endif

// The AMX kernels: GCC 11+ or Clang 12+ (the amx-* targets), on Linux (cpu.hpp).
#if BERTPP_KERNELS_SIMD && BERTPP_AMX_OS && \
    ((defined(__clang__) && __clang_major__ >= 12) || (!defined(__clang__) && __GNUC__ >= 11))
#define BERTPP_KERNELS_AMX 1
#define BERTPP_TARGET_AMX                                                         \
  __attribute__((                                                                 \
      target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx512vnni,amx-tile," \
             "amx-bf16,amx-int8")))
#else
#define BERTPP_KERNELS_AMX 0
#endif

// The emulated AVX-512 int8 / bf16 kernels (Kernel::avx512_emulated) are compiled only where
// BERTPP_KERNELS_EMULATED is 1: the tests define it (so that an AVX2 machine tests the
// AVX-512 kernels' indexing); a program does not pay for them (about a tenth of the compile
// time of a pipeline's translation unit). Every translation unit of a program must agree.
#ifndef BERTPP_KERNELS_EMULATED
#define BERTPP_KERNELS_EMULATED 0
#endif

namespace bertpp::exec {

/// @brief An output stage the int8 and bf16 gemm() run on each finished block of y while it
/// is still in L1 (an activation, a residual add): fn(arg, y, ldy, r0, r1, c0, c1) for the
/// rows [r0, r1) and columns [c0, c1) of y just written. A null fn does nothing.
struct PostOp {
  void (*fn)(const void* arg, float* y, std::int64_t ldy, std::int64_t r0, std::int64_t r1,
             std::int64_t c0, std::int64_t c1) = nullptr;
  const void* arg = nullptr;
  void operator()(float* y, std::int64_t ldy, std::int64_t r0, std::int64_t r1, std::int64_t c0,
                  std::int64_t c1) const {
    if (fn && r0 < r1 && c0 < c1) fn(arg, y, ldy, r0, r1, c0, c1);
  }
};

}  // namespace bertpp::exec

namespace bertpp::exec::kernels_detail {

/// Which instantiation a packed operand was made for. `amx` keeps the avx512 layouts (the
/// AMX tiles load them as they are): its sums run on tiles, the k past the last full tile
/// step and the output stage on the avx512 kernel (amx.hpp). `avx512_emulated` is the
/// AVX-512 kernel (same widths, layouts and loops) with each 512-bit vector held as two AVX2
/// registers and the dot-product instruction emulated: it lets a machine without AVX-512
/// test every index of the AVX-512 kernel. It is reached only through the detail API, and
/// compiled only with BERTPP_KERNELS_EMULATED.
enum class Kernel { generic, avx2, avx512, avx512_emulated, amx };

inline const char* kernel_name(Kernel k) {
  switch (k) {
    case Kernel::generic:
      return "generic";
    case Kernel::avx2:
      return "avx2";
    case Kernel::avx512:
      return "avx512";
    case Kernel::avx512_emulated:
      return "avx512 (emulated)";
    case Kernel::amx:
      return "amx";
  }
  return "?";
}

/// Column block of a kernel's packed layout (the n0 granularity of its tiles).
inline std::int64_t kernel_block(Kernel k) {
  return k == Kernel::generic ? 1 : k == Kernel::avx2 ? 16 : 32;
}

inline Kernel kernel_of(Isa isa) {
  return isa == Isa::amx      ? Kernel::amx
         : isa == Isa::avx512 ? Kernel::avx512
         : isa == Isa::avx2   ? Kernel::avx2
                              : Kernel::generic;
}

inline Isa isa_of(Kernel k) {
  return k == Kernel::amx                                      ? Isa::amx
         : k == Kernel::avx512 || k == Kernel::avx512_emulated ? Isa::avx512
         : k == Kernel::avx2                                   ? Isa::avx2
                                                               : Isa::generic;
}

/// Whether this build and CPU run `k`; `avx512_feature` is the AVX-512 extension the
/// family needs (VNNI or BF16). The emulated kernel needs AVX2 and BERTPP_KERNELS_EMULATED.
inline bool kernel_runs(Kernel k, bool avx512_feature) {
  switch (k) {
    case Kernel::generic:
      return true;
    case Kernel::avx2:
      return BERTPP_KERNELS_SIMD && cpu().has_avx2();
    case Kernel::avx512_emulated:
      return BERTPP_KERNELS_SIMD && BERTPP_KERNELS_EMULATED && cpu().has_avx2();
    case Kernel::avx512:
      return BERTPP_KERNELS_SIMD && avx512_feature;
    case Kernel::amx:
      return BERTPP_KERNELS_AMX && amx_enabled();
  }
  return false;
}

/// The highest family not above resolve_isa(wanted) that `supported` accepts.
/// @throws ConfigError when BERTPP_ISA holds an unknown name.
template <typename Supported>
Isa highest_supported(Isa wanted, Supported supported) {
  Isa isa = resolve_isa(wanted);
  while (isa != Isa::generic && !supported(isa)) isa = static_cast<Isa>(static_cast<int>(isa) - 1);
  return isa;
}

inline std::int64_t round_up(std::int64_t v, std::int64_t to) { return (v + to - 1) / to * to; }

/// What one micro-kernel call reads. Packed weights: panels of `block` columns; panel p,
/// k-group g, column j holds one 32-bit lane at byte ((p * groups + g) * block + j) * 4
/// (a group is the 2 or 4 consecutive k a lane holds). Activations: row r, group g at
/// byte r * x_stride + g * (bytes per group).
struct Operands {
  const std::uint8_t* x = nullptr;
  std::int64_t x_stride = 0;               // bytes between activation rows
  const float* row_scale = nullptr;        // [m], int8 only
  const std::int32_t* row_zero = nullptr;  // [m], int8 only: zero points
  const std::uint8_t* w = nullptr;
  std::int64_t groups = 0;             // k-groups per panel
  const float* col_scale = nullptr;    // [panels * block], int8 only
  const std::int32_t* comp = nullptr;  // [panels * block], int8 VNNI only: column sums
  PostOp post;                         // run on each finished block of y
};

#if BERTPP_KERNELS_SIMD
/// The 32-bit value at p (any alignment).
inline std::int32_t load32(const std::uint8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

/// A 512-bit vector held as two AVX2 registers, for the emulated AVX-512 kernels.
struct V2i {
  __m256i lo, hi;
};

/// What the emulated AVX-512 traits share: 16 lanes; a weight vector is 64 aligned bytes
/// in two registers; an activation group (4 bytes) is broadcast to all 8 lanes of one.
struct Emulated512Loads {
  static constexpr int lanes = 16, phases = 1, wbytes = 64, xbytes = 4;
  using W = V2i;
  using B = __m256i;
  template <int PH>
  BERTPP_TARGET_AVX2 static W load_w(const std::uint8_t* p) {
    return {_mm256_load_si256(reinterpret_cast<const __m256i*>(p)),
            _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 32))};
  }
  template <int PH>
  BERTPP_TARGET_AVX2 static B bcast(const std::uint8_t* p) {
    return _mm256_set1_epi32(load32(p));
  }
};
#endif

/// @throws InputError "fn: what".
[[noreturn]] inline void fail(const char* fn, const std::string& what) {
  throw InputError(std::string(fn) + ": " + what);
}

inline std::string range(std::int64_t a, std::int64_t b) {
  return "[" + std::to_string(a) + ", " + std::to_string(b) + ")";
}

/// Checks a gemm tile (builds no message unless it fails: gemm must not allocate).
/// @throws InputError naming what does not fit.
inline void check_tile(const char* fn, Kernel xk, Kernel wk, std::int64_t xm, std::int64_t xk_k,
                       std::int64_t wn, std::int64_t wk_k, std::int64_t block, std::int64_t m0,
                       std::int64_t m1, std::int64_t n0, std::int64_t n1, const float* y,
                       std::int64_t ldy) {
  if (xk != wk)
    fail(fn, std::string("activations prepared for ") + kernel_name(xk) +
                 " but weights packed for " + kernel_name(wk));
  if (xk_k != wk_k)
    fail(fn,
         "activations have k=" + std::to_string(xk_k) + " but weights k=" + std::to_string(wk_k));
  if (!(0 <= m0 && m0 <= m1 && m1 <= xm))
    fail(fn, "rows " + range(m0, m1) + " outside " + range(0, xm));
  if (!(0 <= n0 && n0 <= n1 && n1 <= wn))
    fail(fn, "columns " + range(n0, n1) + " outside " + range(0, wn));
  if (n0 % block != 0)
    fail(fn, "n0=" + std::to_string(n0) + " is not a multiple of column_block " +
                 std::to_string(block));
  if (ldy < n1 && m1 - m0 > 1)
    fail(fn, "ldy=" + std::to_string(ldy) + " is smaller than n1=" + std::to_string(n1));
  if (y == nullptr && m0 != m1 && n0 != n1) fail(fn, "y is null");
}

/// Checks a row range of activation preparation (no message unless it fails).
/// @throws InputError naming what does not fit.
inline void check_rows(const char* fn, std::int64_t r0, std::int64_t r1, std::int64_t m,
                       std::int64_t ldx, std::int64_t k, const float* x) {
  if (!(0 <= r0 && r0 <= r1 && r1 <= m))
    fail(fn, "rows " + range(r0, r1) + " outside " + range(0, m));
  if (ldx < k && r1 - r0 > 1)
    fail(fn, "ldx=" + std::to_string(ldx) + " is smaller than k=" + std::to_string(k));
  if (x == nullptr && r0 != r1 && k > 0) fail(fn, "x is null");
}

/// Lays out `n x k` values (value(c, kk) of type T, zero outside the matrix) in panels of
/// `block` columns and k-groups of `group` (4 / sizeof(T) == group).
template <typename T, typename F>
void pack_panels(AlignedBuffer<std::uint8_t>& out, std::int64_t n, std::int64_t k,
                 std::int64_t block, std::int64_t group, F value) {
  const std::int64_t groups = (k + group - 1) / group;
  const std::int64_t panels = (n + block - 1) / block;
  out.assign_zero(static_cast<std::size_t>(panels * groups * block * 4));
  T* dst = reinterpret_cast<T*>(out.data());
  for (std::int64_t c = 0; c < n; ++c) {
    const std::int64_t p = c / block, j = c % block;
    for (std::int64_t kk = 0; kk < k; ++kk) {
      const std::int64_t g = kk / group, e = kk % group;
      dst[((p * groups + g) * block + j) * group + e] = value(c, kk);
    }
  }
}

/// The value at (c, kk) of a panel layout made by pack_panels.
template <typename T>
T panel_value(const AlignedBuffer<std::uint8_t>& buf, std::int64_t k, std::int64_t block,
              std::int64_t group, std::int64_t c, std::int64_t kk) {
  const std::int64_t groups = (k + group - 1) / group;
  const std::int64_t p = c / block, j = c % block, g = kk / group, e = kk % group;
  T v;
  std::memcpy(&v, buf.data() + (((p * groups + g) * block + j) * group + e) * sizeof(T), sizeof(T));
  return v;
}

}  // namespace bertpp::exec::kernels_detail
