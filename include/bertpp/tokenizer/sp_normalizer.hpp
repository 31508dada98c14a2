// SPDX-License-Identifier: Apache-2.0
// Stage 1 of SentencePiece tokenizers: HF's normalizer Sequence with Precompiled (the
// charsmap sentencepiece serializes: a darts-clone double-array trie and a blob of
// NUL-terminated replacement strings), Replace (a literal, or a run of one character such
// as the regex " {2,}"), NFD / NFKD, StripAccents and Lowercase. Alignments (for offsets)
// follow HF's NormalizedString transformations step by step.
#pragma once

#include <bertpp/core/error.hpp>
#include <bertpp/tokenizer/detail/unicode.hpp>
#include <bertpp/tokenizer/detail/utf8.hpp>
#include <bertpp/tokenizer/normalizer.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bertpp {

namespace tokenizer_detail {

/// @brief Standard base64 (with or without padding). @throws TokenizerError naming `where`.
inline std::string base64_decode(std::string_view in, const std::string& where) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t i = 0;
  for (; i < in.size() && in[i] != '='; ++i) {
    const int v = val(in[i]);
    if (v < 0)
      throw TokenizerError(where + ": invalid base64 character at position " + std::to_string(i));
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  for (; i < in.size(); ++i)
    if (in[i] != '=') throw TokenizerError(where + ": invalid base64 padding");
  return out;
}

/// @brief Code points and their sources of a normalized text.
inline void decode_normalized(const NormalizedText& t, std::vector<std::uint32_t>& cps,
                              std::vector<std::uint32_t>& src,
                              std::vector<std::uint32_t>* at = nullptr) {
  cps.clear();
  src.clear();
  if (at) at->clear();
  const auto* p = reinterpret_cast<const unsigned char*>(t.text.data());
  for (std::size_t i = 0; i < t.text.size();) {
    std::size_t len = 1;
    const std::uint32_t c = p[i] < 0x80 ? p[i] : decode_utf8(p + i, t.text.size() - i, len);
    cps.push_back(c);
    src.push_back(t.src[i]);
    if (at) at->push_back(static_cast<std::uint32_t>(i));
    i += len;
  }
  if (at) at->push_back(static_cast<std::uint32_t>(t.text.size()));
}

}  // namespace tokenizer_detail

