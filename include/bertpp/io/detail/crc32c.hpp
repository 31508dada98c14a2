// SPDX-License-Identifier: Apache-2.0
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8, and the masking
// LevelDB and TensorFlow apply to stored checksums.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace bertpp::detail {

/// The eight 256-entry tables of slicing-by-8, built once.
inline const std::array<std::array<std::uint32_t, 256>, 8>& crc32c_tables() {
  static const auto tables = [] {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
      t[0][i] = c;
    }
    for (std::size_t s = 1; s < 8; ++s)
      for (std::size_t i = 0; i < 256; ++i)
        t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFFu];
    return t;
  }();
  return tables;
}

/// @brief crc32c of `n` bytes at `p`, continuing from `crc` (0 to start).
inline std::uint32_t crc32c_extend(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  const auto& t = crc32c_tables();
  std::uint32_t c = ~crc;
  while (n >= 8) {
    const std::uint32_t lo =
        c ^ (static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
             static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24);
    c = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
        t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xFFu];
  return ~c;
}

/// @brief crc32c of `n` bytes at `p`.
inline std::uint32_t crc32c(const unsigned char* p, std::size_t n) {
  return crc32c_extend(0, p, n);
}

/// @brief The stored form of a crc (LevelDB's Mask: rotate right 15, add a constant).
inline std::uint32_t crc32c_mask(std::uint32_t c) { return ((c >> 15) | (c << 17)) + 0xA282EAD8u; }

/// @brief The inverse of crc32c_mask.
inline std::uint32_t crc32c_unmask(std::uint32_t m) {
  const std::uint32_t r = m - 0xA282EAD8u;
  return (r >> 17) | (r << 15);
}

}  // namespace bertpp::detail
