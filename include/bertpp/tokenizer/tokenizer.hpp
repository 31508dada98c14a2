// SPDX-License-Identifier: Apache-2.0
// The BERT tokenizer: normalizer -> pre-tokenizer -> WordPiece -> post-processor, with
// HF's added-token handling, truncation, padding, batches and decoding. Matches HF's
// BertTokenizerFast (the Rust `tokenizers` library).
//
// Documented behaviour beyond HF:
//  - invalid UTF-8 decodes per maximal subpart to U+FFFD (detail/utf8.hpp); offsets count
//    each such U+FFFD as one code point;
//  - `vocab_size()` counts every id (vocabulary plus added tokens beyond it);
//  - strip_accents is NFD of each text with canonical reordering (classes measured on HF's
//    own NFD, see tools/gen_unicode_tables.py), offsets aligned as HF aligns reordered marks
//    (normalizer.hpp);
//  - truncation follows Rust's arithmetic: max_length below the special tokens truncates
//    nothing, equal to them empties both sequences; the call-level checks of transformers /
//    Rust (pad_to_multiple_of, stride) throw TokenizerError (tokenizer_impl.hpp);
//  - EncodeOptions::max_length 0 means model_max_length (transformers: max_length=None;
//    transformers passes an explicit 0 on to Rust);
//  - single_word added tokens (unused by BERT checkpoints) treat "word character" as
//    neither whitespace nor punctuation (HF uses the regex \w);
//  - encode(a, b) with an empty `b` is a pair, as in Rust tokenizers (transformers'
//    Python layer turns text_pair="" into a single text).
#pragma once

#include <bertpp/core/compiled.hpp>
#include <bertpp/core/context.hpp>
#include <bertpp/core/encoding.hpp>
#include <bertpp/core/error.hpp>
#include <bertpp/tokenizer/added_vocabulary.hpp>
#include <bertpp/tokenizer/bpe.hpp>
#include <bertpp/tokenizer/byte_level.hpp>
#include <bertpp/tokenizer/decoder.hpp>
#include <bertpp/tokenizer/metaspace.hpp>
#include <bertpp/tokenizer/normalizer.hpp>
#include <bertpp/tokenizer/post_processor.hpp>
#include <bertpp/tokenizer/pre_tokenizer.hpp>
#include <bertpp/tokenizer/sp_normalizer.hpp>
#include <bertpp/tokenizer/unigram.hpp>
#include <bertpp/tokenizer/wordpiece.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace bertpp {

/// @brief Tokenizer options, HF names and defaults (BertTokenizerFast).
struct TokenizerOptions {
  bool do_lower_case = true;
  std::optional<bool> strip_accents;  ///< nullopt: follow do_lower_case
  bool tokenize_chinese_chars = true;
  bool clean_text = true;
  std::vector<std::string> never_split;  ///< accepted for compatibility; ignored as by HF fast
  std::string unk_token = "[UNK]", sep_token = "[SEP]", pad_token = "[PAD]", cls_token = "[CLS]",
              mask_token = "[MASK]";
  std::size_t max_input_chars_per_word = 100;
  std::string continuing_subword_prefix = "##";
  /// From tokenizer_config.json when present (512 otherwise). HF's huge placeholder there
  /// (>= 1e18) becomes `no_max_length`: truncation and max_length padding without an
  /// explicit `max_length` then do nothing, as in transformers.
  std::size_t model_max_length = 512;
  static constexpr std::size_t no_max_length = std::size_t{1} << 62;
  /// decode()'s default for transformers' text cleanup (" ." -> "." on the joined text,
  /// after the decoder's own): tokenizer_config.json's `clean_up_tokenization_spaces`,
  /// false when absent, as transformers 5.
  bool clean_up_tokenization_spaces = false;
};

