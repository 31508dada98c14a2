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
  bool clean_text = true;            ///< drop NUL/U+FFFD/control/format, whitespace -> ' '
  bool handle_chinese_chars = true;  ///< put spaces around CJK ideographs
  std::optional<bool>
      strip_accents;      ///< NFD (with reordering) then drop Mn; nullopt: same as `lowercase`
  bool lowercase = true;  ///< Rust char::to_lowercase per code point
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

namespace tokenizer_detail {

/// @brief `n.normalize` of a whole string, as a string (added tokens, tests).
template <typename Normalizer>
std::string normalize_string(const Normalizer& n, std::string_view text) {
  DecodedText d;
  d.assign(text);
  NormalizedText out;
  n.normalize(d, 0, d.cps.size(), out);
  return out.text;
}

}  // namespace tokenizer_detail

/// @brief HF's `BertNormalizer`, with tables derived from HF tokenizers itself.
class BertNormalizer {
 public:
  BertNormalizer() = default;
  /// @brief Normalizer with the given options.
  explicit BertNormalizer(const NormalizerOptions& o) : opt_(o) {}

  const NormalizerOptions& options() const { return opt_; }

  /// @brief Normalizes code points `[begin, end)` of `in`, appending to `out`.
  ///
  /// As HF: clean_text, then CJK spacing, then (strip_accents) NFD of the whole text with
  /// canonical reordering of combining marks, dropping Mn, then lowercasing. The alignment
  /// of each output character follows HF's NormalizedString::transform: after NFD the k-th
  /// character that starts a decomposition takes the k-th input character's position (so a
  /// reordered mark takes the position of the one it moved over) and the other characters
  /// of a decomposition the position of the last one taken; dropping Mn keeps the rest.
  void normalize(const DecodedText& in, std::size_t begin, std::size_t end,
                 NormalizedText& out) const {
    if (opt_.strip_accents.value_or(opt_.lowercase)) {
      NfdStage nfd{*this, out, {}, {}, 0, static_cast<std::uint32_t>(begin), false, true};
      run(
          in, begin, end, out,
          [&](std::uint32_t c, std::uint32_t src, std::uint8_t f) { nfd.push(c, src, f); },
          [&] { return nfd.marks.empty(); });
      nfd.flush();
    } else {
      run(
          in, begin, end, out,
          [&](std::uint32_t c, std::uint32_t src, std::uint8_t f) { emit_lower(c, f, src, out); },
          [] { return true; });
    }
  }

  /// @brief HF's NFD / NFKD (`compat`) of the code points `cps[i]` aligned to `src[i]`
  /// (canonical reordering, alignments as `normalize` gives them), dropping Mn when
  /// `strip` (StripAccents after the decomposition); appends to `out`.
  static void decompose(const std::vector<std::uint32_t>& cps,
                        const std::vector<std::uint32_t>& src, bool compat, bool strip,
                        NormalizedText& out) {
    static const BertNormalizer plain(NormalizerOptions{false, false, true, false});
    NfdStage nfd{plain, out, {}, {}, 0, cps.empty() ? 0u : src[0], compat, strip};
    for (std::size_t i = 0; i < cps.size(); ++i)
      nfd.push(cps[i], src[i], tokenizer_detail::flags_of(cps[i]));
    nfd.flush();
  }

  /// @brief Normalizes a whole string (convenience for tests and users).
  std::string normalize_str(std::string_view text) const {
    return tokenizer_detail::normalize_string(*this, text);
  }

