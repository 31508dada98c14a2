// SPDX-License-Identifier: Apache-2.0
// Stage 2 (and decoding) of SentencePiece tokenizers: HF's WhitespaceSplit and Metaspace
// pre-tokenizers and the Metaspace decoder.
#pragma once

#include <bertpp/tokenizer/detail/unicode.hpp>
#include <bertpp/tokenizer/detail/utf8.hpp>
#include <bertpp/tokenizer/normalizer.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertpp {

/// @brief HF's Metaspace: spaces become `replacement`, a replacement is prepended
/// (prepend_scheme always / first (only to the piece at the start of the input) / never)
/// to a piece that does not start with one, and with `split` each replacement starts a new
/// piece (SplitDelimiterBehavior::MergedWithNext). `whitespace_split`: HF's WhitespaceSplit
/// first (split on Unicode White_Space, dropped), as the Sequence of the SentencePiece
/// converters has it.
struct Metaspace {
  enum class Prepend { always, first, never };
  std::string replacement = "\xE2\x96\x81";  // U+2581
  Prepend prepend = Prepend::always;
  bool split = true;
  bool whitespace_split = false;

  /// @brief Calls `on_piece(text, begin, end)` for each pre-token of `nt[b, e)`: `text` is a
  /// scratch NormalizedText (bytes and sources) holding the piece. `at_start(src)` tells
  /// whether original code point `src` of `nt` is the start of the input (for `first`).
  template <typename AtStart, typename OnPiece>
  void pre_tokenize(const NormalizedText& nt, std::size_t b, std::size_t e, NormalizedText& tmp,
                    AtStart&& at_start, OnPiece&& on_piece) const {
    if (!whitespace_split) return word(nt, b, e, tmp, at_start, on_piece);
    const auto* p = reinterpret_cast<const unsigned char*>(nt.text.data());
    std::size_t w = b;
    for (std::size_t i = b; i < e;) {
      std::size_t len = 1;
      const std::uint32_t c = p[i] < 0x80 ? p[i] : tokenizer_detail::decode_utf8(p + i, e - i, len);
      const bool ws = c < 0x80 ? (c == ' ' || (c >= 0x09 && c <= 0x0D))
                               : (tokenizer_detail::flags_of(c) & tokenizer_detail::tables::kWs);
      if (ws) {
        if (w < i) word(nt, w, i, tmp, at_start, on_piece);
        w = i + len;
      }
      i += len;
    }
    if (w < e) word(nt, w, e, tmp, at_start, on_piece);
  }

  /// @brief HF's Metaspace decoder on the tokens of one decode call.
  std::string decode(const std::vector<std::string>& tokens) const {
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const std::string& t = tokens[i];
      for (std::size_t k = 0; k < t.size();) {
        if (!replacement.empty() && t.compare(k, replacement.size(), replacement) == 0) {
          if (!(i == 0 && prepend != Prepend::never)) out.push_back(' ');
          k += replacement.size();
        } else {
          out.push_back(t[k++]);
        }
      }
    }
    return out;
  }

 private:
  template <typename AtStart, typename OnPiece>
  void word(const NormalizedText& nt, std::size_t b, std::size_t e, NormalizedText& tmp,
            AtStart&& at_start, OnPiece&& on_piece) const {
    if (b >= e) return;
    tmp.clear();
    const bool starts =
        nt.text[b] == ' ' || nt.text.compare(b, replacement.size(), replacement) == 0;
    if (!starts &&
        (prepend == Prepend::always || (prepend == Prepend::first && at_start(nt.src[b])))) {
      tmp.text += replacement;
      tmp.src.insert(tmp.src.end(), replacement.size(), nt.src[b]);
    }
    for (std::size_t i = b; i < e; ++i) {
      if (nt.text[i] == ' ') {
        tmp.text += replacement;
        tmp.src.insert(tmp.src.end(), replacement.size(), nt.src[i]);
      } else {
        tmp.text.push_back(nt.text[i]);
        tmp.src.push_back(nt.src[i]);
      }
    }
    if (!split) return on_piece(tmp, std::size_t{0}, tmp.text.size());
    std::size_t start = 0;
    for (std::size_t i = 0; i < tmp.text.size();) {
      if (i > start && tmp.text.compare(i, replacement.size(), replacement) == 0) {
        on_piece(tmp, start, i);
        start = i;
      }
      i += tmp.text.compare(i, replacement.size(), replacement) == 0 ? replacement.size() : 1;
    }
    if (start < tmp.text.size()) on_piece(tmp, start, tmp.text.size());
  }
};

}  // namespace bertpp