/// @brief The charsmap of HF's Precompiled normalizer.
class PrecompiledCharsmap {
 public:
  PrecompiledCharsmap() = default;
  /// @brief Parses sentencepiece's serialized charsmap: u32 (little endian) trie size in
  /// bytes, the trie units, then the replacement strings.
  /// @throws TokenizerError naming `where` (too short, trie size out of range or not a
  /// multiple of 4, replacement blob not valid UTF-8).
  PrecompiledCharsmap(std::string_view blob, const std::string& where) : where_(where) {
    if (blob.size() < 4)
      throw TokenizerError(where + ": precompiled_charsmap is too short (" +
                           std::to_string(blob.size()) + " bytes)");
    const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
    const std::uint32_t size = p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t{p[3]} << 24);
    if (size % 4 != 0 || size > blob.size() - 4 || size == 0)
      throw TokenizerError(where + ": precompiled_charsmap trie size " + std::to_string(size) +
                           " is out of range (blob of " + std::to_string(blob.size()) + " bytes)");
    units_.resize(size / 4);
    for (std::size_t i = 0; i < units_.size(); ++i) {
      const unsigned char* u = p + 4 + 4 * i;
      units_[i] = u[0] | (u[1] << 8) | (u[2] << 16) | (std::uint32_t{u[3]} << 24);
    }
    normalized_.assign(blob.data() + 4 + size, blob.size() - 4 - size);
    const auto* q = reinterpret_cast<const unsigned char*>(normalized_.data());
    for (std::size_t i = 0; i < normalized_.size();) {
      std::size_t len = 1;
      if (q[i] >= 0x80 &&
          tokenizer_detail::decode_utf8(q + i, normalized_.size() - i, len) ==
              tokenizer_detail::kReplacement &&
          !(len == 3 && q[i] == 0xEF && q[i + 1] == 0xBF && q[i + 2] == 0xBD))
        throw TokenizerError(where +
                             ": precompiled_charsmap replacement strings are not valid "
                             "UTF-8 (byte " +
                             std::to_string(i) + ")");
      i += len;
    }
  }

  /// @brief HF's `transform`: the replacement of the *shortest* key that is a prefix of
  /// `chunk`, or false when none is. @throws TokenizerError (a trie index or replacement
  /// offset out of range: a corrupt charsmap).
  bool transform(std::string_view chunk, std::string_view& out) const {
    std::size_t pos = 0;
    std::uint32_t unit = at(0);
    pos ^= offset(unit);
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const auto c = static_cast<unsigned char>(chunk[i]);
      pos ^= c;
      unit = at(pos);
      if ((unit & ((1u << 31) | 0xFFu)) != c) return false;
      pos ^= offset(unit);
      if ((unit >> 8) & 1u) {
        const std::size_t v = at(pos) & ((1u << 31) - 1);
        if (v >= normalized_.size())
          throw TokenizerError(where_ + ": precompiled_charsmap replacement offset " +
                               std::to_string(v) + " is out of range");
        std::size_t e = v;
        while (e < normalized_.size() && normalized_[e] != '\0') ++e;
        if (!boundary(v) || !boundary(e))
          throw TokenizerError(where_ + ": precompiled_charsmap replacement offset " +
                               std::to_string(v) + " is inside a character");
        out = std::string_view(normalized_).substr(v, e - v);
        return true;
      }
    }
    return false;
  }

 private:
  static std::size_t offset(std::uint32_t unit) {
    return (unit >> 10) << ((unit & (1u << 9)) >> 6);
  }
  std::uint32_t at(std::size_t i) const {
    if (i >= units_.size())
      throw TokenizerError(where_ + ": precompiled_charsmap trie index " + std::to_string(i) +
                           " is out of range (" + std::to_string(units_.size()) + " units)");
    return units_[i];
  }
  bool boundary(std::size_t i) const {
    return i >= normalized_.size() || (static_cast<unsigned char>(normalized_[i]) & 0xC0) != 0x80;
  }

  std::vector<std::uint32_t> units_;
  std::string normalized_;
  std::string where_;
};

/// @brief One step of a SentencePiece normalizer Sequence.
struct SpNormalizerStep {
  /// replace_prefix: `from` at the start only (regex `\A` + literal); strip_run: the runs of
  /// `run_char` at the start and at the end removed (regex `\A c+| c+\z`, HF's SentencePiece
  /// conversion of remove_extra_whitespaces).
  enum Kind {
    replace,
    replace_run,
    replace_prefix,
    strip_run,
    nfd,
    nfkd,
    strip_accents,
    lowercase,
    precompiled
  };
  Kind kind = replace;
  std::string from, to;        ///< replace: literal pattern and content; replace_run: content
  std::uint32_t run_char = 0;  ///< replace_run: the character repeated
  std::size_t min_run = 1;     ///< replace_run: shortest run replaced
  std::shared_ptr<const PrecompiledCharsmap> charsmap;
};

/// @brief HF's normalizer Sequence of the supported steps.
class SpNormalizer {
 public:
  SpNormalizer() = default;
  /// @brief Sequence of `steps`, applied in order.
  explicit SpNormalizer(std::vector<SpNormalizerStep> steps) : steps_(std::move(steps)) {}

  /// @brief Normalizes code points `[begin, end)` of `in` into `out`.
  void normalize(const DecodedText& in, std::size_t begin, std::size_t end,
                 NormalizedText& out) const {
    thread_local NormalizedText cur, next;
    cur.clear();
    for (std::size_t i = begin; i < end; ++i) {
      const std::size_t before = cur.text.size();
      tokenizer_detail::append_utf8(cur.text, in.cps[i]);
      cur.src.insert(cur.src.end(), cur.text.size() - before, static_cast<std::uint32_t>(i));
    }
    for (const auto& s : steps_) {
      next.clear();
      if (apply(s, cur, next)) std::swap(cur, next);
    }
    out.text.append(cur.text);
    out.src.insert(out.src.end(), cur.src.begin(), cur.src.end());
  }