/// longest_first, only_first, only_second: HF's. round_robin: tensorflow_text's
/// RoundRobinTrimmer, as TF Hub's BERT preprocessing packs pairs (the budget handed out one
/// token at a time, first sequence first: on an odd budget with both sequences long the
/// first keeps one more, where longest_first gives it to the longer, or to the second on a
/// tie).
enum class TruncationStrategy {
  longest_first,
  only_first,
  only_second,
  do_not_truncate,
  round_robin
};
enum class Padding { none, longest, max_length };
enum class Side { right, left };

/// @brief Per-call options, as transformers' `__call__` (truncation and padding off).
struct EncodeOptions {
  bool add_special_tokens = true;
  TruncationStrategy truncation = TruncationStrategy::do_not_truncate;
  std::size_t max_length = 0;  ///< 0 = model_max_length
  std::size_t stride = 0;
  bool return_overflowing_tokens = false;
  Padding padding = Padding::none;
  Side padding_side = Side::right;
  std::size_t pad_to_multiple_of = 0;
  Side truncation_side = Side::right;
  /// Largest `max_length` with Padding::max_length, and largest `pad_to_multiple_of`, that a
  /// call accepts (TokenizerError above): padding never allocates more than this many
  /// positions beyond the tokens themselves.
  static constexpr std::size_t max_padded_length = std::size_t{1} << 20;
};

namespace tokenizer_detail {

/// The stages of the pipeline, each selected by its section of tokenizer.json.
enum class PreTokenizerKind { none, bert, byte_level, metaspace };
enum class ModelKind { wordpiece, bpe, unigram };
enum class DecoderKind { none, wordpiece, byte_level, metaspace, sequence };

/// Code-point and byte offsets of a sequence's tokens (see Tokenizer::encode_sequence).
struct Spans {
  std::vector<std::pair<std::size_t, std::size_t>> offsets, byte_offsets;
};

/// @brief Everything a Tokenizer holds; immutable after loading, shared by copies.
struct TokenizerState {
  TokenizerOptions options;
  std::vector<std::string> id_to_token;
  std::unordered_map<std::string, std::int32_t> token_to_id;
  std::optional<BertNormalizer> normalizer;
  /// SentencePiece normalizer Sequence (used instead of `normalizer` when set).
  std::shared_ptr<const SpNormalizer> sp_normalizer;
  PreTokenizerKind pre_kind = PreTokenizerKind::bert;
  BertPreTokenizer pre_tokenizer;
  ByteLevelPreTokenizer byte_level;
  Metaspace metaspace;          ///< pre-tokenizer (PreTokenizerKind::metaspace)
  Metaspace metaspace_decoder;  ///< decoder (DecoderKind::metaspace)
  ModelKind model_kind = ModelKind::wordpiece;
  WordPiece wordpiece;
  Bpe bpe;
  std::shared_ptr<const Unigram> unigram;
  /// The post-processor's trim_offsets (ByteLevel, RobertaProcessing) and its
  /// add_prefix_space.
  bool trim_offsets = false, trim_prefix_space = false;
  DecoderKind decoder_kind = DecoderKind::wordpiece;
  std::vector<AddedToken> added;
  AddedTokenMatcher raw_matcher, normalized_matcher;
  std::unordered_set<std::int32_t> special_ids;
  TemplatePostProcessor post;
  WordPieceDecoder decoder;
  SequenceDecoder sequence_decoder;  ///< DecoderKind::sequence
  std::int32_t cls = -1, sep = -1, pad = -1, unk = -1, mask = -1;
  /// The stages give the same result on a text cut right before a U+0020 that follows a
  /// non-whitespace character (no normalized added token with whitespace or rstrip).
  bool chunkable = true;
};

/// @brief tensorflow_text's RoundRobinTrimmer for two segments: the budget is handed out one
/// position at a time, first segment first, to the segments that still have tokens (so on an
/// odd budget with both long, the first keeps one more). Returns the kept lengths.
inline std::pair<std::size_t, std::size_t> round_robin_quota(std::size_t len_a, std::size_t len_b,
                                                             std::size_t budget) {
  const std::size_t floor_half = budget / 2, ceil_half = budget - floor_half;
  const std::size_t qa = std::min(len_a, ceil_half + (floor_half > len_b ? floor_half - len_b : 0));
  const std::size_t qb = std::min(len_b, floor_half + (ceil_half > len_a ? ceil_half - len_a : 0));
  return {qa, qb};
}

/// @brief Code points of `s` as DecodedText counts them (invalid UTF-8 per maximal subpart).
inline std::size_t count_code_points(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    std::size_t len = 1;
    if (p[i] >= 0x80) decode_utf8(p + i, s.size() - i, len);
    i += len;
  }
  return n;
}

