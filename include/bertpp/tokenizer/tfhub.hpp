// SPDX-License-Identifier: Apache-2.0
// TF Hub's BERT preprocessing (`bert_en_uncased_preprocess`, `bert_en_cased_preprocess`):
// tensorflow_text's BertTokenizer, then BertPackInputs (RoundRobinTrimmer, combine_segments,
// pad_model_inputs) to a fixed seq_length, with TF Hub's names for the three inputs.
//
// tensorflow_text's BertTokenizer is not HF's: lower-casing is ICU's full case folding, then
// NFD and removal of \p{Mn} (HF: per-code-point lowercase, NFD, Mn removed); \p{Cc} and \p{Cf}
// become spaces and the split drops only RE2's \s (HF drops every Unicode space, control
// and format character, U+FFFD and NUL); special tokens written in the text are plain text;
// words over 100 *bytes* are [UNK] (HF: 100 code points). So this preprocessor has its own
// basic tokenizer, its tables measured on tensorflow_text code point by code point
// (detail/tf_text_tables.hpp, tools/make_tfhub_preprocess_reference.py), and shares only the
// WordPiece model with bertpp::Tokenizer. Invalid UTF-8 decodes to U+FFFD per maximal
// invalid subsequence (tensorflow_text's behaviour there is not reproduced).
#pragma once

#include <bertpp/core/encoding.hpp>
#include <bertpp/core/error.hpp>
#include <bertpp/io/tf_saved_model.hpp>
#include <bertpp/tokenizer/detail/files.hpp>
#include <bertpp/tokenizer/detail/saved_model_case.hpp>
#include <bertpp/tokenizer/detail/tf_text_tables.hpp>
#include <bertpp/tokenizer/detail/utf8.hpp>
#include <bertpp/tokenizer/tokenizer.hpp>
#include <bertpp/tokenizer/wordpiece.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace bertpp {

/// @brief Options of TfHubPreprocessor (the preprocess model's arguments).
struct TfHubPreprocessOptions {
  /// Positions of every packed row, as TF Hub's `bert_pack_inputs(seq_length=...)` (128 in
  /// the published preprocess models): inputs are trimmed round robin to fit and padded to it.
  std::size_t seq_length = 128;
  /// Lower-case (case fold, NFD, accents removed): nullopt decides from the folder (see
  /// TfHubPreprocessor::load).
  std::optional<bool> lower_case;
  /// Largest seq_length accepted (TokenizerError above).
  static constexpr std::size_t max_seq_length = std::size_t{1} << 16;
};

/// @brief The preprocess model's outputs, under TF Hub's names: [batch x seq_length] each,
/// row-major.
struct TfHubInputs {
  std::size_t batch = 0, seq_length = 0;
  std::vector<std::int32_t> input_word_ids;  ///< [CLS] A [SEP] (B [SEP]), then [PAD] ids
  std::vector<std::int32_t> input_mask;      ///< 1 on tokens, 0 on padding
  std::vector<std::int32_t> input_type_ids;  ///< 0 for [CLS] A [SEP], 1 for B [SEP], 0 on padding

  /// @brief The rows as model inputs (each seq_length long, padding marked by the mask), for
  /// EncoderModel::forward.
  std::vector<Encoding> encodings() const {
    std::vector<Encoding> out(batch);
    for (std::size_t r = 0; r < batch; ++r) {
      const auto b = static_cast<std::ptrdiff_t>(r * seq_length);
      const auto e = b + static_cast<std::ptrdiff_t>(seq_length);
      out[r] = Encoding::from_ids({input_word_ids.begin() + b, input_word_ids.begin() + e},
                                  {input_type_ids.begin() + b, input_type_ids.begin() + e},
                                  {input_mask.begin() + b, input_mask.begin() + e});
    }
    return out;
  }
};

