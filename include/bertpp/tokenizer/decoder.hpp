// SPDX-License-Identifier: Apache-2.0
// Decoding: tokens back to text, as HF's WordPiece decoder followed by transformers'
// `clean_up_tokenization`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
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

}  // namespace bertpp