 private:
  /// clean_text and CJK spacing: calls `sink(c, src, flags of c)` per code point, except
  /// for ASCII letters, digits and symbols when `plain()` (nothing pending in the sink),
  /// which go straight to `out`.
  template <typename Sink, typename Plain>
  void run(const DecodedText& in, std::size_t begin, std::size_t end, NormalizedText& out,
           Sink&& sink, Plain&& plain) const {
    namespace t = tokenizer_detail::tables;
    for (std::size_t i = begin; i < end; ++i) {
      std::uint32_t c = in.cps[i];
      const auto src = static_cast<std::uint32_t>(i);
      if (c < 0x80) {  // ASCII fast path: no decomposition, combining class 0
        if (opt_.clean_text) {
          if (c == '\t' || c == '\n' || c == '\r') {
            c = ' ';
          } else if (c < 0x20 || c == 0x7F) {
            continue;
          }
        }
        if (!plain()) {
          sink(c, src, tokenizer_detail::flags_of(c));
          continue;
        }
        if (opt_.lowercase && c >= 'A' && c <= 'Z') c += 32;
        out.text.push_back(static_cast<char>(c));
        out.src.push_back(src);
        continue;
      }
      const std::uint8_t f = tokenizer_detail::flags_of(c);
      if (opt_.clean_text) {
        if (f & t::kDrop) continue;
        if (f & t::kSpace) {
          sink(' ', src, t::kWs);
          continue;
        }
      }
      if (opt_.handle_chinese_chars && (f & t::kCjk)) {
        sink(' ', src, t::kWs);
        sink(c, src, f);
        sink(' ', src, t::kWs);
      } else {
        sink(c, src, f);
      }
    }
  }

  /// Appends `c` (flags `f`) lowercased if asked, all of it aligned to `src`.
  void emit_lower(std::uint32_t c, std::uint8_t f, std::uint32_t src, NormalizedText& out) const {
    if (opt_.lowercase && (f & tokenizer_detail::tables::kLower)) {
      tokenizer_detail::lowercase(c, [&](std::uint32_t y) { emit(y, src, out); });
    } else {
      emit(c, src, out);
    }
  }

  /// A non-starter waiting for canonical reordering.
  struct Mark {
    std::uint32_t cp;
    std::uint8_t ccc;
    bool first;  ///< starts the decomposition of an input character
    bool drop;   ///< Mn: removed by strip_accents
  };

  /// NFD + canonical reordering + dropping Mn + lowercasing, streaming: starters go out at
  /// once; a run of non-starters waits until the next starter (or the end), is sorted by
  /// combining class (stably) and then goes out.
  struct NfdStage {
    const BertNormalizer& n;
    NormalizedText& out;
    std::vector<Mark> marks;
    std::vector<std::uint32_t> pending_src;  ///< sources of inputs whose first mark waits
    std::size_t head;
    std::uint32_t last;  ///< source of the last input character taken
    bool compat;         ///< NFKD (else NFD)
    bool strip;          ///< drop Mn

    void push(std::uint32_t c, std::uint32_t src, std::uint8_t f) {
      namespace t = tokenizer_detail::tables;
      if (!(f & (t::kStrip | t::kNonStarter)) &&
          !(compat && tokenizer_detail::has_compat(c))) {  // a starter that stays as it is
        if (!marks.empty()) flush();
        n.emit_lower(c, f, src, out);
        last = src;
        return;
      }
      bool first = true;
      auto each = [&](std::uint32_t e) {
        // Decomposition outputs are NFD-stable (checked by the generator): kStrip = Mn.
        const std::uint8_t fe = e == c ? f : tokenizer_detail::flags_of(e);
        const bool drop = strip && (fe & t::kStrip) != 0;
        if (!(fe & t::kNonStarter)) {
          if (!marks.empty()) flush();
          if (first) last = src;
          if (!drop) n.emit_lower(e, fe, last, out);
        } else {
          if (first) pending_src.push_back(src);
          marks.push_back({e, tokenizer_detail::combining_class(e), first, drop});
        }
        first = false;
      };
      if (compat) {
        tokenizer_detail::nfkd(c, each);
      } else {
        tokenizer_detail::nfd(c, each);
      }
    }

    void flush() {
      for (std::size_t i = 1; i < marks.size(); ++i) {  // stable insertion sort by class
        const Mark m = marks[i];
        std::size_t j = i;
        for (; j > 0 && marks[j - 1].ccc > m.ccc; --j) marks[j] = marks[j - 1];
        marks[j] = m;
      }
      for (const Mark& m : marks) {
        if (m.first) last = pending_src[head++];
        if (!m.drop) n.emit_lower(m.cp, tokenizer_detail::flags_of(m.cp), last, out);
      }
      marks.clear();
      pending_src.clear();
      head = 0;
    }
  };

  static void emit(std::uint32_t c, std::uint32_t src, NormalizedText& out) {
    const std::size_t before = out.text.size();
    tokenizer_detail::append_utf8(out.text, c);
    out.src.insert(out.src.end(), out.text.size() - before, src);
  }

  NormalizerOptions opt_;
};

}  // namespace bertpp