  /// @brief Normalizes a whole string (added tokens, tests).
  std::string normalize_str(std::string_view text) const {
    return tokenizer_detail::normalize_string(*this, text);
  }

 private:
  using Text = NormalizedText;

  static void put(Text& out, std::uint32_t c, std::uint32_t src) {
    const std::size_t before = out.text.size();
    tokenizer_detail::append_utf8(out.text, c);
    out.src.insert(out.src.end(), out.text.size() - before, src);
  }

  // Returns false when `in` stays as it is (nothing written to `out`).
  static bool apply(const SpNormalizerStep& s, const Text& in, Text& out) {
    thread_local std::vector<std::uint32_t> cps, src, at;
    switch (s.kind) {
      case SpNormalizerStep::replace:
      case SpNormalizerStep::replace_run:
      case SpNormalizerStep::replace_prefix:
      case SpNormalizerStep::strip_run:
        return replace(s, in, out);
      case SpNormalizerStep::nfd:
      case SpNormalizerStep::nfkd:
        tokenizer_detail::decode_normalized(in, cps, src);
        BertNormalizer::decompose(cps, src, s.kind == SpNormalizerStep::nfkd, false, out);
        return true;
      case SpNormalizerStep::strip_accents: {  // drop marks (M*, not only BERT's Mn)
        tokenizer_detail::decode_normalized(in, cps, src);
        for (std::size_t i = 0; i < cps.size(); ++i)
          if (!tokenizer_detail::is_mark(cps[i])) put(out, cps[i], src[i]);
        return true;
      }
      case SpNormalizerStep::lowercase:
        tokenizer_detail::decode_normalized(in, cps, src);
        for (std::size_t i = 0; i < cps.size(); ++i) {
          if (tokenizer_detail::flags_of(cps[i]) & tokenizer_detail::tables::kLower) {
            tokenizer_detail::lowercase(cps[i], [&](std::uint32_t y) { put(out, y, src[i]); });
          } else {
            put(out, cps[i], src[i]);
          }
        }
        return true;
      case SpNormalizerStep::precompiled:
        return precompiled(*s.charsmap, in, out);
    }
    return false;
  }

  // NormalizedString::replace: each match removed, the content inserted with the alignment
  // of the match's last byte.
  static bool replace(const SpNormalizerStep& s, const Text& in, Text& out) {
    const std::string& t = in.text;
    bool any = false;
    std::size_t last = 0;
    auto emit_match = [&](std::size_t b, std::size_t e) {
      out.text.append(t, last, b - last);
      out.src.insert(out.src.end(), in.src.begin() + static_cast<std::ptrdiff_t>(last),
                     in.src.begin() + static_cast<std::ptrdiff_t>(b));
      out.text.append(s.to);
      out.src.insert(out.src.end(), s.to.size(), in.src[e - 1]);
      last = e;
      any = true;
    };
    if (s.kind == SpNormalizerStep::replace) {
      if (s.from.empty()) return false;
      for (std::size_t hit; (hit = t.find(s.from, last)) != std::string::npos;)
        emit_match(hit, hit + s.from.size());
    } else if (s.kind == SpNormalizerStep::replace_prefix) {
      if (s.from.empty() || t.compare(0, s.from.size(), s.from) != 0) return false;
      emit_match(0, s.from.size());
    } else if (s.kind == SpNormalizerStep::strip_run) {
      std::string unit;
      tokenizer_detail::append_utf8(unit, s.run_char);
      std::size_t a = 0, b = t.size();
      while (a < t.size() && t.compare(a, unit.size(), unit) == 0) a += unit.size();
      if (a > 0) emit_match(0, a);  // all of it when the text is only the run
      while (b >= a + unit.size() && t.compare(b - unit.size(), unit.size(), unit) == 0)
        b -= unit.size();
      if (b < t.size() && b >= a && a < t.size()) emit_match(b, t.size());
    } else {
      std::string unit;
      tokenizer_detail::append_utf8(unit, s.run_char);
      for (std::size_t i = 0; i < t.size();) {
        if (t.compare(i, unit.size(), unit) != 0) {
          ++i;
          continue;
        }
        std::size_t j = i, n = 0;
        while (t.compare(j, unit.size(), unit) == 0) {
          j += unit.size();
          ++n;
        }
        if (n >= s.min_run) emit_match(i, j);
        i = j;
      }
    }
    if (!any) return false;
    out.text.append(t, last, std::string::npos);
    out.src.insert(out.src.end(), in.src.begin() + static_cast<std::ptrdiff_t>(last), in.src.end());
    return true;
  }