/// @brief Bytes of the first `n` code points of `s` from byte `at` (valid UTF-8 there).
inline std::size_t code_point_bytes(std::string_view s, std::size_t at, std::size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = at;
  for (; n > 0 && i < s.size(); --n) {
    std::size_t len = 1;
    if (p[i] >= 0x80) decode_utf8(p + i, s.size() - i, len);
    i += len;
  }
  return i - at;
}

/// @brief Bytes of the last `n` code points of `s` (valid UTF-8 there).
inline std::size_t code_point_bytes_back(std::string_view s, std::size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = s.size();
  for (; n > 0 && i > 0; --n) {
    --i;
    while (i > 0 && (p[i] & 0xC0) == 0x80) --i;
  }
  return s.size() - i;
}

/// @brief End of a chunk of `text[b, e)` of at least kChunk bytes: the first U+0020 after
/// that whose previous character is not whitespace (or `e`).
inline std::size_t chunk_end(std::string_view text, std::size_t b, std::size_t e) {
  constexpr std::size_t kChunk = 16384;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  for (std::size_t i = b + kChunk; i < e; ++i) {
    if (p[i] != ' ') continue;
    std::size_t c = i - 1;
    while (c > b && i - c < 4 && (p[c] & 0xC0) == 0x80) --c;
    std::size_t len = 1;
    const std::uint32_t cp = decode_utf8(p + c, i - c, len);
    if (c + len == i && !(flags_of(cp) & tables::kWs)) return i;
  }
  return e;
}

/// @brief Reused buffers of one thread.
struct Scratch {
  DecodedText decoded;
  NormalizedText normalized, prefixed, piece;
};
inline Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace tokenizer_detail

/// @brief BERT WordPiece tokenizer, identical in output to HF's BertTokenizerFast.
/// Immutable after loading; all const members are safe to call from several threads.
class Tokenizer {
 public:
  /// @brief Loads a folder: tokenizer.json if present, else a SentencePiece model
  /// (spiece.model: ALBERT, sentencepiece.bpe.model: XLM-RoBERTa, or as tokenizer_config.json's
  /// tokenizer_class says; converted as transformers' tokenizer classes do), else vocab.json
  /// + merges.txt (RoBERTa), else vocab.txt; with tokenizer_config.json /
  /// special_tokens_map.json (both optional).
  /// @throws IoError (missing files), FormatError (malformed files), TokenizerError
  /// (unsupported components, special tokens missing from the vocabulary).
  static Tokenizer load(const std::string& dir);
  /// @brief Tokenizer from a vocab.txt and options.
  /// @throws IoError, FormatError, TokenizerError (a special token not in the vocabulary).
  static Tokenizer from_vocab_file(const std::string& vocab_txt, const TokenizerOptions& = {});
  /// @brief Tokenizer from HF's tokenizer.json (WordPiece model; BertNormalizer;
  /// BertPreTokenizer; TemplateProcessing or BertProcessing; WordPiece decoder). Its
  /// truncation/padding sections are ignored, as transformers does per call.
  /// @throws IoError, FormatError, TokenizerError.
  static Tokenizer from_tokenizer_json(const std::string& path);

