// SPDX-License-Identifier: Apache-2.0
// What the CPU can run, read once at run time (cpuid + xgetbv), and which kernel family a
// call uses: the best the CPU and the OS support, or a lower one forced by an option or by
// the BERTPP_ISA environment variable (generic | avx2 | avx512).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

#include "bertpp/core/error.hpp"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define BERTPP_X86 1
#if defined(__GNUC__) || defined(__clang__)
#include <cpuid.h>
#endif
#else
#define BERTPP_X86 0
#endif

namespace bertpp::exec {

/// @brief The instruction-set features bertpp's kernels use, as the CPU and OS report them
/// (an AVX-512 feature counts only when the OS saves the zmm state).
struct CpuFeatures {
  bool fma = false, avx2 = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_bf16 = false, avx512_vnni = false, avx_vnni = false;

  /// @brief AVX2 and FMA: the avx2 kernel family.
  bool has_avx2() const noexcept { return avx2 && fma; }
  /// @brief AVX-512 F, BW, VL and DQ: the avx512 kernel family.
  bool has_avx512() const noexcept { return avx512f && avx512bw && avx512vl && avx512dq; }
  /// @brief AVX512_BF16 dot products on top of has_avx512().
  bool has_avx512_bf16() const noexcept { return has_avx512() && avx512_bf16; }
  /// @brief AVX512_VNNI int8 dot products on top of has_avx512().
  bool has_avx512_vnni() const noexcept { return has_avx512() && avx512_vnni; }
};

namespace detail {

inline CpuFeatures read_cpu_features() {
  CpuFeatures f;
#if BERTPP_X86 && (defined(__GNUC__) || defined(__clang__))
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1u;
  const bool fma = (c >> 12) & 1u;
  if (!osxsave) return f;
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool ymm_state = (xcr0_lo & 0x6u) == 0x6u;    // SSE + AVX state
  const bool zmm_state = (xcr0_lo & 0xE6u) == 0xE6u;  // + opmask, ZMM_Hi256, Hi16_ZMM
  if (!ymm_state) return f;
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.fma = fma;
  f.avx2 = (b >> 5) & 1u;
  if (zmm_state) {
    f.avx512f = (b >> 16) & 1u;
    f.avx512dq = (b >> 17) & 1u;
    f.avx512bw = (b >> 30) & 1u;
    f.avx512vl = (b >> 31) & 1u;
    f.avx512_vnni = (c >> 11) & 1u;
  }
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  __cpuid_count(7, 1, a1, b1, c1, d1);
  f.avx_vnni = (a1 >> 4) & 1u;
  if (zmm_state) f.avx512_bf16 = (a1 >> 5) & 1u;
#endif
  return f;
}

}  // namespace detail

/// @brief The features of the CPU this process runs on (read once).
inline const CpuFeatures& cpu() {
  static const CpuFeatures features = detail::read_cpu_features();
  return features;
}

/// @brief Kernel families, lowest first. `best` picks the highest the CPU supports.
enum class Isa { generic = 0, avx2 = 1, avx512 = 2, best = 3 };

/// @brief "generic", "avx2", "avx512" or "best".
inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::generic:
      return "generic";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
    case Isa::best:
      return "best";
  }
  return "?";
}

/// @brief Parses an ISA name as isa_name() writes it.
/// @throws ConfigError for another name (naming `where`, e.g. "BERTPP_ISA").
inline Isa isa_from_name(const std::string& name, const std::string& where) {
  if (name == "generic") return Isa::generic;
  if (name == "avx2") return Isa::avx2;
  if (name == "avx512") return Isa::avx512;
  if (name == "best" || name.empty()) return Isa::best;
  throw ConfigError(where + ": unknown instruction set '" + name +
                    "'; expected generic, avx2, avx512 or best");
}

/// @brief The highest kernel family this CPU runs.
inline Isa best_isa() {
  if (cpu().has_avx512()) return Isa::avx512;
  if (cpu().has_avx2()) return Isa::avx2;
  return Isa::generic;
}

/// @brief The family a call uses when it asks for `wanted`: the lower of `wanted`, the
/// BERTPP_ISA environment variable (when set) and what the CPU supports. Asking for more
/// than the CPU has is not an error: it gets the best the CPU has.
/// @throws ConfigError when BERTPP_ISA holds an unknown name.
inline Isa resolve_isa(Isa wanted = Isa::best) {
  Isa isa = best_isa();
  if (const char* env = std::getenv("BERTPP_ISA"); env && *env) {
    const Isa forced = isa_from_name(env, "environment variable BERTPP_ISA");
    if (forced != Isa::best && static_cast<int>(forced) < static_cast<int>(isa)) isa = forced;
  }
  if (wanted != Isa::best && static_cast<int>(wanted) < static_cast<int>(isa)) isa = wanted;
  return isa;
}

}  // namespace bertpp::exec