  // HF's Precompiled::normalize: per extended grapheme cluster, a whole-cluster lookup when
  // it is shorter than 6 bytes, else per character; the changes then applied as
  // NormalizedString::transform does (the alignment of each output character comes from
  // walking the old characters with the recorded changes).
  static bool precompiled(const PrecompiledCharsmap& map, const Text& in, Text& out) {
    thread_local std::vector<std::uint32_t> cps, src, at;
    thread_local std::vector<std::pair<std::uint32_t, long>> changes;
    tokenizer_detail::decode_normalized(in, cps, src, &at);
    changes.clear();
    bool modified = false;
    auto replace_part = [&](std::size_t old_count, std::string_view norm) {
      const auto* q = reinterpret_cast<const unsigned char*>(norm.data());
      long n = 0;
      for (std::size_t i = 0; i < norm.size(); ++n) {
        std::size_t len = 1;
        const std::uint32_t c =
            q[i] < 0x80 ? q[i] : tokenizer_detail::decode_utf8(q + i, norm.size() - i, len);
        changes.emplace_back(c, 0);
        i += len;
      }
      const long diff = n - static_cast<long>(old_count);
      if (diff > 0) {
        for (long k = 0; k < diff; ++k)
          changes[changes.size() - 1 - static_cast<std::size_t>(k)].second = 1;
      } else if (diff < 0 && !changes.empty()) {
        changes.back().second += diff;
      }
    };
    const std::string& t = in.text;
    for (std::size_t g = 0; g < cps.size();) {
      std::size_t h = g + 1;  // cluster [g, h) in code points
      while (h < cps.size() && !breaks(cps[h - 1], cps[h])) ++h;
      const std::size_t gb = at[g], ge = at[h];
      std::string_view norm;
      if (ge - gb < 6 && map.transform(std::string_view(t).substr(gb, ge - gb), norm)) {
        modified = true;
        replace_part(h - g, norm);
      } else {
        for (std::size_t k = g; k < h; ++k) {
          if (map.transform(std::string_view(t).substr(at[k], at[k + 1] - at[k]), norm)) {
            modified = true;
            replace_part(1, norm);
          } else {
            changes.emplace_back(cps[k], 0);
          }
        }
      }
      g = h;
    }
    if (!modified) return false;
    std::size_t idx = 0;  // old code point index
    for (const auto& [c, change] : changes) {
      std::uint32_t s;
      if (change > 0) {
        s = idx == 0 ? (src.empty() ? 0 : src[0]) : src[idx - 1];
      } else {
        s = idx < src.size() ? src[idx] : (src.empty() ? 0 : src.back());
        idx += 1 + static_cast<std::size_t>(-change);
      }
      put(out, c, s);
    }
    return true;
  }

  // Extended grapheme cluster boundary between a and b, for the rules that decide
  // clusters shorter than 6 bytes (tools/gen_sp_tables.py).
  static bool breaks(std::uint32_t a, std::uint32_t b) {
    namespace t = tokenizer_detail::tables;
    const std::uint8_t ca = tokenizer_detail::grapheme_class(a),
                       cb = tokenizer_detail::grapheme_class(b);
    if (ca == t::kGCr && cb == t::kGLf) return false;
    const bool ctl_a = ca == t::kGControl || ca == t::kGCr || ca == t::kGLf;
    const bool ctl_b = cb == t::kGControl || cb == t::kGCr || cb == t::kGLf;
    if (ctl_a || ctl_b) return true;
    if (cb == t::kGExtend) return false;
    if (ca == t::kGPrepend) return false;
    return true;
  }

  std::vector<SpNormalizerStep> steps_;
};

}  // namespace bertpp
