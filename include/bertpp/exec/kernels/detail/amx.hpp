// SPDX-License-Identifier: Apache-2.0
// The AMX GEMM (Kernel::amx) for the int8 and bf16 kernels: the avx512 packed layouts, read
// by tile loads as they are.
//
// A tile register holds 16 rows of 64 bytes. The avx512 activations are rows of 32-bit
// k-groups (2 bf16 or 4 u8), so 16 rows x 16 groups of them are an A tile (stride: the row
// stride). The avx512 weights are panels of 32 columns, each k-group a row of 32 lanes of 32
// bits, so 16 groups x 16 columns of a panel are a B tile in AMX's "VNNI" order (stride: the
// panel's 128 bytes a group). tmm0..3 hold a 32 x 32 block of sums (2 x 2 tiles of 16 x 16),
// tmm4..5 two A tiles (rows 0-15, 16-31), tmm6..7 two B tiles (columns 0-15, 16-31): per
// 16 k-groups, 4 loads and 4 tile products (tdpbusd: u8 x s8 -> int32, exact as vpdpbusd;
// tdpbf16ps: bf16 pairs -> fp32).
//
// What tiles do not cover runs on the avx512 driver of the same family: the k-groups past
// the last full 16 continue from the tile sums (stored in the driver's accumulator layout,
// 32 rows of 32 lanes), the output stage is the driver's (bias, int8 scales and zero-point
// compensation). The rows past the last full 16 run on tiles of fewer rows.
#pragma once

#include <cstdint>
#include <cstring>

#include "bertpp/exec/kernels/detail/common.hpp"
#include "bertpp/exec/kernels/detail/driver.hpp"

#if BERTPP_KERNELS_AMX
namespace bertpp::exec::kernels_detail {

/// The 64-byte operand of ldtilecfg (palette 1).
struct alignas(64) TileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

/// Sums of a 32- (TwoRows) or 16-row block x 32 columns over `steps` x 16 k-groups, into
/// acc (32 rows of 128 bytes). a: the block's first activation row at its first group; b:
/// the panel at that group. Each step also prefetches `pf_lines` lines from address `pf` on
/// into L2 (amx_tile points it at this block's share of the next panel; an address, not a
/// pointer, as it may run past the panels).
template <bool Int8, bool TwoRows>
BERTPP_TARGET_AMX inline void amx_block(const std::uint8_t* a, std::int64_t lda,
                                        const std::uint8_t* b, std::int64_t steps,
                                        std::uint8_t* acc, std::uintptr_t pf, int pf_lines) {
  _tile_zero(0);
  _tile_zero(1);
  if constexpr (TwoRows) {
    _tile_zero(2);
    _tile_zero(3);
  }
  for (std::int64_t s = 0; s < steps; ++s) {
    for (int l = 0; l < pf_lines; ++l, pf += 64)
      _mm_prefetch(reinterpret_cast<const char*>(pf), _MM_HINT_T1);
    _tile_loadd(6, b, 128);
    _tile_loadd(7, b + 64, 128);
    _tile_loadd(4, a, lda);
    if constexpr (Int8) {
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 4, 7);
    } else {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
    }
    if constexpr (TwoRows) {
      _tile_loadd(5, a + 16 * lda, lda);
      if constexpr (Int8) {
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
      } else {
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
    }
    a += 64;
    b += 16 * 128;
  }
  _tile_stored(0, acc, 128);
  _tile_stored(1, acc + 64, 128);
  if constexpr (TwoRows) {
    _tile_stored(2, acc + 16 * 128, 128);
    _tile_stored(3, acc + 16 * 128 + 64, 128);
  }
}

/// The avx512 driver's tile (Int8: the VNNI one, else the BF16 one).
template <class P, bool Int8>
BERTPP_TARGET_AMX inline void avx512_tile(const Operands& o, std::int64_t m0, std::int64_t m1,
                                          std::int64_t n0, std::int64_t n1, const float* bias,
                                          float* y, std::int64_t ldy) {
  if constexpr (Int8) {
    drive_avx512_vnni::tile<P>(o, m0, m1, n0, n1, bias, y, ldy);
  } else {
    drive_avx512_bf16::tile<P>(o, m0, m1, n0, n1, bias, y, ldy);
  }
}

/// Loads the tile config: A and C tiles of `rows` rows (1..16), B tiles of 16.
BERTPP_TARGET_AMX inline void amx_configure(int rows) {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = static_cast<std::uint8_t>(t == 6 || t == 7 ? 16 : rows);
    cfg.colsb[t] = 64;
  }
  // The tile instructions are asm statements that do not declare the memory they read:
  // make the config and every earlier store (the activations) visible to them first.
  __asm__ volatile("" : : "r"(&cfg) : "memory");
  _tile_loadconfig(&cfg);
}