  /// @brief Encodes one text. @throws TokenizerError (impossible truncation, padding
  /// without a pad token).
  Encoding encode(std::string_view text, const EncodeOptions& opt = {}) const;
  /// @brief Encodes a pair: [CLS] A [SEP] B [SEP], B with type id 1. @throws TokenizerError.
  Encoding encode(std::string_view a, std::string_view b, const EncodeOptions& opt = {}) const;
  /// @brief Encodes texts on `num_threads` threads (the calling thread's own Context, see
  /// thread_context()); Padding::longest pads to the longest.
  /// @throws TokenizerError.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts,
                                     const EncodeOptions& opt = {}, int num_threads = 1) const {
    return encode_batch(texts, opt, thread_context(num_threads));
  }
  /// @brief As above, on the threads of `ctx`.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts,
                                     const EncodeOptions& opt, Context& ctx) const;
  /// @brief Encodes pairs on `num_threads` threads. @throws TokenizerError.
  std::vector<Encoding> encode_batch(const std::vector<std::pair<std::string, std::string>>& pairs,
                                     const EncodeOptions& opt = {}, int num_threads = 1) const {
    return encode_batch(pairs, opt, thread_context(num_threads));
  }
  /// @brief As above, on the threads of `ctx`.
  std::vector<Encoding> encode_batch(const std::vector<std::pair<std::string, std::string>>& pairs,
                                     const EncodeOptions& opt, Context& ctx) const;

  /// @brief Tokens of `text` (added tokens kept whole), without special tokens.
  std::vector<std::string> tokenize(std::string_view text) const;

  /// @brief Text of `ids` (unknown ids skipped), HF's decode. `clean_up_tokenization_spaces`
  /// unset: the tokenizer's own setting (TokenizerOptions), as transformers.
  std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens = true,
                     std::optional<bool> clean_up_tokenization_spaces = std::nullopt) const;

  /// @brief Text of `tokens` by the decoder alone, as HF's convert_tokens_to_string of a
  /// fast tokenizer (WordPiece joins "##" pieces, byte-level BPE maps its bytes back,
  /// Metaspace turns "▁" into spaces).
  std::string convert_tokens_to_string(const std::vector<std::string>& tokens) const;

  /// @brief Whether the model marks word continuations (a WordPiece or BPE
  /// continuing_subword_prefix): where it does not, HF's token-classification pipeline
  /// finds subwords by a heuristic on the text instead.
  bool marks_subwords() const;

  /// @brief Id of a token (vocabulary or added), -1 if absent.
  std::int32_t token_to_id(std::string_view token) const {
    const auto it = s_->token_to_id.find(std::string(token));
    return it == s_->token_to_id.end() ? -1 : it->second;
  }
  /// @brief Token of an id. @throws TokenizerError when out of range.
  const std::string& id_to_token(std::int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= s_->id_to_token.size())
      throw TokenizerError("id_to_token: id " + std::to_string(id) + " out of range [0, " +
                           std::to_string(s_->id_to_token.size()) + ")");
    return s_->id_to_token[static_cast<std::size_t>(id)];
  }
  /// @brief Number of ids (vocabulary and added tokens).
  std::size_t vocab_size() const { return s_->id_to_token.size(); }
  const TokenizerOptions& options() const { return s_->options; }
  /// @brief The added tokens (special tokens and others), as loaded.
  const std::vector<AddedToken>& added_tokens() const { return s_->added; }
  std::int32_t cls_id() const { return s_->cls; }
  std::int32_t sep_id() const { return s_->sep; }
  std::int32_t pad_id() const { return s_->pad; }
  std::int32_t unk_id() const { return s_->unk; }
  std::int32_t mask_id() const { return s_->mask; }

 private:
  explicit Tokenizer(std::shared_ptr<const tokenizer_detail::TokenizerState> s)
      : s_(std::move(s)) {}
  static Tokenizer build(tokenizer_detail::TokenizerState st);
  static Tokenizer from_roberta_files(const std::string& base, const nlohmann::json& cfg,
                                      const nlohmann::json& map);
  static Tokenizer from_sentencepiece(const std::string& base, const std::string& file,
                                      const nlohmann::json& cfg, const nlohmann::json& map,
                                      std::size_t model_max_length);

  /// One sequence through normalizer, pre-tokenizer and WordPiece (no specials). With a
  /// `cap`, stops after the word that brings the count to `cap` tokens (those tokens are the
  /// same as without a cap) and sets `*complete` to false when text was left; long segments
  /// are then decoded and normalized in chunks, so the work is bounded by the cap too.
  /// With `count_only`, only counts: returns an empty encoding and sets `*count`.
  ///
  /// With `as_first`, also gives each token's offsets as they would be trimmed if it were
  /// the first token (HF trims after truncation, so the first token of a window keeps the
  /// one leading space add_prefix_space put there); the tokenizer must trim offsets with
  /// the prefix space (`st.trim_offsets && st.trim_prefix_space`).
  Encoding encode_sequence(std::string_view text, std::int32_t seq,
                           std::size_t cap = static_cast<std::size_t>(-1), bool* complete = nullptr,
                           std::size_t* count_only = nullptr,
                           tokenizer_detail::Spans* as_first = nullptr) const {
    const auto& st = *s_;
    auto& scr = tokenizer_detail::scratch();
    auto& dec = scr.decoded;
    auto& norm = scr.normalized;
    Encoding out;
    std::int32_t word = 0;
    std::size_t cp_base = 0, byte_base = 0;  // of dec's first code point in `text`
    bool stop = false;
    std::size_t count = 0;
    // Code points [cb, ce) of dec. trim_offsets looks at the token's text: its vocabulary
    // string, or for an added token the matched text with the whitespace lstrip / rstrip
    // swallowed (HF's token string there).
    auto push = [&](std::int32_t id, std::size_t cb, std::size_t ce,
                    std::string_view matched = {}) {
      if (count_only) {
        ++count;
        return;
      }
      auto trimmed = [&](bool first) {  // code-point and byte offsets
        std::size_t lead = 0, trail = 0;
        if (st.trim_offsets) {
          const std::string_view tok =
              matched.empty() ? std::string_view(st.id_to_token[static_cast<std::size_t>(id)])
                              : matched;
          std::tie(lead, trail) = tokenizer_detail::trim_amounts(tok, first, st.trim_prefix_space,
                                                                 cp_base + cb, cp_base + ce);
        }
        return std::make_pair(std::make_pair(cp_base + cb + lead, cp_base + ce - trail),
                              std::make_pair(byte_base + dec.byte_start[cb + lead],
                                             byte_base + dec.byte_start[ce - trail]));
      };
      const auto t = trimmed(count == 0);
      if (as_first) {
        const auto f = trimmed(true);
        as_first->offsets.push_back(f.first);
        as_first->byte_offsets.push_back(f.second);
      }
      ++count;
      out.ids.push_back(id);
      out.offsets.push_back(t.first);
      out.byte_offsets.push_back(t.second);
      out.word_ids.push_back(word);
    };
    auto model = [&](std::size_t b, std::size_t e) {  // pre-tokenizer + model of norm[b, e)
      const NormalizedText* nt = &norm;
      if (st.pre_kind == tokenizer_detail::PreTokenizerKind::byte_level &&
          st.byte_level.add_prefix_space && b < e && norm.text[b] != ' ') {
        auto& pre = scr.prefixed;  // HF's prepend: the space aligned with the first character
        pre.clear();
        pre.text.push_back(' ');
        pre.text.append(norm.text, b, e - b);
        pre.src.push_back(norm.src[b]);
        pre.src.insert(pre.src.end(), norm.src.begin() + static_cast<std::ptrdiff_t>(b),
                       norm.src.begin() + static_cast<std::ptrdiff_t>(e));
        nt = &pre;
        b = 0;
        e = pre.text.size();
      }
      auto on_word = [&](std::size_t wb, std::size_t we) {
        if (stop) return;
        auto emit = [&](std::int32_t id, std::size_t tb, std::size_t te) {
          push(id, nt->src[wb + tb], nt->src[wb + te - 1] + 1);
        };
        const std::string_view w = std::string_view(nt->text).substr(wb, we - wb);
        if (st.model_kind == tokenizer_detail::ModelKind::wordpiece) {
          st.wordpiece.tokenize_word(w, emit);
        } else if (st.model_kind == tokenizer_detail::ModelKind::unigram) {
          st.unigram->tokenize_word(w, emit);
        } else {
          st.bpe.tokenize_word(w, emit);
        }
        ++word;
        if (count >= cap) stop = true;
      };
      if (st.pre_kind == tokenizer_detail::PreTokenizerKind::metaspace) {
        const NormalizedText* outer = nt;
        st.metaspace.pre_tokenize(
            *outer, b, e, scr.piece, [&](std::uint32_t src) { return cp_base + src == 0; },
            [&](const NormalizedText& piece, std::size_t pb, std::size_t pe) {
              nt = &piece;
              on_word(pb, pe);
            });
        return;
      }
      switch (st.pre_kind) {
        case tokenizer_detail::PreTokenizerKind::bert:
          st.pre_tokenizer.split(nt->text, b, e, on_word);
          break;
        case tokenizer_detail::PreTokenizerKind::byte_level:
          st.byte_level.split(nt->text, b, e, on_word);
          break;
        case tokenizer_detail::PreTokenizerKind::none:
          if (b < e) on_word(b, e);
          break;
        case tokenizer_detail::PreTokenizerKind::metaspace:
          break;  // above
      }
    };
    auto chunk = [&](std::size_t bb, std::size_t be) {  // raw bytes without added tokens
      dec.assign(text.substr(bb, be - bb));
      byte_base = bb;
      norm.clear();
      if (st.sp_normalizer) {
        st.sp_normalizer->normalize(dec, 0, dec.cps.size(), norm);
      } else if (st.normalizer) {
        st.normalizer->normalize(dec, 0, dec.cps.size(), norm);
      } else {
        for (std::size_t i = 0; i < dec.cps.size(); ++i) {
          const std::size_t before = norm.text.size();
          tokenizer_detail::append_utf8(norm.text, dec.cps[i]);
          norm.src.insert(norm.src.end(), norm.text.size() - before, static_cast<std::uint32_t>(i));
        }
      }
      std::size_t pos = 0;
      st.normalized_matcher.find_all(
          norm.text, 0, norm.text.size(), st.added,
          [&](std::size_t mb, std::size_t me, std::size_t k, std::size_t, std::size_t) {
            if (stop) return;
            if (pos < mb) model(pos, mb);
            if (stop) return;
            push(st.added[k].id, norm.src[mb], norm.src[me - 1] + 1,
                 std::string_view(norm.text).substr(mb, me - mb));
            ++word;
            if (count >= cap) stop = true;
            pos = me;
          });
      if (pos < norm.text.size() && !stop) model(pos, norm.text.size());
      cp_base += dec.cps.size();
    };
    auto segment = [&](std::size_t bb, std::size_t be) {
      if ((cap == static_cast<std::size_t>(-1) && !count_only) || !st.chunkable)
        return chunk(bb, be);
      for (std::size_t b = bb; b < be && !stop;) {
        const std::size_t e = tokenizer_detail::chunk_end(text, b, be);
        chunk(b, e);
        b = e;
      }
    };
    std::size_t pos = 0;
    st.raw_matcher.find_all(
        text, 0, text.size(), st.added,
        [&](std::size_t mb, std::size_t me, std::size_t k, std::size_t, std::size_t) {
          if (stop) return;
          if (pos < mb) segment(pos, mb);
          if (stop) return;
          const std::string_view m = text.substr(mb, me - mb);
          const std::size_t n = tokenizer_detail::count_code_points(m);
          if (!count_only) {
            auto trimmed = [&](bool first) {  // code-point and byte offsets
              std::size_t lead = 0, trail = 0, bb = mb, be = me;
              if (st.trim_offsets) {
                std::tie(lead, trail) = tokenizer_detail::trim_amounts(
                    m, first, st.trim_prefix_space, cp_base, cp_base + n);
                bb = mb + tokenizer_detail::code_point_bytes(m, 0, lead);
                be = me - tokenizer_detail::code_point_bytes_back(m, trail);
              }
              return std::make_pair(std::make_pair(cp_base + lead, cp_base + n - trail),
                                    std::make_pair(bb, std::max(bb, be)));
            };
            const auto t = trimmed(count == 0);
            if (as_first) {
              const auto f = trimmed(true);
              as_first->offsets.push_back(f.first);
              as_first->byte_offsets.push_back(f.second);
            }
            out.ids.push_back(st.added[k].id);
            out.offsets.push_back(t.first);
            out.byte_offsets.push_back(t.second);
            out.word_ids.push_back(word);
          }
          ++count;
          cp_base += n;
          ++word;
          if (count >= cap) stop = true;
          pos = me;
        });
    if (pos < text.size() && !stop) segment(pos, text.size());
    if (complete) *complete = !stop;
    if (count_only) {
      *count_only = count;
      return out;
    }
    const std::size_t n = out.ids.size();
    out.type_ids.assign(n, 0);
    out.attention_mask.assign(n, 1);
    out.special_tokens_mask.assign(n, 0);
    out.sequence_ids.assign(n, seq);
    out.tokens.reserve(n);
    for (std::int32_t id : out.ids)
      out.tokens.push_back(st.id_to_token[static_cast<std::size_t>(id)]);
    return out;
  }

  /// max_length of a call: explicit, else model_max_length (may be no_max_length).
  std::size_t resolve_max(const EncodeOptions& opt) const {
    return opt.max_length ? opt.max_length : s_->options.model_max_length;
  }

  /// The checks transformers / Rust make on a call's options before encoding anything:
  /// truncation length not a multiple of pad_to_multiple_of, stride too large for
  /// max_length. @throws TokenizerError.
  void check_call(const EncodeOptions& opt) const;
  /// Encodes, truncates and post-processes (no padding).
  Encoding encode_pair(std::string_view a, const std::string_view* b,
                       const EncodeOptions& opt) const;
  /// Padding of a single result; drops overflow unless asked.
  Encoding finish(Encoding e, const EncodeOptions& opt) const {
    if (opt.padding != Padding::none)
      pad_to(e, opt.padding == Padding::longest ? e.size() : 0, opt);
    return e;
  }
  void pad_to(Encoding& e, std::size_t longest, const EncodeOptions& opt) const;

  // Encodes n inputs in contiguous chunks on the context's threads (the pool rethrows the
  // first error a chunk threw).
  template <typename F>
  std::vector<Encoding> batch(std::size_t n, const EncodeOptions& opt, Context& ctx,
                              F&& one) const {
    check_call(opt);
    std::vector<Encoding> out(n);
    ctx.parallel_for(n, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) out[i] = one(i);
    });
    if (opt.padding != Padding::none) {
      std::size_t longest = 0;
      for (const auto& e : out) longest = std::max(longest, e.size());
      for (auto& e : out) pad_to(e, opt.padding == Padding::longest ? longest : 0, opt);
    }
    return out;
  }

  // load() without its last step: also gives tokenizer_config.json's
  // clean_up_tokenization_spaces.
  static Tokenizer load_files(const std::string& dir, bool& clean_up_tokenization_spaces);

  std::shared_ptr<const tokenizer_detail::TokenizerState> s_;
};

