// SPDX-License-Identifier: Apache-2.0
// What the CPU can run, read once at run time (cpuid + xgetbv), and which kernel family a
// call uses: the best the CPU and the OS support, or a lower one forced by an option or by
// the BERTPP_ISA environment variable (generic | avx2 | avx512 | amx).
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

// AMX tiles need the kernel's permission per process (Linux 5.16+: arch_prctl), so they are
// used on Linux only.
#if BERTPP_X86 && defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#define BERTPP_AMX_OS 1
#else
#define BERTPP_AMX_OS 0
#endif

namespace bertpp::exec {

/// @brief The instruction-set features bertpp's kernels use, as the CPU and OS report them
/// (an AVX-512 feature counts only when the OS saves the zmm state).
struct CpuFeatures {
  bool fma = false, avx2 = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_bf16 = false, avx512_vnni = false, avx_vnni = false;
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false;  // and the OS saves tile state

  /// @brief AVX2 and FMA: the avx2 kernel family.
  bool has_avx2() const noexcept { return avx2 && fma; }
  /// @brief AVX-512 F, BW, VL and DQ: the avx512 kernel family.
  bool has_avx512() const noexcept { return avx512f && avx512bw && avx512vl && avx512dq; }
  /// @brief AVX512_BF16 dot products on top of has_avx512().
  bool has_avx512_bf16() const noexcept { return has_avx512() && avx512_bf16; }
  /// @brief AVX512_VNNI int8 dot products on top of has_avx512().
  bool has_avx512_vnni() const noexcept { return has_avx512() && avx512_vnni; }
  /// @brief AMX tiles with bf16 and int8 dot products, on top of both AVX-512 extensions
  /// (the amx kernel family: its edges run on them). The process must still be granted the
  /// tile state (amx_enabled()).
  bool has_amx() const noexcept {
    return has_avx512_bf16() && has_avx512_vnni() && amx_tile && amx_bf16 && amx_int8;
  }
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
  const bool ymm_state = (xcr0_lo & 0x6u) == 0x6u;           // SSE + AVX state
  const bool zmm_state = (xcr0_lo & 0xE6u) == 0xE6u;         // + opmask, ZMM_Hi256, Hi16_ZMM
  const bool tile_state = (xcr0_lo & 0x60000u) == 0x60000u;  // XTILECFG, XTILEDATA
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
  if (tile_state) {
    f.amx_bf16 = (d >> 22) & 1u;
    f.amx_tile = (d >> 24) & 1u;
    f.amx_int8 = (d >> 25) & 1u;
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

/// @brief Whether this process may use AMX tiles: the CPU has them (has_amx()) and Linux
/// granted the tile state (arch_prctl ARCH_REQ_XCOMP_PERM, asked once, on the first call).
/// The grant makes every signal frame of the process about 8 KiB larger; the kernel refuses
/// it (and this returns false) when a thread's sigaltstack is too small for that.
inline bool amx_enabled() {
#if BERTPP_AMX_OS
  static const bool enabled = [] {
    if (!cpu().has_amx()) return false;
    constexpr long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
    return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
  }();
  return enabled;
#else
  return false;
#endif
}

/// @brief Kernel families, lowest first. `best` picks the highest the CPU supports. `amx`
/// runs the bf16 and int8 GEMMs on AMX tiles (Sapphire Rapids and later) and everything
/// else as avx512 does.
enum class Isa { generic = 0, avx2 = 1, avx512 = 2, amx = 3, best = 4 };

/// @brief "generic", "avx2", "avx512", "amx" or "best".
inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::generic:
      return "generic";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
    case Isa::amx:
      return "amx";
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
  if (name == "amx") return Isa::amx;
  if (name == "best" || name.empty()) return Isa::best;
  throw ConfigError(where + ": unknown instruction set '" + name +
                    "'; expected generic, avx2, avx512, amx or best");
}

/// @brief The highest kernel family this CPU runs (amx: by its features; whether the OS
/// grants the tiles is amx_enabled(), asked only where a kernel would use them).
inline Isa best_isa() {
  if (cpu().has_amx()) return Isa::amx;
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
