// SPDX-License-Identifier: Apache-2.0
// Stage 2: HF's BertPreTokenizer (split on whitespace, isolate punctuation).
#pragma once

#include <bertpp/tokenizer/detail/unicode.hpp>
#include <bertpp/tokenizer/detail/utf8.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bertpp {

/// @brief HF's `BertPreTokenizer`: whitespace (Unicode White_Space) ends a word and is
/// dropped; punctuation (ASCII punctuation and Unicode P*) is a word of its own.
class BertPreTokenizer {
 public:
  /// @brief Calls `on_word(begin, end)` with the byte range of each word of `text[begin,
  /// end)` (valid UTF-8, as the normalizer produces).
  template <typename OnWord>
  void split(std::string_view text, std::size_t begin, std::size_t end, OnWord&& on_word) const {
    namespace t = tokenizer_detail::tables;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t word = begin;
    std::size_t i = begin;
    while (i < end) {
      std::uint8_t f;
      std::size_t len = 1;
      if (p[i] < 0x80) {
        f = ascii_flags(p[i]);
      } else {
        f = tokenizer_detail::flags_of(tokenizer_detail::decode_utf8(p + i, end - i, len));
      }
      if (f & t::kWs) {
        if (word < i) on_word(word, i);
        word = i + len;
      } else if (f & t::kPunct) {
        if (word < i) on_word(word, i);
        on_word(i, i + len);
        word = i + len;
      }
      i += len;
    }
    if (word < end) on_word(word, end);
  }

  /// @brief The words of `text` as strings (convenience for tests).
  std::vector<std::string> pre_tokenize_str(std::string_view text) const {
    std::vector<std::string> out;
    split(text, 0, text.size(),
          [&](std::size_t b, std::size_t e) { out.emplace_back(text.substr(b, e - b)); });
    return out;
  }

 private:
  static std::uint8_t ascii_flags(unsigned char c) {
    namespace t = tokenizer_detail::tables;
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return t::kWs;
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
        (c >= 123 && c <= 126))
      return t::kPunct;
    return 0;
  }
};

}  // namespace bertpp