/// Rows [row, row + rows) x the 32 columns from c (cols of them in y) of the tile: the
/// tile sums (rows = 32: two row tiles; else one, of the configured height), the k-groups
/// past them and the output stage on the avx512 driver, then `post`. The tile loop
/// prefetches `pf_lines` lines a step from `pf` (see amx_block).
template <class P, bool Int8>
BERTPP_TARGET_AMX inline void amx_rows(const Operands& o, std::int64_t row, int rows,
                                       std::int64_t c, std::int64_t cols, const float* b, float* y,
                                       std::int64_t ldy, std::uint8_t* acc, float* tmp,
                                       std::uintptr_t pf, int pf_lines) {
  constexpr int NB = P::NV * P::V::lanes;
  constexpr int MR = P::MR;
  const std::int64_t steps = o.groups / 16, panel = c / NB;
  const std::uint8_t* a = o.x + row * o.x_stride;
  const std::uint8_t* wp = o.w + panel * o.groups * NB * 4;
  if (rows == 32) {
    amx_block<Int8, true>(a, o.x_stride, wp, steps, acc, pf, pf_lines);
  } else {
    amx_block<Int8, false>(a, o.x_stride, wp, steps, acc, pf, pf_lines);
  }
  float* dst = cols == NB ? y + row * ldy + c : tmp;
  const std::int64_t ldd = cols == NB ? ldy : NB;
  for (int i = 0; i < rows; i += MR) {
    const int n = rows - i < MR ? rows - i : MR;
    if constexpr (Int8) {
      drive_avx512_vnni::block_rows<P, MR>(n, o, row + i, panel, steps * 16, o.groups, false, true,
                                           acc + i * NB * 4, dst + i * ldd, ldd, b);
    } else {
      drive_avx512_bf16::block_rows<P, MR>(n, o, row + i, panel, steps * 16, o.groups, false, true,
                                           acc + i * NB * 4, dst + i * ldd, ldd, b);
    }
  }
  if (cols != NB) {
    for (int i = 0; i < rows; ++i)
      std::memcpy(y + (row + i) * ldy + c, tmp + i * NB,
                  static_cast<std::size_t>(cols) * sizeof(float));
  }
  o.post(y, ldy, row, row + rows, c, c + cols);
}

/// The tile [m0, m1) x [n0, n1) of y, as the avx512 driver's tile() computes it (same
/// operands, same output stage, `post` on each finished block), P the avx512 block shape of
/// the family. Every row takes the same path whatever its place in the tile (the last rows
/// on shorter tiles), so bf16 sums too run in one order per row: results do not depend on
/// the batch or the thread split.
template <class P, bool Int8>
BERTPP_TARGET_AMX inline void amx_tile(const Operands& o, std::int64_t m0, std::int64_t m1,
                                       std::int64_t n0, std::int64_t n1, const float* bias,
                                       float* y, std::int64_t ldy) {
  constexpr int NB = P::NV * P::V::lanes;
  static_assert(NB == 32 && P::V::lanes == 16 && 32 % P::MR == 0, "the avx512 panel layout");
  if (o.groups < 16) {  // k too short for a tile: every row on avx512
    avx512_tile<P, Int8>(o, m0, m1, n0, n1, bias, y, ldy);
    return;
  }
  alignas(64) std::uint8_t acc[32 * NB * 4];
  alignas(64) float bias_pad[NB];
  alignas(64) float tmp[32 * NB];
  const auto panel_bias = [&](std::int64_t c, std::int64_t cols) -> const float* {
    for (int j = 0; j < NB; ++j) bias_pad[j] = (bias && j < cols) ? bias[c + j] : 0.0f;
    return (bias && cols == NB) ? bias + c : bias_pad;
  };
  // The weights are read once per forward, so each panel's first block would wait on
  // memory: the blocks over panel p prefetch panel p + 1 into L2, each its share of it.
  const std::int64_t steps = o.groups / 16, panel_lines = o.groups * NB * 4 / 64;
  const auto next_panel = [&](std::int64_t c) {
    return reinterpret_cast<std::uintptr_t>(o.w + (c + NB < n1 ? c / NB + 1 : c / NB) * o.groups *
                                                      NB * 4);
  };
  const auto lines_per_step = [&](std::int64_t c, std::int64_t blocks) {
    if (c + NB >= n1) return 0;
    const std::int64_t l = (panel_lines + blocks * steps - 1) / (blocks * steps);
    return static_cast<int>(l < 16 ? l : 16);
  };
  const std::int64_t m_full = m0 + (m1 - m0) / 16 * 16;
  if (m_full > m0) {
    amx_configure(16);
    // Rows in groups whose activations fit in about half of L2; a panel of weights stays in
    // L2 while every 32-row block of the group passes over it.
    std::int64_t mc = (1 << 20) / o.x_stride;
    mc = mc < 32 ? 32 : mc / 32 * 32;
    for (std::int64_t r = m0; r < m_full; r += mc) {
      const std::int64_t r_end = r + mc < m_full ? r + mc : m_full;
      const std::int64_t blocks = (r_end - r + 31) / 32;
      for (std::int64_t c = n0; c < n1; c += NB) {
        const std::int64_t cols = n1 - c < NB ? n1 - c : NB;
        const float* b = panel_bias(c, cols);
        const std::uintptr_t pf = next_panel(c);
        const int lines = lines_per_step(c, blocks);
        for (std::int64_t rr = r; rr < r_end; rr += 32)
          amx_rows<P, Int8>(o, rr, r_end - rr >= 32 ? 32 : 16, c, cols, b, y, ldy, acc, tmp,
                            pf + static_cast<std::uintptr_t>((rr - r) / 32 * steps * lines * 64),
                            lines);
      }
    }
  }
  if (m_full < m1) {  // the last rows, on tiles of that height
    const int rows = static_cast<int>(m1 - m_full);
    amx_configure(rows);
    for (std::int64_t c = n0; c < n1; c += NB) {
      const std::int64_t cols = n1 - c < NB ? n1 - c : NB;
      amx_rows<P, Int8>(o, m_full, rows, c, cols, panel_bias(c, cols), y, ldy, acc, tmp,
                        next_panel(c), lines_per_step(c, 1));
    }
  }
  _tile_release();
}

}  // namespace bertpp::exec::kernels_detail
#endif
