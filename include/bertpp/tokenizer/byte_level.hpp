// SPDX-License-Identifier: Apache-2.0
// HF's ByteLevel components (GPT-2, RoBERTa): the byte-to-unicode map, the pre-tokenizer
// (GPT-2's regex, add_prefix_space), the offset trimming of its post-processor
// (trim_offsets) and the decoder.
#pragma once

#include <bertpp/tokenizer/detail/byte_level_tables.hpp>
#include <bertpp/tokenizer/detail/unicode.hpp>
#include <bertpp/tokenizer/detail/utf8.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertpp {

namespace tokenizer_detail {

/// @brief GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other
/// 68 bytes to U+0100 + their rank among them.
inline const std::array<std::uint32_t, 256>& byte_to_char() {
  static const std::array<std::uint32_t, 256> t = [] {
    std::array<std::uint32_t, 256> m{};
    std::uint32_t next = 0x100;
    for (std::uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      m[b] = printable ? b : next++;
    }
    return m;
  }();
  return t;
}

/// @brief The inverse of byte_to_char: byte of a mapped char, or -1.
inline int char_to_byte(std::uint32_t c) {
  static const std::array<std::int16_t, 0x144> t = [] {
    std::array<std::int16_t, 0x144> m{};
    m.fill(-1);
    for (int b = 0; b < 256; ++b)
      m[byte_to_char()[static_cast<std::size_t>(b)]] = static_cast<std::int16_t>(b);
    return m;
  }();
  return c < t.size() ? t[c] : -1;
}

/// @brief The class of `cp` in the ByteLevel regex (byte_level_tables: kLetter, ...).
inline std::uint8_t byte_level_class(std::uint32_t cp) {
  namespace t = byte_level_tables;
  static const std::array<std::uint8_t, 0x10000> bmp = [] {
    std::array<std::uint8_t, 0x10000> m{};
    for (const auto& r : t::kClasses)
      for (std::uint32_t c = r.lo; c <= r.hi && c < 0x10000; ++c) m[c] = r.cls;
    return m;
  }();
  if (cp < 0x10000) return bmp[cp];
  const auto* end = std::end(t::kClasses);
  const auto* it =
      std::upper_bound(std::begin(t::kClasses), end, cp,
                       [](std::uint32_t c, const t::ClassRange& r) { return c < r.lo; });
  if (it == std::begin(t::kClasses)) return t::kOther;
  --it;
  return cp <= it->hi ? it->cls : std::uint8_t{t::kOther};
}

}  // namespace tokenizer_detail

/// @brief HF's ByteLevel pre-tokenizer: splits on GPT-2's regex (use_regex) and, with
/// add_prefix_space, makes each piece of text start with a space (see Tokenizer).
struct ByteLevelPreTokenizer {
  bool add_prefix_space = false;
  bool use_regex = true;