namespace tokenizer_detail {

/// @brief What tensorflow_text's BasicTokenizer.lower_case makes of `cp`: appended to `out`.
inline void tf_text_lower(std::uint32_t cp, std::vector<std::uint32_t>& out) {
  if (cp >= 0xAC00 && cp < 0xAC00 + 11172) {  // Hangul syllable: NFD by the algorithm
    const std::uint32_t i = cp - 0xAC00;
    out.push_back(0x1100 + i / (21 * 28));
    out.push_back(0x1161 + (i % (21 * 28)) / 28);
    if (i % 28) out.push_back(0x11A7 + i % 28);
    return;
  }
  const auto* b = std::begin(tf_text::kLower);
  const auto* e = std::end(tf_text::kLower);
  const auto* it = std::lower_bound(
      b, e, cp, [](const tf_text::LowerEntry& x, std::uint32_t c) { return x.cp < c; });
  if (it == e || it->cp != cp) {
    out.push_back(cp);
    return;
  }
  const unsigned char* p = tf_text::kLowerPool + it->offset;
  for (std::size_t i = 0; i < it->length;) {
    std::size_t len = 1;
    out.push_back(p[i] < 0x80 ? p[i] : decode_utf8(p + i, it->length - i, len));
    i += len;
  }
}

/// @brief tensorflow_text's split class of `cp`: 0 word character, 1 whitespace (dropped),
/// 2 delimiter (a word of its own).
inline std::uint8_t tf_text_class(std::uint32_t cp) {
  const auto* b = std::begin(tf_text::kClasses);
  const auto* e = std::end(tf_text::kClasses);
  const auto* it = std::upper_bound(
      b, e, cp, [](std::uint32_t c, const tf_text::ClassRange& r) { return c < r.first; });
  if (it == b) return 0;
  --it;
  return cp <= it->last ? it->cls : 0;
}

}  // namespace tokenizer_detail

/// @brief TF Hub's BERT preprocess model: texts (or pairs) to `input_word_ids`,
/// `input_mask`, `input_type_ids` of a fixed seq_length, identical to what
/// `bert_en_uncased_preprocess` (tensorflow_text) gives. Immutable after loading.
class TfHubPreprocessor {
 public:
  /// @brief From a folder: a SavedModel's `assets/vocab.txt` (a TF Hub encoder or
  /// preprocess model), else `vocab.txt`. Lower-casing: the option when set; else the
  /// SavedModel's `do_lower_case` variable (tf2_do_lower_case) when it has one; else the
  /// folder's name (`cased` without `uncased` keeps case, as for Google's checkpoints).
  /// @throws IoError (no vocabulary), FormatError, TokenizerError (options, special tokens).
  static TfHubPreprocessor load(const std::string& dir, const TfHubPreprocessOptions& opt = {}) {
    const std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
    const bool saved_model = tokenizer_detail::file_exists(base + "assets/vocab.txt");
    const std::string vocab = saved_model ? base + "assets/vocab.txt" : base + "vocab.txt";
    if (!tokenizer_detail::file_exists(vocab))
      throw IoError("'" + dir + "': no vocabulary (expected assets/vocab.txt or vocab.txt)");
    TfHubPreprocessOptions o = opt;
    if (!o.lower_case)
      o.lower_case = saved_model ? tokenizer_detail::saved_model_lower_case(base)
                                 : tokenizer_detail::name_says_lower_case(base);
    return from_vocab_file(vocab, o);
  }

  /// @brief From a vocab.txt (lower_case: true when unset, as bert_en_uncased_preprocess).
  /// @throws IoError, FormatError, TokenizerError (seq_length 0, below 2 or above
  /// max_seq_length; [CLS], [SEP], [PAD] or [UNK] not in the vocabulary).
  static TfHubPreprocessor from_vocab_file(const std::string& vocab_txt,
                                           const TfHubPreprocessOptions& opt = {}) {
    if (opt.seq_length < 2 || opt.seq_length > TfHubPreprocessOptions::max_seq_length)
      throw TokenizerError("TfHubPreprocessOptions::seq_length " + std::to_string(opt.seq_length) +
                           " is outside [2, " +
                           std::to_string(TfHubPreprocessOptions::max_seq_length) +
                           "] (2 for [CLS] A [SEP], 3 for pairs)");
    TfHubPreprocessor p;
    p.seq_length_ = opt.seq_length;
    p.lower_case_ = opt.lower_case.value_or(true);
    const auto vocab = tokenizer_detail::read_vocab_txt(vocab_txt);
    auto id = [&](const char* t) {
      for (std::size_t i = 0; i < vocab.size(); ++i)
        if (vocab[i] == t) return static_cast<std::int32_t>(i);
      throw TokenizerError("'" + vocab_txt + "': " + t + " is not in the vocabulary");
    };
    p.cls_ = id("[CLS]");
    p.sep_ = id("[SEP]");
    p.pad_ = id("[PAD]");
    // tensorflow_text limits words in bytes (max_bytes_per_word), checked before WordPiece.
    p.wordpiece_ = WordPiece(vocab, "[UNK]", "##", kMaxBytesPerWord);
    return p;
  }

  std::size_t seq_length() const { return seq_length_; }
  bool lower_case() const { return lower_case_; }

