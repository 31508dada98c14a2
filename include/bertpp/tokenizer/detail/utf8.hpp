// SPDX-License-Identifier: Apache-2.0
// UTF-8 decoding with a defined treatment of invalid input.
//
// Invalid input: every maximal subpart of an ill-formed sequence (Unicode 15, section 3.9,
// "U+FFFD substitution of maximal subparts"; the same as Python's
// `bytes.decode("utf-8", "replace")`) decodes to one U+FFFD and counts as one code point
// for offsets. Surrogates and overlong forms are ill-formed. The normalizer's clean_text
// then drops U+FFFD as HF does; without clean_text it stays (usually as [UNK]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bertpp::tokenizer_detail {

inline constexpr std::uint32_t kReplacement = 0xFFFD;

/// @brief Decodes the code point at `p` (`n` > 0 bytes available); sets `len` to the bytes
/// consumed (>= 1). Never reads past `p + n`.
inline std::uint32_t decode_utf8(const unsigned char* p, std::size_t n, std::size_t& len) {
  const unsigned char b0 = p[0];
  if (b0 < 0x80) {
    len = 1;
    return b0;
  }
  std::size_t need;
  std::uint32_t cp;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    len = 1;
    return kReplacement;
  }
  std::size_t i = 1;
  for (; i <= need; ++i) {
    if (i >= n) break;
    const unsigned char b = p[i];
    const unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
    if (b < l || b > h) break;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  len = i;
  return i == need + 1 ? cp : kReplacement;
}

/// @brief Appends the UTF-8 form of `cp` (a valid scalar value) to `out`.
inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

/// @brief Number of UTF-8 bytes of `cp`.
inline std::size_t utf8_length(std::uint32_t cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

}  // namespace bertpp::tokenizer_detail
