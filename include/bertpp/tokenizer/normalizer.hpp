// SPDX-License-Identifier: Apache-2.0
// Stage 1: HF's BertNormalizer (clean text, space out CJK, strip accents, lowercase).
#pragma once

#include <bertpp/tokenizer/detail/unicode.hpp>
#include <bertpp/tokenizer/detail/utf8.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bertpp {

/// @brief BertNormalizer options, HF names and defaults.
struct NormalizerOptions {
  bool clean_text = true;             ///< drop NUL/U+FFFD/control/format, whitespace -> ' '
  bool handle_chinese_chars = true;   ///< put spaces around CJK ideographs
  std::optional<bool> strip_accents;  ///< NFD then drop Mn; nullopt: same as `lowercase`
  bool lowercase = true;              ///< Rust char::to_lowercase per code point
};

/// @brief Original text decoded to code points: `cps[i]` starts at byte `byte_start[i]`
/// (`byte_start` has one more entry, the total length). Invalid UTF-8: see detail/utf8.hpp.
struct DecodedText {
  std::vector<std::uint32_t> cps;
  std::vector<std::uint32_t> byte_start;

  /// @brief Decodes `text` (any bytes).
  void assign(std::string_view text) {
    cps.clear();
    byte_start.clear();
    cps.reserve(text.size());
    byte_start.reserve(text.size() + 1);
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
      byte_start.push_back(static_cast<std::uint32_t>(i));
      if (p[i] < 0x80) {
        cps.push_back(p[i]);
        ++i;
        continue;
      }
      std::size_t len = 1;
      cps.push_back(tokenizer_detail::decode_utf8(p + i, n - i, len));
      i += len;
    }
    byte_start.push_back(static_cast<std::uint32_t>(n));
  }
};

/// @brief Normalized text: UTF-8 bytes, and for each byte the index of the original code
/// point it comes from (HF's alignments, per code point).
struct NormalizedText {
  std::string text;
  std::vector<std::uint32_t> src;
  void clear() {
    text.clear();
    src.clear();
  }
};

/// @brief HF's `BertNormalizer`, with tables derived from HF tokenizers itself.
class BertNormalizer {
 public:
  BertNormalizer() = default;
  /// @brief Normalizer with the given options.
  explicit BertNormalizer(const NormalizerOptions& o) : opt_(o) {}

  const NormalizerOptions& options() const { return opt_; }

  /// @brief Normalizes code points `[begin, end)` of `in`, appending to `out`.
  void normalize(const DecodedText& in, std::size_t begin, std::size_t end,
                 NormalizedText& out) const {
    namespace t = tokenizer_detail::tables;
    const bool strip = opt_.strip_accents.value_or(opt_.lowercase);
    for (std::size_t i = begin; i < end; ++i) {
      std::uint32_t c = in.cps[i];
      const auto src = static_cast<std::uint32_t>(i);
      if (c < 0x80) {  // ASCII fast path
        if (opt_.clean_text) {
          if (c == '\t' || c == '\n' || c == '\r') {
            c = ' ';
          } else if (c < 0x20 || c == 0x7F) {
            continue;
          }
        }
        if (opt_.lowercase && c >= 'A' && c <= 'Z') c += 32;
        out.text.push_back(static_cast<char>(c));
        out.src.push_back(src);
        continue;
      }
      std::uint8_t f = tokenizer_detail::flags_of(c);
      if (opt_.clean_text) {
        if (f & t::kDrop) continue;
        if (f & t::kSpace) {
          out.text.push_back(' ');
          out.src.push_back(src);
          continue;
        }
      }
      const bool cjk = opt_.handle_chinese_chars && (f & t::kCjk);
      if (cjk) emit(' ', src, out);
      auto lower_emit = [&](std::uint32_t x) {
        if (opt_.lowercase && (tokenizer_detail::flags_of(x) & t::kLower)) {
          tokenizer_detail::lowercase(x, [&](std::uint32_t y) { emit(y, src, out); });
        } else {
          emit(x, src, out);
        }
      };
      if (strip && (f & t::kStrip)) {
        tokenizer_detail::strip_accents(c, lower_emit);
      } else {
        lower_emit(c);
      }
      if (cjk) emit(' ', src, out);
    }
  }

  /// @brief Normalizes a whole string (convenience for tests and users).
  std::string normalize_str(std::string_view text) const {
    DecodedText d;
    d.assign(text);
    NormalizedText out;
    normalize(d, 0, d.cps.size(), out);
    return out.text;
  }

 private:
  static void emit(std::uint32_t c, std::uint32_t src, NormalizedText& out) {
    const std::size_t before = out.text.size();
    tokenizer_detail::append_utf8(out.text, c);
    out.src.insert(out.src.end(), out.text.size() - before, src);
  }

  NormalizerOptions opt_;
};

}  // namespace bertpp