  /// @brief tensorflow_text BertTokenizer's word pieces of `text`, merged over words.
  std::vector<std::int32_t> tokenize(std::string_view text) const {
    std::vector<std::int32_t> ids;
    std::vector<std::uint32_t> cps;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t i = 0; i < text.size();) {
      std::size_t len = 1;
      const std::uint32_t cp =
          p[i] < 0x80 ? p[i] : tokenizer_detail::decode_utf8(p + i, text.size() - i, len);
      i += len;
      if (lower_case_)
        tokenizer_detail::tf_text_lower(cp, cps);
      else
        cps.push_back(cp);
    }
    std::string word;
    auto flush = [&] {
      if (word.empty()) return;
      if (word.size() > kMaxBytesPerWord)
        ids.push_back(wordpiece_.unk_id());
      else
        wordpiece_.tokenize_word(
            word, [&](std::int32_t id, std::size_t, std::size_t) { ids.push_back(id); });
      word.clear();
    };
    for (std::uint32_t cp : cps) {
      const std::uint8_t k = tokenizer_detail::tf_text_class(cp);
      if (k == 0) {
        tokenizer_detail::append_utf8(word, cp);
        continue;
      }
      flush();
      if (k == 2) {
        tokenizer_detail::append_utf8(word, cp);
        flush();
      }
    }
    flush();
    return ids;
  }

  /// @brief One text: one row.
  TfHubInputs preprocess(std::string_view text) const {
    TfHubInputs out = start(1);
    pack(out, tokenize(text), nullptr);
    return out;
  }
  /// @brief One pair: one row. @throws TokenizerError (seq_length below 3).
  TfHubInputs preprocess(std::string_view a, std::string_view b) const {
    check_pair();
    TfHubInputs out = start(1);
    const auto tb = tokenize(b);
    pack(out, tokenize(a), &tb);
    return out;
  }
  /// @brief One row per text: [CLS] A [SEP], trimmed to seq_length - 2 tokens, padded.
  TfHubInputs preprocess(const std::vector<std::string>& texts) const {
    TfHubInputs out = start(texts.size());
    for (const auto& t : texts) pack(out, tokenize(t), nullptr);
    return out;
  }
  /// @brief One row per pair: [CLS] A [SEP] B [SEP], A and B trimmed round robin to
  /// seq_length - 3 tokens together, padded. @throws TokenizerError (seq_length below 3).
  TfHubInputs preprocess(const std::vector<std::pair<std::string, std::string>>& pairs) const {
    check_pair();
    TfHubInputs out = start(pairs.size());
    for (const auto& pr : pairs) {
      const auto b = tokenize(pr.second);
      pack(out, tokenize(pr.first), &b);
    }
    return out;
  }

 private:
  static constexpr std::size_t kMaxBytesPerWord = 100;

  void check_pair() const {
    if (seq_length_ < 3)
      throw TokenizerError("TfHubPreprocessOptions::seq_length " + std::to_string(seq_length_) +
                           " is too small for a pair ([CLS] A [SEP] B [SEP] needs 3)");
  }

  TfHubInputs start(std::size_t n) const {
    TfHubInputs out;
    out.seq_length = seq_length_;
    out.input_word_ids.reserve(n * seq_length_);
    out.input_mask.reserve(n * seq_length_);
    out.input_type_ids.reserve(n * seq_length_);
    return out;
  }

  // BertPackInputs: RoundRobinTrimmer, combine_segments, pad_model_inputs.
  void pack(TfHubInputs& out, const std::vector<std::int32_t>& a,
            const std::vector<std::int32_t>* b) const {
    const std::size_t budget = seq_length_ - (b ? 3 : 2);
    std::size_t qa = std::min(a.size(), budget), qb = 0;
    if (b) std::tie(qa, qb) = tokenizer_detail::round_robin_quota(a.size(), b->size(), budget);
    const std::size_t row = out.input_word_ids.size();
    auto put = [&](std::int32_t id, std::int32_t type) {
      out.input_word_ids.push_back(id);
      out.input_mask.push_back(1);
      out.input_type_ids.push_back(type);
    };
    put(cls_, 0);
    for (std::size_t i = 0; i < qa; ++i) put(a[i], 0);
    put(sep_, 0);
    if (b) {
      for (std::size_t i = 0; i < qb; ++i) put((*b)[i], 1);
      put(sep_, 1);
    }
    const std::size_t end = row + seq_length_;
    out.input_word_ids.resize(end, pad_);
    out.input_mask.resize(end, 0);
    out.input_type_ids.resize(end, 0);
    ++out.batch;
  }

  WordPiece wordpiece_;
  std::size_t seq_length_ = 128;
  bool lower_case_ = true;
  std::int32_t cls_ = -1, sep_ = -1, pad_ = -1;
};

}  // namespace bertpp
