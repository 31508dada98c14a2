// SPDX-License-Identifier: Apache-2.0
// Decoding: tokens back to text, as HF's WordPiece decoder followed by transformers'
// `clean_up_tokenization`.
#pragma once

#include <bertpp/tokenizer/detail/utf8.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bertpp {

namespace tokenizer_detail {

/// @brief Replaces every occurrence of `from` with `to`, left to right (Python str.replace).
inline void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t pos = 0;
  bool any = false;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
    any = true;
  }
  if (!any) return;
  out.append(s, pos, std::string::npos);
  s.swap(out);
}

}  // namespace tokenizer_detail

/// @brief HF's WordPiece decoder (`prefix`, `cleanup`) and transformers' cleanup.
class WordPieceDecoder {
 public:
  WordPieceDecoder() = default;
  /// @brief Decoder with HF's fields. `enabled` false: tokens joined by spaces (no decoder).
  WordPieceDecoder(std::string prefix, bool cleanup, bool enabled = true)
      : prefix_(std::move(prefix)), cleanup_(cleanup), enabled_(enabled) {}

  /// @brief HF Rust's tokenizers `cleanup`, applied to each token by the decoder.
  static void rust_cleanup(std::string& s) { apply_cleanup(s, /*rust=*/true); }

  /// @brief transformers' `clean_up_tokenization`, applied to the joined text.
  static void python_cleanup(std::string& s) { apply_cleanup(s, /*rust=*/false); }

  /// @brief Joins tokens: a token starting with the prefix loses it and sticks to the
  /// previous one, others get a space before them; then the optional cleanups.
  std::string decode(const std::vector<std::string>& tokens, bool clean_up_spaces) const {
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (!enabled_) {
        if (i) out.push_back(' ');
        out += tokens[i];
        continue;
      }
      std::string t;
      if (i != 0) {
        if (tokens[i].compare(0, prefix_.size(), prefix_) == 0) {
          t = tokens[i].substr(prefix_.size());
        } else {
          t = " " + tokens[i];
        }
      } else {
        t = tokens[i];
      }
      if (cleanup_) rust_cleanup(t);
      out += t;
    }
    if (clean_up_spaces) python_cleanup(out);
    return out;
  }

 private:
  // The two cleanups differ only in Rust's " do not" -> " don't".
  static void apply_cleanup(std::string& s, bool rust) {
    using tokenizer_detail::replace_all;
    replace_all(s, " .", ".");
    replace_all(s, " ?", "?");
    replace_all(s, " !", "!");
    replace_all(s, " ,", ",");
    replace_all(s, " ' ", "'");
    replace_all(s, " n't", "n't");
    replace_all(s, " 'm", "'m");
    if (rust) replace_all(s, " do not", " don't");
    replace_all(s, " 's", "'s");
    replace_all(s, " 've", "'ve");
    replace_all(s, " 're", "'re");
  }

  std::string prefix_ = "##";
  bool cleanup_ = true;
  bool enabled_ = true;
};

/// @brief HF's decoders.Sequence of Replace (a literal), ByteFallback, Fuse and Strip, the
/// decoder transformers 5 writes for a SentencePiece BPE model
/// (SpmConverter.build_tokenizer_from_spm_proto): each step maps the token list, as Rust's.
class SequenceDecoder {
 public:
  struct Step {
    enum Kind { replace, byte_fallback, fuse, strip };
    Kind kind = fuse;
    std::string from, to;         ///< replace
    std::uint32_t content = ' ';  ///< strip: the character stripped
    std::size_t start = 0, stop = 0;
  };
  SequenceDecoder() = default;
  explicit SequenceDecoder(std::vector<Step> steps) : steps_(std::move(steps)) {}

  std::string decode(std::vector<std::string> toks) const {
    std::vector<std::string> next;
    for (const Step& s : steps_) {
      switch (s.kind) {
        case Step::replace:
          for (auto& t : toks) tokenizer_detail::replace_all(t, s.from, s.to);
          break;
        case Step::byte_fallback:
          next.clear();
          {
            std::string bytes;
            std::size_t n_bytes = 0;
            auto flush = [&] {
              if (n_bytes == 0) return;
              if (valid_utf8(bytes)) {
                next.push_back(bytes);
              } else {
                for (std::size_t k = 0; k < n_bytes; ++k) next.emplace_back("\xEF\xBF\xBD");
              }
              bytes.clear();
              n_bytes = 0;
            };
            for (auto& t : toks) {
              int b = byte_token(t);
              if (b >= 0) {
                bytes.push_back(static_cast<char>(b));
                ++n_bytes;
              } else {
                flush();
                next.push_back(std::move(t));
              }
            }
            flush();
          }
          toks.swap(next);
          break;
        case Step::fuse: {
          std::string all;
          for (const auto& t : toks) all += t;
          toks.assign(1, std::move(all));
          break;
        }
        case Step::strip:
          for (auto& t : toks) strip(t, s);
          break;
      }
    }
    std::string out;
    for (const auto& t : toks) out += t;
    return out;
  }

 private:
  /// The byte of a `<0xNN>` token (Rust's u8::from_str_radix on NN), -1 otherwise.
  static int byte_token(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    int v = 0;
    for (int k = 3; k < 5; ++k) {
      const char c = t[static_cast<std::size_t>(k)];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }
  static bool valid_utf8(const std::string& s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    for (std::size_t i = 0, len = 0; i < s.size(); i += len) {
      const std::uint32_t cp = tokenizer_detail::decode_utf8(p + i, s.size() - i, len);
      if (cp == tokenizer_detail::kReplacement &&
          !(len == 3 && p[i] == 0xEF && p[i + 1] == 0xBF && p[i + 2] == 0xBD))
        return false;
    }
    return true;
  }
  /// Rust's Strip: up to `start` leading and `stop` trailing characters equal to content.
  static void strip(std::string& t, const Step& s) {
    std::string c;
    tokenizer_detail::append_utf8(c, s.content);
    std::size_t b = 0, e = t.size();
    for (std::size_t k = 0; k < s.start && t.compare(b, c.size(), c) == 0 && b < e; ++k)
      b += c.size();
    for (std::size_t k = 0;
         k < s.stop && e >= b + c.size() && t.compare(e - c.size(), c.size(), c) == 0; ++k)
      e -= c.size();
    t = t.substr(b, e - b);
  }

  std::vector<Step> steps_;
};

}  // namespace bertpp