  /// @brief Calls `on_word(begin, end)` for each match of
  /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` in
  /// `text[begin, end)` (valid UTF-8).
  template <typename OnWord>
  void split(std::string_view text, std::size_t begin, std::size_t end, OnWord&& on_word) const {
    if (!use_regex) {
      if (begin < end) on_word(begin, end);
      return;
    }
    namespace t = tokenizer_detail::byte_level_tables;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    auto cls = [&](std::size_t i, std::size_t& len) -> std::uint8_t {
      len = 1;
      if (p[i] < 0x80) return ascii_class(p[i]);
      return tokenizer_detail::byte_level_class(tokenizer_detail::decode_utf8(p + i, end - i, len));
    };
    std::size_t i = begin;
    while (i < end) {
      std::size_t len;
      const std::uint8_t c0 = cls(i, len);
      if (p[i] == '\'' && i + 1 < end) {  // contractions
        const std::size_t n = contraction(p + i + 1, end - i - 1);
        if (n) {
          on_word(i, i + 1 + n);
          i += 1 + n;
          continue;
        }
      }
      std::size_t j = i;
      std::uint8_t k = c0;
      if (p[i] == ' ' && i + 1 < end) {  // ' ?X+' with a leading space
        std::size_t l2;
        const std::uint8_t c1 = cls(i + 1, l2);
        if (c1 != t::kSpace) {
          k = c1;
          j = i + 1;
        }
      }
      if (k != t::kSpace) {  // run of one class (letters, numbers, or other)
        std::size_t l;
        while (j < end && cls(j, l) == k) j += l;
        on_word(i, j);
        i = j;
        continue;
      }
      // Whitespace run [i, j): all of it at the end, else all but its last character
      // (\s+(?!\S)), or just one character when that leaves nothing (\s+).
      std::size_t last = i, l;
      while (j < end && cls(j, l) == t::kSpace) {
        last = j;
        j += l;
      }
      if (j < end && last > i) j = last;
      on_word(i, j);
      i = j;
    }
  }

 private:
  static std::uint8_t ascii_class(unsigned char c) {
    namespace t = tokenizer_detail::byte_level_tables;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return t::kLetter;
    if (c >= '0' && c <= '9') return t::kNumber;
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return t::kSpace;
    return t::kOther;
  }
  // Length of the contraction after an apostrophe ('s 't 're 've 'm 'll 'd), or 0.
  static std::size_t contraction(const unsigned char* q, std::size_t n) {
    if (q[0] == 's' || q[0] == 't' || q[0] == 'm' || q[0] == 'd') return 1;
    if (n >= 2 && ((q[0] == 'r' && q[1] == 'e') || (q[0] == 'v' && q[1] == 'e') ||
                   (q[0] == 'l' && q[1] == 'l')))
      return 2;
    return 0;
  }
};

namespace tokenizer_detail {

/// @brief HF's trim_offsets (ByteLevel / RobertaProcessing `process_offsets`) of one token:
/// leading and trailing 'Ġ' (a byte-level space) or whitespace characters of `token` leave
/// its code-point offsets [b, e); with `add_prefix_space`, one leading space of the first
/// token stays. Returns the number of leading and trailing characters to drop.
inline std::pair<std::size_t, std::size_t> trim_amounts(std::string_view token, bool first,
                                                        bool add_prefix_space, std::size_t b,
                                                        std::size_t e) {
  const auto* p = reinterpret_cast<const unsigned char*>(token.data());
  auto is_space = [](std::uint32_t c) { return c == 0x120 || (flags_of(c) & tables::kWs); };
  std::size_t lead = 0, trail = 0, i = 0, j = token.size();
  std::size_t n = 0;  // characters of the token
  while (i < token.size()) {
    std::size_t len = 1;
    const std::uint32_t c = decode_utf8(p + i, token.size() - i, len);
    ++n;
    if (lead + 1 == n && is_space(c)) ++lead;
    i += len;
  }
  while (j > 0 && trail < n) {
    std::size_t k = j - 1;
    while (k > 0 && (p[k] & 0xC0) == 0x80) --k;
    std::size_t len = 1;
    if (!is_space(decode_utf8(p + k, j - k, len))) break;
    ++trail;
    j = k;
  }
  if (lead && (first || b == 0) && add_prefix_space && lead == 1) lead = 0;
  std::size_t nb = b, ne = e;
  if (lead) nb = std::min(b + lead, e);
  if (trail && e >= trail) ne = std::max(e - trail, nb);
  return {nb - b, e - ne};
}

}  // namespace tokenizer_detail

/// @brief HF's ByteLevel decoder: tokens' characters back to bytes, then UTF-8 (invalid
/// sequences become U+FFFD); a token with a character outside the map keeps its bytes.
inline std::string byte_level_decode(const std::vector<std::string>& tokens) {
  std::string bytes;
  for (const auto& t : tokens) {
    const auto* p = reinterpret_cast<const unsigned char*>(t.data());
    const std::size_t start = bytes.size();
    bool ok = true;
    for (std::size_t i = 0; i < t.size() && ok;) {
      std::size_t len = 1;
      const int b =
          tokenizer_detail::char_to_byte(tokenizer_detail::decode_utf8(p + i, t.size() - i, len));
      if (b < 0)
        ok = false;
      else
        bytes.push_back(static_cast<char>(b));
      i += len;
    }
    if (!ok) {
      bytes.resize(start);
      bytes += t;
    }
  }
  std::string out;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t len = 1;
    tokenizer_detail::append_utf8(out, tokenizer_detail::decode_utf8(p + i, bytes.size() - i, len));
    i += len;
  }
  return out;
}

}  // namespace bertpp
