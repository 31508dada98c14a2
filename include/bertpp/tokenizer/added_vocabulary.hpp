// SPDX-License-Identifier: Apache-2.0
// Added tokens (special tokens such as [CLS], [MASK]; user-added tokens): matched in the
// text before normalization (normalized == false) or in the normalized text
// (normalized == true), leftmost-longest, as HF's AddedVocabulary.
#pragma once

#include <bertpp/tokenizer/detail/unicode.hpp>
#include <bertpp/tokenizer/detail/utf8.hpp>

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bertpp {

/// @brief One added token, with HF's flags.
struct AddedToken {
  std::string content;
  std::int32_t id = -1;
  bool special = true;       ///< skipped by decode(skip_special_tokens)
  bool normalized = false;   ///< matched in the normalized text instead of the raw text
  bool lstrip = false;       ///< the match swallows whitespace on its left
  bool rstrip = false;       ///< the match swallows whitespace on its right
  bool single_word = false;  ///< only matched when not inside a word
};

/// @brief Leftmost-longest matcher over a set of patterns (bytes), HF's added-token split.
class AddedTokenMatcher {
 public:
  /// @brief Adds `pattern` for token `index` (empty patterns are ignored).
  void add(std::string_view pattern, std::size_t index) {
    if (pattern.empty()) return;
    if (nodes_.empty()) nodes_.emplace_back();
    first_.set(static_cast<unsigned char>(pattern[0]));
    std::size_t node = 0;
    for (unsigned char b : pattern) {
      std::size_t next = find(node, b);
      if (next == kNone) {
        next = nodes_.size();
        nodes_[node].children.emplace_back(b, next);
        nodes_.emplace_back();
      }
      node = next;
    }
    if (nodes_[node].token == kNone) nodes_[node].token = index;
  }

  bool empty() const { return nodes_.empty(); }

  /// @brief Finds matches in `text[begin, end)`; calls `on(match_begin, match_end, index,
  /// content_begin, content_end)` for each (non-overlapping, left to right), with
  /// lstrip/rstrip/single_word applied using `tokens[index]`: the match covers the stripped
  /// whitespace (HF's offsets of the token), the content range is the token itself;
  /// `floor` is where the previous match ended.
  template <typename On>
  void find_all(std::string_view text, std::size_t begin, std::size_t end,
                const std::vector<AddedToken>& tokens, On&& on) const {
    if (nodes_.empty()) return;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t floor = begin;
    std::size_t i = begin;
    while (i < end) {
      if (!first_.test(p[i])) {
        ++i;
        continue;
      }
      std::size_t node = 0, best = kNone, best_end = 0;
      for (std::size_t k = i; k < end; ++k) {
        node = find(node, p[k]);
        if (node == kNone) break;
        if (nodes_[node].token != kNone) {
          best = nodes_[node].token;
          best_end = k + 1;
        }
      }
      if (best == kNone) {
        ++i;
        continue;
      }
      const AddedToken& t = tokens[best];
      std::size_t s = i, e = best_end;
      if (t.single_word && (is_word_char_before(p, begin, s) || is_word_char_at(p, e, end))) {
        ++i;
        continue;
      }
      if (t.lstrip) {
        while (s > floor) {
          std::size_t cs = s - 1;
          while (cs > floor && (p[cs] & 0xC0) == 0x80) --cs;
          if (!is_ws(p, cs, end)) break;
          s = cs;
        }
      }
      if (t.rstrip) {
        while (e < end) {
          std::size_t len = 1;
          const std::uint32_t c = tokenizer_detail::decode_utf8(p + e, end - e, len);
          if (!(tokenizer_detail::flags_of(c) & tokenizer_detail::tables::kWs)) break;
          e += len;
        }
      }
      on(s, e, best, i, best_end);
      floor = e;
      i = best_end > e ? best_end : e;
    }
  }

 private:
  static constexpr std::size_t kNone = ~std::size_t{0};
  struct Node {
    std::vector<std::pair<unsigned char, std::size_t>> children;
    std::size_t token = kNone;
  };

  std::size_t find(std::size_t node, unsigned char b) const {
    for (const auto& c : nodes_[node].children)
      if (c.first == b) return c.second;
    return kNone;
  }

  static bool is_ws(const unsigned char* p, std::size_t at, std::size_t end) {
    std::size_t len = 1;
    const std::uint32_t c = tokenizer_detail::decode_utf8(p + at, end - at, len);
    return tokenizer_detail::flags_of(c) & tokenizer_detail::tables::kWs;
  }
  // A "word character" for single_word: neither whitespace nor punctuation.
  static bool word_char(std::uint32_t c) {
    return !(tokenizer_detail::flags_of(c) &
             (tokenizer_detail::tables::kWs | tokenizer_detail::tables::kPunct));
  }
  static bool is_word_char_at(const unsigned char* p, std::size_t at, std::size_t end) {
    if (at >= end) return false;
    std::size_t len = 1;
    return word_char(tokenizer_detail::decode_utf8(p + at, end - at, len));
  }
  static bool is_word_char_before(const unsigned char* p, std::size_t begin, std::size_t at) {
    if (at <= begin) return false;
    std::size_t cs = at - 1;
    while (cs > begin && (p[cs] & 0xC0) == 0x80) --cs;
    std::size_t len = 1;
    return word_char(tokenizer_detail::decode_utf8(p + cs, at - cs, len));
  }

  std::vector<Node> nodes_;
  std::bitset<256> first_;
};

}  // namespace bertpp
