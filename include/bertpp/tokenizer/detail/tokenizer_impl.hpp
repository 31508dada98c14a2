// SPDX-License-Identifier: Apache-2.0
// Tokenizer: truncation, padding and the loaders (tokenizer.json, vocab.txt + configs).
#pragma once

#include <bertpp/tokenizer/detail/files.hpp>
#include <bertpp/tokenizer/tokenizer.hpp>

namespace bertpp {

inline void Tokenizer::check_call(const EncodeOptions& opt) const {
  if (opt.padding != Padding::none) {
    const std::size_t lim = EncodeOptions::max_padded_length;
    if (opt.pad_to_multiple_of > lim)
      throw TokenizerError("padding: pad_to_multiple_of " + std::to_string(opt.pad_to_multiple_of) +
                           " exceeds the limit of " + std::to_string(lim) + " positions");
    const std::size_t target = resolve_max(opt);
    if (opt.padding == Padding::max_length && target < TokenizerOptions::no_max_length &&
        target > lim)
      throw TokenizerError("padding: max_length " + std::to_string(target) +
                           " (padding to max_length) exceeds the limit of " + std::to_string(lim) +
                           " positions");
  }
  if (opt.truncation == TruncationStrategy::do_not_truncate) return;
  const std::size_t max_len = resolve_max(opt);
  if (max_len >= TokenizerOptions::no_max_length) return;  // HF turns truncation off there
  // transformers' _get_padding_truncation_strategies.
  const std::size_t m = opt.pad_to_multiple_of;
  if (opt.padding != Padding::none && m > 0 && max_len % m != 0)
    throw TokenizerError("Truncation and padding are both activated but truncation length (" +
                         std::to_string(max_len) + ") is not a multiple of pad_to_multiple_of (" +
                         std::to_string(m) + ").");
  // Rust Tokenizer::with_truncation: the special tokens of a *single* text are counted, for
  // pairs and without add_special_tokens too; below them the difference wraps (no check).
  const std::size_t n_single = s_->post.added_tokens(false);
  if (max_len >= n_single && max_len - n_single < opt.stride)
    throw TokenizerError("truncation: stride " + std::to_string(opt.stride) +
                         " is greater than or equal to the effective max length of " +
                         std::to_string(max_len - n_single) + " (= " + std::to_string(max_len) +
                         " max_length - " + std::to_string(n_single) + " special tokens)");
}

// Truncation as HF's Rust TokenizerImpl::post_process + truncate_encodings:
//  - the budget is max_length minus the special tokens of this call (3 for a BERT pair, 2
//    for a single text, 0 without add_special_tokens). Below that number Rust's usize
//    subtraction wraps around, so nothing is truncated at all, whatever the strategy;
//  - a budget of 0 empties both sequences (their content moves to the overflowing
//    windows), for every strategy, even only_second on a single text, without errors;
//  - otherwise nothing happens when everything fits; else longest_first shares the budget
//    (the shorter keeps min(its length, budget / 2), the longer the rest), only_first /
//    only_second cut their sequence and fail when it is too short (or, for only_second,
//    missing);
//  - each cut with stride >= its window length fails (a Rust panic in Encoding::truncate),
//    except a cut to 0 tokens.
inline Encoding Tokenizer::encode_pair(std::string_view a, const std::string_view* b,
                                       const EncodeOptions& opt) const {
  std::vector<Encoding> wa, wb;
  const bool right = opt.truncation_side == Side::right;
  const auto& post = s_->post;
  const std::size_t max_len = resolve_max(opt);
  const std::size_t added = opt.add_special_tokens ? post.added_tokens(b != nullptr) : 0;
  const bool truncating = opt.truncation != TruncationStrategy::do_not_truncate &&
                          max_len < TokenizerOptions::no_max_length && max_len >= added;
  // Bounded work: when only the kept start of each sequence is returned (right side, no
  // overflowing windows), each is tokenized up to budget + 1 tokens (more text left means
  // more than the budget, which is all the truncation below needs to know), except where
  // longest_first must tell which of two long sequences is longer (odd budget).
  const std::size_t budget = truncating ? max_len - added : 0;
  const std::size_t cap = truncating && right && !opt.return_overflowing_tokens
                              ? budget + 1
                              : static_cast<std::size_t>(-1);
  bool ca = true, cb = true;  // sequence tokenized to its end
  // HF trims offsets after truncation: a window's first token is trimmed as a first token.
  const bool window_first = truncating && s_->trim_offsets && s_->trim_prefix_space;
  tokenizer_detail::Spans first_a, first_b;
  Encoding ea = encode_sequence(a, 0, cap, &ca, nullptr, window_first ? &first_a : nullptr);
  Encoding eb;
  if (b) eb = encode_sequence(*b, 1, cap, &cb, nullptr, window_first ? &first_b : nullptr);
  // Lengths that decide which sequence longest_first shortens more: the token counts, or
  // for sequences cut short, counts (tokens not kept) far enough to compare the two.
  std::size_t len_a = ea.size(), len_b = eb.size();
  if (b && !(ca && cb) && opt.truncation == TruncationStrategy::longest_first && budget % 2 &&
      !(ca && len_a <= budget / 2) && !(cb && len_b <= budget / 2)) {
    const std::size_t all = static_cast<std::size_t>(-1);
    if (!ca && (!cb || len_a <= len_b))
      encode_sequence(a, 0, cb ? len_b + 1 : all, nullptr, &len_a);
    if (!cb && (!ca || len_b <= len_a))
      encode_sequence(*b, 1, ca ? len_a + 1 : all, nullptr, &len_b);
  }
  if (truncating) {
    const bool all = opt.return_overflowing_tokens;
    const std::size_t n1 = len_a, n2 = b ? len_b : 0;
    if (budget == 0) {
      wa = tokenizer_detail::windows(ea, 0, opt.stride, right, all);
      if (b) wb = tokenizer_detail::windows(eb, 0, opt.stride, right, all);
    } else if (n1 + n2 > budget) {
      const std::size_t to_remove = n1 + n2 - budget;
      std::size_t k1 = n1, k2 = n2;
      switch (opt.truncation) {
        case TruncationStrategy::longest_first:
          if (b) {
            // HF: the shorter keeps min(its length, budget / 2 rounded), the longer the rest.
            const bool swap = k1 > k2;
            std::size_t s = swap ? k2 : k1, l = swap ? k1 : k2;
            if (s > budget / 2) {
              s = budget / 2;
              l = budget - s;
            } else {
              l = budget - s;
            }
            k1 = swap ? l : s;
            k2 = swap ? s : l;
          } else {
            k1 = budget;
          }
          break;
        case TruncationStrategy::round_robin:
          if (b)
            std::tie(k1, k2) = tokenizer_detail::round_robin_quota(n1, n2, budget);
          else
            k1 = budget;
          break;
        case TruncationStrategy::only_first:
        case TruncationStrategy::only_second: {
          const bool first = opt.truncation == TruncationStrategy::only_first;
          if (!first && !b)
            throw TokenizerError("truncation only_second: no second sequence was given");
          const std::size_t len = first ? n1 : n2;
          if (len <= to_remove)
            throw TokenizerError(std::string("truncation: the ") + (first ? "first" : "second") +
                                 " sequence (" + std::to_string(len) +
                                 " tokens) is too short to remove " +
                                 (ca && cb ? "" : "at least ") + std::to_string(to_remove));
          (first ? k1 : k2) = len - to_remove;
          break;
        }
        case TruncationStrategy::do_not_truncate:
          break;
      }
      std::vector<std::size_t> starts;
      auto first_trimmed = [&](std::vector<Encoding>& w, const tokenizer_detail::Spans& f) {
        if (!window_first) return;
        for (std::size_t i = 0; i < w.size(); ++i) {
          if (starts[i] == 0 || w[i].ids.empty()) continue;
          w[i].offsets[0] = f.offsets[starts[i]];
          w[i].byte_offsets[0] = f.byte_offsets[starts[i]];
        }
      };
      wa = tokenizer_detail::windows(ea, k1, opt.stride, right, all, &starts);
      first_trimmed(wa, first_a);
      if (b) {
        wb = tokenizer_detail::windows(eb, k2, opt.stride, right, all, &starts);
        first_trimmed(wb, first_b);
      }
    }
  }
  if (wa.empty()) wa.push_back(std::move(ea));
  if (b && wb.empty()) wb.push_back(std::move(eb));
  Encoding out = post.process(wa, b ? &wb : nullptr, opt.add_special_tokens);
  if (!opt.return_overflowing_tokens) out.overflowing.clear();
  return out;
}

inline void Tokenizer::pad_to(Encoding& e, std::size_t longest, const EncodeOptions& opt) const {
  std::size_t target = opt.padding == Padding::longest ? longest : resolve_max(opt);
  if (target >= TokenizerOptions::no_max_length) return;  // no maximum length: no padding
  const std::size_t m = opt.pad_to_multiple_of;           // <= max_padded_length (check_call)
  if (m > 0 && target % m) target += m - target % m;
  if (s_->pad < 0)
    throw TokenizerError("padding: pad token '" + s_->options.pad_token +
                         "' is not in the vocabulary");
  tokenizer_detail::pad(e, target, s_->pad, s_->options.pad_token, opt.padding_side == Side::right);
}

inline Tokenizer Tokenizer::build(tokenizer_detail::TokenizerState st) {
  // SentencePiece stages (grapheme clusters, runs of spaces, prepend_scheme first) are not
  // checked to give the same result on chunks: whole segments only.
  st.chunkable = !st.sp_normalizer && st.pre_kind != tokenizer_detail::PreTokenizerKind::metaspace;
  for (std::size_t i = 0; i < st.id_to_token.size(); ++i)
    st.token_to_id[st.id_to_token[i]] = static_cast<std::int32_t>(i);  // last id wins
  for (std::size_t k = 0; k < st.added.size(); ++k) {
    AddedToken& t = st.added[k];
    st.token_to_id[t.content] = t.id;
    if (t.special) st.special_ids.insert(t.id);
    if (t.normalized) {
      if (t.rstrip || t.content.find_first_of(" \t\n\r") != std::string::npos) st.chunkable = false;
      st.normalized_matcher.add(st.sp_normalizer ? st.sp_normalizer->normalize_str(t.content)
                                : st.normalizer  ? st.normalizer->normalize_str(t.content)
                                                 : t.content,
                                k);
    } else {
      st.raw_matcher.add(t.content, k);
    }
  }
  // HF's decode skips a token by its string (AddedVocabulary::is_special_token), so an id
  // whose vocabulary string is a special token's (a duplicate piece, as XLM-R's conversion
  // of a model that has its own <unk> makes) is skipped too.
  std::unordered_set<std::string> special_strings;
  for (const AddedToken& t : st.added)
    if (t.special) special_strings.insert(t.content);
  if (!special_strings.empty())
    for (std::size_t i = 0; i < st.id_to_token.size(); ++i)
      if (special_strings.count(st.id_to_token[i]))
        st.special_ids.insert(static_cast<std::int32_t>(i));
  auto id = [&](const std::string& t) {
    const auto it = st.token_to_id.find(t);
    return it == st.token_to_id.end() ? -1 : it->second;
  };
  st.cls = id(st.options.cls_token);
  st.sep = id(st.options.sep_token);
  st.pad = id(st.options.pad_token);
  st.unk = id(st.options.unk_token);
  st.mask = id(st.options.mask_token);
  return Tokenizer(std::make_shared<const tokenizer_detail::TokenizerState>(std::move(st)));
}

namespace tokenizer_detail {

/// @brief Installs vocab and WordPiece model in `st`, registering vocab-less added tokens.
inline void set_vocab(TokenizerState& st, std::vector<std::string> vocab) {
  if (st.model_kind == ModelKind::wordpiece)
    st.wordpiece = WordPiece(vocab, st.options.unk_token, st.options.continuing_subword_prefix,
                             st.options.max_input_chars_per_word);
  st.id_to_token = std::move(vocab);
  for (const auto& t : st.added) {
    if (t.id < 0) continue;
    const auto i = static_cast<std::size_t>(t.id);
    if (i >= st.id_to_token.size()) st.id_to_token.resize(i + 1);
    st.id_to_token[i] = t.content;
  }
}

inline NormalizerOptions normalizer_options(const TokenizerOptions& o) {
  NormalizerOptions n;
  n.clean_text = o.clean_text;
  n.handle_chinese_chars = o.tokenize_chinese_chars;
  n.strip_accents = o.strip_accents;
  n.lowercase = o.do_lower_case;
  return n;
}

inline AddedToken parse_added_token(const nlohmann::json& j, std::int32_t id,
                                    const std::string& where) {
  AddedToken t;
  t.id = id;
  if (!j.is_object() || !j.contains("content") || !j["content"].is_string())
    throw FormatError(where + ": an added token needs a string 'content'");
  t.content = j["content"].get<std::string>();
  t.special = get_or<bool>(j, "special", false, where);
  t.normalized = get_or<bool>(j, "normalized", !t.special, where);
  t.lstrip = get_or<bool>(j, "lstrip", false, where);
  t.rstrip = get_or<bool>(j, "rstrip", false, where);
  t.single_word = get_or<bool>(j, "single_word", false, where);
  return t;
}

}  // namespace tokenizer_detail

BERTPP_INLINE Tokenizer Tokenizer::from_vocab_file(const std::string& vocab_txt,
                                                   const TokenizerOptions& o) {
  tokenizer_detail::TokenizerState st;
  st.options = o;
  auto vocab = tokenizer_detail::read_vocab_txt(vocab_txt);
  std::unordered_map<std::string, std::int32_t> ids;
  for (std::size_t i = 0; i < vocab.size(); ++i) ids[vocab[i]] = static_cast<std::int32_t>(i);
  std::int32_t special[5];
  const std::string* names[5] = {&o.pad_token, &o.unk_token, &o.cls_token, &o.sep_token,
                                 &o.mask_token};
  const char* fields[5] = {"pad_token", "unk_token", "cls_token", "sep_token", "mask_token"};
  for (int k = 0; k < 5; ++k) {
    const auto it = ids.find(*names[k]);
    if (it == ids.end())
      throw TokenizerError("'" + vocab_txt + "': " + fields[k] + " '" + *names[k] +
                           "' is not in the vocabulary");
    special[k] = it->second;
  }
  for (int k = 0; k < 5; ++k) {
    AddedToken t;
    t.content = *names[k];
    t.id = special[k];
    st.added.push_back(t);
  }
  st.normalizer = BertNormalizer(tokenizer_detail::normalizer_options(o));
  tokenizer_detail::set_vocab(st, std::move(vocab));
  st.post = TemplatePostProcessor::bert(special[2], o.cls_token, special[3], o.sep_token);
  st.decoder = WordPieceDecoder(o.continuing_subword_prefix, true);
  return build(std::move(st));
}

}  // namespace bertpp

#include <bertpp/tokenizer/detail/tokenizer_json.hpp>