#if BERTPP_TOKENIZER_DEFINITIONS

BERTPP_INLINE Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& opt) const {
  check_call(opt);
  return finish(encode_pair(text, nullptr, opt), opt);
}

BERTPP_INLINE Encoding Tokenizer::encode(std::string_view a, std::string_view b,
                                         const EncodeOptions& opt) const {
  check_call(opt);
  return finish(encode_pair(a, &b, opt), opt);
}

BERTPP_INLINE std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                                            const EncodeOptions& opt,
                                                            Context& ctx) const {
  return batch(texts.size(), opt, ctx,
               [&](std::size_t i) { return encode_pair(texts[i], nullptr, opt); });
}

BERTPP_INLINE std::vector<Encoding> Tokenizer::encode_batch(
    const std::vector<std::pair<std::string, std::string>>& pairs, const EncodeOptions& opt,
    Context& ctx) const {
  return batch(pairs.size(), opt, ctx, [&](std::size_t i) {
    std::string_view b = pairs[i].second;
    return encode_pair(pairs[i].first, &b, opt);
  });
}

BERTPP_INLINE std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  EncodeOptions o;
  o.add_special_tokens = false;
  return encode(text, o).tokens;
}

BERTPP_INLINE std::string Tokenizer::decode(
    const std::vector<std::int32_t>& ids, bool skip_special_tokens,
    std::optional<bool> clean_up_tokenization_spaces) const {
  std::vector<std::string> toks;
  toks.reserve(ids.size());
  for (std::int32_t id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= s_->id_to_token.size()) continue;
    if (skip_special_tokens && s_->special_ids.count(id)) continue;
    toks.push_back(s_->id_to_token[static_cast<std::size_t>(id)]);
  }
  // transformers skips its cleanup for BPE models (it would strip spaces before
  // punctuation that BPE keeps).
  const bool cleanup =
      clean_up_tokenization_spaces.value_or(s_->options.clean_up_tokenization_spaces) &&
      s_->model_kind != tokenizer_detail::ModelKind::bpe;
  if (s_->decoder_kind == tokenizer_detail::DecoderKind::byte_level) return byte_level_decode(toks);
  if (s_->decoder_kind == tokenizer_detail::DecoderKind::sequence) {
    std::string out = s_->sequence_decoder.decode(std::move(toks));
    if (cleanup) WordPieceDecoder::python_cleanup(out);
    return out;
  }
  if (s_->decoder_kind == tokenizer_detail::DecoderKind::metaspace) {
    std::string out = s_->metaspace_decoder.decode(toks);
    if (cleanup) WordPieceDecoder::python_cleanup(out);
    return out;
  }
  return s_->decoder.decode(toks, cleanup);
}

BERTPP_INLINE std::string Tokenizer::convert_tokens_to_string(
    const std::vector<std::string>& tokens) const {
  if (s_->decoder_kind == tokenizer_detail::DecoderKind::byte_level)
    return byte_level_decode(tokens);
  if (s_->decoder_kind == tokenizer_detail::DecoderKind::sequence)
    return s_->sequence_decoder.decode(tokens);
  if (s_->decoder_kind == tokenizer_detail::DecoderKind::metaspace)
    return s_->metaspace_decoder.decode(tokens);
  return s_->decoder.decode(tokens, true);
}

BERTPP_INLINE bool Tokenizer::marks_subwords() const {
  switch (s_->model_kind) {
    case tokenizer_detail::ModelKind::wordpiece:
      return !s_->options.continuing_subword_prefix.empty();
    case tokenizer_detail::ModelKind::bpe:
      return !s_->bpe.options().continuing_subword_prefix.empty();
    case tokenizer_detail::ModelKind::unigram:
      break;
  }
  return false;
}

#endif  // BERTPP_TOKENIZER_DEFINITIONS

}  // namespace bertpp

#if BERTPP_TOKENIZER_DEFINITIONS
#include <bertpp/tokenizer/detail/tokenizer_impl.hpp>
#endif
