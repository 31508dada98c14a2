// SPDX-License-Identifier: Apache-2.0
// Loaders: HF's tokenizer.json, and a checkpoint folder.
#pragma once

#include <bertpp/io/tf_saved_model.hpp>
#include <bertpp/tokenizer/detail/files.hpp>
#include <bertpp/tokenizer/detail/saved_model_case.hpp>
#include <bertpp/tokenizer/detail/sentencepiece_model.hpp>
#include <bertpp/tokenizer/tokenizer.hpp>

namespace bertpp {

namespace tokenizer_detail {

/// Largest type id and token id accepted in a file (HF stores them as u32; bertpp's
/// Encoding holds int32).
inline constexpr std::int64_t kMaxTypeId = 0x7FFFFFFF;
inline constexpr std::int64_t kMaxId = 0x7FFFFFFF;

/// @brief A template ("single" / "pair") of TemplateProcessing.
inline std::vector<TemplatePiece> parse_template(const nlohmann::json& arr,
                                                 const nlohmann::json& specials,
                                                 const std::string& where) {
  if (!arr.is_array()) throw FormatError(where + ": expected an array");
  std::vector<TemplatePiece> out;
  for (const auto& item : arr) {
    TemplatePiece p;
    if (item.is_object() && item.contains("Sequence")) {
      const auto& s = item["Sequence"];
      const std::string id = get_or<std::string>(s, "id", "A", where);
      if (id != "A" && id != "B")
        throw FormatError(where + ": sequence id '" + id + "' is not A or B");
      p.is_sequence = true;
      p.sequence = id == "A" ? 0 : 1;
      p.type_id = static_cast<std::int32_t>(get_int(s, "type_id", 0, 0, kMaxTypeId, where));
    } else if (item.is_object() && item.contains("SpecialToken")) {
      const auto& s = item["SpecialToken"];
      const std::string id = get_or<std::string>(s, "id", "", where);
      p.type_id = static_cast<std::int32_t>(get_int(s, "type_id", 0, 0, kMaxTypeId, where));
      if (!specials.is_object() || !specials.contains(id))
        throw FormatError(where + ": special token '" + id + "' is not in 'special_tokens'");
      const auto& sp = specials[id];
      p.ids = get_ids(sp, "ids", kMaxId, where + ".special_tokens." + id);
      p.tokens =
          get_or<std::vector<std::string>>(sp, "tokens", {}, where + ".special_tokens." + id);
      if (p.ids.size() != p.tokens.size())
        throw FormatError(where + ".special_tokens." + id +
                          ": 'ids' and 'tokens' differ in length");
    } else {
      throw FormatError(where + ": a piece must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
    out.push_back(std::move(p));
  }
  return out;
}

/// @brief [token, id] of BertProcessing.
inline std::pair<std::string, std::int32_t> parse_pair(const nlohmann::json& j,
                                                       const std::string& where) {
  if (!j.is_array() || j.size() != 2 || !j[0].is_string())
    throw FormatError(where + ": expected [token, id]");
  return {j[0].get<std::string>(),
          static_cast<std::int32_t>(int_in(j[1], 0, kMaxId, where + "[1]"))};
}

/// @brief A vocabulary object {token: id}. Ids are bounded by the entry count: each below
/// the number of entries plus `extra` (the added tokens, which may fill gaps), checked
/// before anything is allocated. @throws FormatError.
inline std::vector<std::string> dense_vocab(const nlohmann::json& vj, const std::string& where,
                                            std::size_t extra = 0) {
  if (!vj.is_object()) throw FormatError(where + ": expected an object {token: id}");
  const auto n = static_cast<std::int64_t>(vj.size());
  if (n == 0) throw FormatError(where + ": empty vocabulary");
  std::int64_t top = 0;
  for (auto it = vj.begin(); it != vj.end(); ++it)
    top = std::max(top, int_in(it.value(), 0, n + static_cast<std::int64_t>(extra) - 1,
                               where + ": id of token '" + it.key() + "'"));
  std::vector<std::string> vocab(static_cast<std::size_t>(top) + 1);
  for (auto it = vj.begin(); it != vj.end(); ++it) vocab[it.value().get<std::size_t>()] = it.key();
  return vocab;
}

/// @brief BPE merges of tokenizer.json: ["a b", ...] or [["a", "b"], ...].
inline std::vector<std::pair<std::string, std::string>> parse_merges(const nlohmann::json& mj,
                                                                     const std::string& where) {
  if (!mj.is_array()) throw FormatError(where + ": expected an array");
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(mj.size());
  for (std::size_t i = 0; i < mj.size(); ++i) {
    const auto& m = mj[i];
    if (m.is_string()) {
      const std::string t = m.get<std::string>();
      const auto sp = t.find(' ');
      if (sp == std::string::npos || t.find(' ', sp + 1) != std::string::npos)
        throw FormatError(where + "[" + std::to_string(i) + "]: expected \"a b\"");
      out.emplace_back(t.substr(0, sp), t.substr(sp + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      throw FormatError(where + "[" + std::to_string(i) + "]: expected \"a b\" or [a, b]");
    }
  }
  return out;
}

/// @brief merges.txt as HF's BPE::read_file: lines split on "\n" (a final "\r" dropped),
/// "#version" lines skipped, every other line exactly two tokens separated by one space.
inline std::vector<std::pair<std::string, std::string>> read_merges_txt(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0, line = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string l = text.substr(start, end - start);
    start = end + 1;
    ++line;
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (l.compare(0, 8, "#version") == 0) continue;
    const auto sp = l.find(' ');
    if (sp == std::string::npos || l.find(' ', sp + 1) != std::string::npos)
      throw FormatError("'" + path + "': line " + std::to_string(line) +
                        ": expected two tokens separated by one space");
    out.emplace_back(l.substr(0, sp), l.substr(sp + 1));
  }
  return out;
}

/// @brief RoBERTa's templates (RobertaProcessing): <s> A </s> and <s> A </s></s> B </s>,
/// every type id 0.
inline TemplatePostProcessor roberta_post(std::int32_t cls_id, const std::string& cls,
                                          std::int32_t sep_id, const std::string& sep) {
  auto sp = [](std::int32_t id, const std::string& t) {
    TemplatePiece p;
    p.ids = {id};
    p.tokens = {t};
    return p;
  };
  auto seq = [](int s) {
    TemplatePiece p;
    p.is_sequence = true;
    p.sequence = s;
    return p;
  };
  TemplatePostProcessor pp(
      {sp(cls_id, cls), seq(0), sp(sep_id, sep)},
      {sp(cls_id, cls), seq(0), sp(sep_id, sep), sp(sep_id, sep), seq(1), sp(sep_id, sep)});
  pp.set_b_overflow_type(1);
  return pp;
}

/// @brief Token names of RoBERTa-style vocabularies, as defaults for a BPE tokenizer.
inline void roberta_names(TokenizerOptions& o) {
  o.unk_token = "<unk>";
  o.sep_token = "</s>";
  o.pad_token = "<pad>";
  o.cls_token = "<s>";
  o.mask_token = "<mask>";
}

/// @brief A Replace pattern of tokenizer.json: {"String": s} or {"Regex": r} with r one
/// (escaped) character followed by `+` or `{n,}` (the forms HF's converters write).
inline SpNormalizerStep parse_replace(const nlohmann::json& j, const std::string& where) {
  SpNormalizerStep s;
  s.to = get_or<std::string>(j, "content", "", where);
  const auto pat = j.find("pattern");
  if (pat == j.end() || !pat->is_object()) throw FormatError(where + ": missing object 'pattern'");
  if (pat->contains("String")) {
    s.kind = SpNormalizerStep::replace;
    s.from = get_or<std::string>(*pat, "String", "", where + ".pattern");
    return s;
  }
  const std::string r = get_or<std::string>(*pat, "Regex", "", where + ".pattern");
  // The anchored forms of HF's SentencePiece conversion (build_tokenizer_from_spm_proto):
  // `\A c+| c+\z` (strip the runs of c at both ends) and `\A` + a literal.
  if (r.size() >= 9 && r.compare(0, 2, "\\A") == 0) {
    const std::string body = r.substr(2);
    const auto bar = body.find("+|");
    if (bar != std::string::npos && bar > 0 && body.size() > 4 &&
        body.compare(body.size() - 3, 3, "+\\z") == 0 &&
        body.substr(0, bar) == body.substr(bar + 2, body.size() - 3 - (bar + 2)) && s.to.empty()) {
      const std::string c = body.substr(0, bar);
      std::size_t len = 0;
      const std::uint32_t cp =
          decode_utf8(reinterpret_cast<const unsigned char*>(c.data()), c.size(), len);
      if (len == c.size() && std::string("\\^$.|?*+()[]{}").find(c[0]) == std::string::npos) {
        s.kind = SpNormalizerStep::strip_run;
        s.run_char = cp;
        return s;
      }
    }
  }
  if (r.size() > 2 && r.compare(0, 2, "\\A") == 0 &&
      r.find_first_of("\\^$.|?*+()[]{}", 2) == std::string::npos) {
    s.kind = SpNormalizerStep::replace_prefix;
    s.from = r.substr(2);
    return s;
  }
  std::size_t i = 0;
  if (!r.empty() && r[0] == '\\') ++i;
  std::size_t len = 0;
  if (i < r.size())
    s.run_char =
        decode_utf8(reinterpret_cast<const unsigned char*>(r.data()) + i, r.size() - i, len);
  const std::string rest = i < r.size() ? r.substr(i + len) : std::string();
  const bool plain_char =
      i < r.size() && (i == 1 || std::string("\\^$.|?*+()[]{}").find(r[0]) == std::string::npos);
  s.kind = SpNormalizerStep::replace_run;
  if (plain_char && rest == "+") {
    s.min_run = 1;
    return s;
  }
  if (plain_char && rest.size() >= 3 && rest.front() == '{' &&
      rest.compare(rest.size() - 2, 2, ",}") == 0) {
    const std::string n = rest.substr(1, rest.size() - 3);
    if (!n.empty() && n.size() < 6 && n.find_first_not_of("0123456789") == std::string::npos) {
      s.min_run = static_cast<std::size_t>(std::stoul(n));
      if (s.min_run > 0) return s;
    }
  }
  throw TokenizerError(
      where + ": Replace regex '" + r +
      "' is not supported (a character followed by + or {n,}, \\A followed by a literal, "
      "and \\A c+| c+\\z are)");
}

/// @brief A decoders.Sequence of Replace (String pattern), ByteFallback, Fuse and Strip.
/// @throws FormatError, TokenizerError (other decoders, a Regex Replace, a Strip content that
/// is not one character).
inline SequenceDecoder parse_sequence_decoder(const nlohmann::json& j, const std::string& where) {
  const auto it = j.find("decoders");
  if (it == j.end() || !it->is_array()) throw FormatError(where + ": missing array 'decoders'");
  std::vector<SequenceDecoder::Step> steps;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& d = (*it)[i];
    const std::string wi = where + ".decoders[" + std::to_string(i) + "]";
    const std::string t = get_or<std::string>(d, "type", "", wi);
    SequenceDecoder::Step s;
    if (t == "Replace") {
      const SpNormalizerStep r = parse_replace(d, wi);
      if (r.kind != SpNormalizerStep::replace || r.from.empty())
        throw TokenizerError(wi + ": a Replace decoder needs a non-empty String pattern");
      s.kind = SequenceDecoder::Step::replace;
      s.from = r.from;
      s.to = r.to;
    } else if (t == "ByteFallback") {
      s.kind = SequenceDecoder::Step::byte_fallback;
    } else if (t == "Fuse") {
      s.kind = SequenceDecoder::Step::fuse;
    } else if (t == "Strip") {
      s.kind = SequenceDecoder::Step::strip;
      const std::string c = get_or<std::string>(d, "content", " ", wi);
      std::size_t len = 0;
      if (!c.empty())
        s.content = decode_utf8(reinterpret_cast<const unsigned char*>(c.data()), c.size(), len);
      if (c.empty() || len != c.size())
        throw TokenizerError(wi + ": Strip content must be one character");
      s.start = static_cast<std::size_t>(get_int(d, "start", 0, 0, 1 << 20, wi));
      s.stop = static_cast<std::size_t>(get_int(d, "stop", 0, 0, 1 << 20, wi));
    } else {
      throw TokenizerError(wi + ": decoder type '" + t +
                           "' is not supported in a Sequence (Replace, ByteFallback, Fuse and "
                           "Strip are)");
    }
    steps.push_back(std::move(s));
  }
  return SequenceDecoder(std::move(steps));
}

/// @brief The steps of a SentencePiece-style normalizer (Sequence, Replace, NFD, NFKD,
/// StripAccents, Lowercase, Precompiled), appended to `out`.
/// @throws FormatError, TokenizerError (other types, a bad charsmap).
inline void parse_sp_normalizer(const nlohmann::json& j, const std::string& where,
                                std::vector<SpNormalizerStep>& out, int depth = 0) {
  if (depth > 16) throw FormatError(where + ": normalizer Sequence nested too deeply");
  const std::string t = get_or<std::string>(j, "type", "", where);
  SpNormalizerStep s;
  if (t == "Sequence") {
    const auto it = j.find("normalizers");
    if (it == j.end() || !it->is_array())
      throw FormatError(where + ": missing array 'normalizers'");
    for (std::size_t i = 0; i < it->size(); ++i)
      parse_sp_normalizer((*it)[i], where + ".normalizers[" + std::to_string(i) + "]", out,
                          depth + 1);
    return;
  } else if (t == "Replace") {
    s = parse_replace(j, where);
  } else if (t == "NFD") {
    s.kind = SpNormalizerStep::nfd;
  } else if (t == "NFKD") {
    s.kind = SpNormalizerStep::nfkd;
  } else if (t == "StripAccents") {
    s.kind = SpNormalizerStep::strip_accents;
  } else if (t == "Lowercase") {
    s.kind = SpNormalizerStep::lowercase;
  } else if (t == "Precompiled") {
    s.kind = SpNormalizerStep::precompiled;
    const std::string b64 = get_or<std::string>(j, "precompiled_charsmap", "", where);
    s.charsmap = std::make_shared<const PrecompiledCharsmap>(base64_decode(b64, where), where);
  } else {
    throw TokenizerError(where + ": normalizer type '" + t + "' is not supported");
  }
  out.push_back(std::move(s));
}

/// @brief A Metaspace pre-tokenizer or decoder of tokenizer.json (prepend_scheme, or the
/// older add_prefix_space: true = always, false = never; split, default true).
inline Metaspace parse_metaspace(const nlohmann::json& j, const std::string& where) {
  Metaspace m;
  m.replacement = get_or<std::string>(j, "replacement", m.replacement, where);
  std::size_t len = 0;
  if (m.replacement.empty() ||
      (decode_utf8(reinterpret_cast<const unsigned char*>(m.replacement.data()),
                   m.replacement.size(), len),
       len != m.replacement.size()))
    throw FormatError(where + ": 'replacement' must be one character");
  const std::string scheme = get_or<std::string>(
      j, "prepend_scheme", get_or<bool>(j, "add_prefix_space", true, where) ? "always" : "never",
      where);
  if (scheme == "always") {
    m.prepend = Metaspace::Prepend::always;
  } else if (scheme == "first") {
    m.prepend = Metaspace::Prepend::first;
  } else if (scheme == "never") {
    m.prepend = Metaspace::Prepend::never;
  } else {
    throw FormatError(where + ": prepend_scheme '" + scheme + "' is not always, first or never");
  }
  m.split = get_or<bool>(j, "split", true, where);
  return m;
}

/// @brief The vocabulary of a Unigram model: [[piece, score], ...].
inline void parse_unigram_vocab(const nlohmann::json& vj, const std::string& where,
                                std::vector<std::string>& pieces, std::vector<double>& scores) {
  if (!vj.is_array()) throw FormatError(where + ": expected an array of [piece, score]");
  pieces.reserve(vj.size());
  scores.reserve(vj.size());
  for (std::size_t i = 0; i < vj.size(); ++i) {
    const auto& e = vj[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      throw FormatError(where + "[" + std::to_string(i) + "]: expected [piece, score]");
    pieces.push_back(e[0].get<std::string>());
    scores.push_back(e[1].get<double>());
  }
}

}  // namespace tokenizer_detail

BERTPP_INLINE Tokenizer Tokenizer::from_tokenizer_json(const std::string& path) {
  using namespace tokenizer_detail;
  const nlohmann::json j = read_json(path);
  if (!j.is_object()) throw FormatError("'" + path + "': expected a JSON object");
  TokenizerState st;
  TokenizerOptions& o = st.options;
  const std::string w = "'" + path + "'";

  const auto model = j.find("model");
  if (model == j.end() || !model->is_object()) throw FormatError(w + ": missing 'model'");
  const std::string mtype = get_or<std::string>(
      *model, "type", model->contains("merges") ? "BPE" : "WordPiece", w + ".model");
  std::vector<std::string> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  BpeOptions bpe;
  if (mtype == "WordPiece") {
    o.unk_token = get_or<std::string>(*model, "unk_token", "[UNK]", w + ".model");
    o.continuing_subword_prefix =
        get_or<std::string>(*model, "continuing_subword_prefix", "##", w + ".model");
    o.max_input_chars_per_word = static_cast<std::size_t>(
        get_int(*model, "max_input_chars_per_word", 100, 0, std::int64_t{1} << 62, w + ".model"));
  } else if (mtype == "BPE") {
    st.model_kind = ModelKind::bpe;
    roberta_names(o);
    const std::string where = w + ".model";
    if (model->contains("dropout") && !(*model)["dropout"].is_null() &&
        get_or<double>(*model, "dropout", 0.0, where) != 0.0)
      throw TokenizerError(where + ": BPE dropout is not supported (it is random)");
    bpe.unk_token = get_or<std::string>(*model, "unk_token", "", where);
    if (!bpe.unk_token.empty()) o.unk_token = bpe.unk_token;
    bpe.continuing_subword_prefix =
        get_or<std::string>(*model, "continuing_subword_prefix", "", where);
    bpe.end_of_word_suffix = get_or<std::string>(*model, "end_of_word_suffix", "", where);
    bpe.fuse_unk = get_or<bool>(*model, "fuse_unk", false, where);
    bpe.byte_fallback = get_or<bool>(*model, "byte_fallback", false, where);
    bpe.ignore_merges = get_or<bool>(*model, "ignore_merges", false, where);
    merges = parse_merges(model->value("merges", nlohmann::json::array()), where + ".merges");
  } else if (mtype == "Unigram") {
    st.model_kind = ModelKind::unigram;
    roberta_names(o);
  } else {
    throw TokenizerError(w + ": model type '" + mtype +
                         "' is not supported (WordPiece, BPE and Unigram are)");
  }
  const auto vj = model->find("vocab");
  const auto added_j = j.find("added_tokens");
  const std::size_t n_added = added_j != j.end() && added_j->is_array() ? added_j->size() : 0;
  std::int64_t n_vocab = 0;
  if (st.model_kind == ModelKind::unigram) {
    const std::string where = w + ".model";
    if (vj == model->end()) throw FormatError(where + ": missing array 'vocab'");
    std::vector<double> scores;
    parse_unigram_vocab(*vj, where + ".vocab", vocab, scores);
    if (vocab.empty()) throw TokenizerError(where + ".vocab: the vocabulary is empty");
    n_vocab = static_cast<std::int64_t>(vocab.size());
    const auto unk = get_int(*model, "unk_id", -1, 0, n_vocab - 1, where);
    st.unigram =
        std::make_shared<const Unigram>(vocab, scores, static_cast<std::int32_t>(unk),
                                        get_or<bool>(*model, "byte_fallback", false, where), where);
    if (unk >= 0) o.unk_token = vocab[static_cast<std::size_t>(unk)];
  } else {
    if (vj == model->end() || !vj->is_object())
      throw FormatError(w + ".model: missing object 'vocab'");
    vocab = dense_vocab(*vj, w + ".model.vocab", n_added);
    n_vocab = static_cast<std::int64_t>(vj->size());
  }

  const auto norm = j.find("normalizer");
  if (norm != j.end() && !norm->is_null()) {
    const std::string where = w + ".normalizer";
    const std::string t = get_or<std::string>(*norm, "type", "", where);
    if (t != "BertNormalizer") {
      std::vector<SpNormalizerStep> steps;
      parse_sp_normalizer(*norm, where, steps);
      st.sp_normalizer = std::make_shared<const SpNormalizer>(std::move(steps));
    }
  }
  if (norm != j.end() && !norm->is_null() && !st.sp_normalizer) {
    const std::string where = w + ".normalizer";
    o.clean_text = get_or<bool>(*norm, "clean_text", true, where);
    o.tokenize_chinese_chars = get_or<bool>(*norm, "handle_chinese_chars", true, where);
    o.do_lower_case = get_or<bool>(*norm, "lowercase", true, where);
    if (norm->contains("strip_accents") && !(*norm)["strip_accents"].is_null())
      o.strip_accents = get_or<bool>(*norm, "strip_accents", false, where);
    st.normalizer = BertNormalizer(normalizer_options(o));
  }
  const auto pre = j.find("pre_tokenizer");
  st.pre_kind = PreTokenizerKind::none;
  if (pre != j.end() && !pre->is_null()) {
    const std::string where = w + ".pre_tokenizer";
    const std::string t = get_or<std::string>(*pre, "type", "", where);
    if (t == "BertPreTokenizer") {
      st.pre_kind = PreTokenizerKind::bert;
    } else if (t == "ByteLevel") {
      st.pre_kind = PreTokenizerKind::byte_level;
      st.byte_level.add_prefix_space = get_or<bool>(*pre, "add_prefix_space", true, where);
      st.byte_level.use_regex = get_or<bool>(*pre, "use_regex", true, where);
    } else if (t == "Metaspace") {
      st.pre_kind = PreTokenizerKind::metaspace;
      st.metaspace = parse_metaspace(*pre, where);
    } else if (t == "Sequence" && pre->contains("pretokenizers") &&
               (*pre)["pretokenizers"].is_array() && (*pre)["pretokenizers"].size() == 1 &&
               get_or<std::string>((*pre)["pretokenizers"][0], "type", "", where) == "Metaspace") {
      st.pre_kind = PreTokenizerKind::metaspace;
      st.metaspace = parse_metaspace((*pre)["pretokenizers"][0], where + ".pretokenizers[0]");
    } else if (t == "Sequence" && pre->contains("pretokenizers") &&
               (*pre)["pretokenizers"].is_array() && (*pre)["pretokenizers"].size() == 2 &&
               get_or<std::string>((*pre)["pretokenizers"][0], "type", "", where) ==
                   "WhitespaceSplit" &&
               get_or<std::string>((*pre)["pretokenizers"][1], "type", "", where) == "Metaspace") {
      st.pre_kind = PreTokenizerKind::metaspace;
      st.metaspace = parse_metaspace((*pre)["pretokenizers"][1], where + ".pretokenizers[1]");
      st.metaspace.whitespace_split = true;
    } else {
      throw TokenizerError(where + ": type '" + t + "' is not supported");
    }
  }
  // BPE goes with ByteLevel (GPT-2's bytes) or Metaspace (SentencePiece BPE, characters),
  // Unigram with Metaspace (or none), WordPiece with neither.
  const bool pre_ok =
      st.model_kind == ModelKind::bpe ? st.pre_kind == PreTokenizerKind::byte_level ||
                                            st.pre_kind == PreTokenizerKind::metaspace
      : st.model_kind == ModelKind::unigram
          ? st.pre_kind == PreTokenizerKind::metaspace || st.pre_kind == PreTokenizerKind::none
          : st.pre_kind != PreTokenizerKind::byte_level &&
                st.pre_kind != PreTokenizerKind::metaspace;
  if (!pre_ok)
    throw TokenizerError(w + ": a " + mtype +
                         " model with this pre-tokenizer is not supported (BPE goes with "
                         "ByteLevel or Metaspace, Unigram with Metaspace)");
  bpe.byte_level = st.pre_kind == PreTokenizerKind::byte_level;
  const auto added = j.find("added_tokens");
  if (added != j.end() && !added->is_null()) {
    if (!added->is_array()) throw FormatError(w + ".added_tokens: expected an array");
    // An added token's id is below the number of vocabulary entries and added tokens.
    const auto max_id = n_vocab + static_cast<std::int64_t>(added->size()) - 1;
    for (std::size_t i = 0; i < added->size(); ++i) {
      const std::string where = w + ".added_tokens[" + std::to_string(i) + "]";
      const auto id = get_int((*added)[i], "id", -1, 0, max_id, where);
      if (id < 0) throw FormatError(where + ": missing 'id'");
      st.added.push_back(parse_added_token((*added)[i], static_cast<std::int32_t>(id), where));
    }
  }
  const auto pad = j.find("padding");
  if (pad != j.end() && pad->is_object())
    o.pad_token = get_or<std::string>(*pad, "pad_token", o.pad_token, w + ".padding");
  if (st.model_kind == ModelKind::bpe) st.bpe = Bpe(vocab, merges, bpe);
  set_vocab(st, std::move(vocab));

  const auto post = j.find("post_processor");
  if (post != j.end() && !post->is_null()) {
    const std::string where = w + ".post_processor";
    const std::string t = get_or<std::string>(*post, "type", "", where);
    if (t == "TemplateProcessing") {
      const nlohmann::json specials = post->value("special_tokens", nlohmann::json::object());
      st.post = TemplatePostProcessor(
          parse_template(post->value("single", nlohmann::json()), specials, where + ".single"),
          parse_template(post->value("pair", nlohmann::json()), specials, where + ".pair"));
      st.post.set_raw_overflow_types(true);
    } else if (t == "BertProcessing") {
      const auto cls = parse_pair(post->value("cls", nlohmann::json()), where + ".cls");
      const auto sep = parse_pair(post->value("sep", nlohmann::json()), where + ".sep");
      st.post = TemplatePostProcessor::bert(cls.second, cls.first, sep.second, sep.first);
      o.cls_token = cls.first;
      o.sep_token = sep.first;
    } else if (t == "RobertaProcessing") {
      const auto cls = parse_pair(post->value("cls", nlohmann::json()), where + ".cls");
      const auto sep = parse_pair(post->value("sep", nlohmann::json()), where + ".sep");
      st.post = roberta_post(cls.second, cls.first, sep.second, sep.first);
      o.cls_token = cls.first;
      o.sep_token = sep.first;
      st.trim_offsets = get_or<bool>(*post, "trim_offsets", true, where);
      st.trim_prefix_space = get_or<bool>(*post, "add_prefix_space", true, where);
    } else if (t == "ByteLevel") {
      st.trim_offsets = get_or<bool>(*post, "trim_offsets", true, where);
      st.trim_prefix_space = get_or<bool>(*post, "add_prefix_space", true, where);
    } else {
      throw TokenizerError(where + ": type '" + t + "' is not supported");
    }
  }
  const auto dec = j.find("decoder");
  st.decoder = WordPieceDecoder("##", false, false);
  st.decoder_kind = DecoderKind::none;
  if (dec != j.end() && !dec->is_null()) {
    const std::string t = get_or<std::string>(*dec, "type", "", w + ".decoder");
    if (t == "WordPiece") {
      st.decoder = WordPieceDecoder(get_or<std::string>(*dec, "prefix", "##", w + ".decoder"),
                                    get_or<bool>(*dec, "cleanup", true, w + ".decoder"));
      st.decoder_kind = DecoderKind::wordpiece;
    } else if (t == "ByteLevel") {
      st.decoder_kind = DecoderKind::byte_level;
    } else if (t == "Metaspace") {
      st.metaspace_decoder = parse_metaspace(*dec, w + ".decoder");
      st.decoder_kind = DecoderKind::metaspace;
    } else if (t == "Sequence") {
      st.sequence_decoder = parse_sequence_decoder(*dec, w + ".decoder");
      st.decoder_kind = DecoderKind::sequence;
    } else {
      throw TokenizerError(w + ".decoder: type '" + t + "' is not supported");
    }
  }
  return build(std::move(st));
}

// RoBERTa's legacy files as transformers' RobertaTokenizer reads them: BPE (no unk token)
// over vocab.json + merges.txt, ByteLevel pre-tokenizer and decoder, RobertaProcessing; the
// special tokens (named by the configs, RoBERTa's names otherwise) added as special tokens,
// new ids after the vocabulary for those it lacks.
inline Tokenizer Tokenizer::from_roberta_files(const std::string& base, const nlohmann::json& cfg,
                                               const nlohmann::json& map) {
  using namespace tokenizer_detail;
  const std::string cfg_path = base + "tokenizer_config.json",
                    map_path = base + "special_tokens_map.json";
  const std::string wc = "'" + cfg_path + "'", wm = "'" + map_path + "'";
  const std::string cls_name = get_or<std::string>(cfg, "tokenizer_class", "RobertaTokenizer", wc);
  if (cls_name != "RobertaTokenizer" && cls_name != "RobertaTokenizerFast")
    throw TokenizerError(wc + ": tokenizer_class '" + cls_name +
                         "' with vocab.json + merges.txt is not supported (RobertaTokenizer is)");
  TokenizerState st;
  TokenizerOptions& o = st.options;
  roberta_names(o);
  std::string bos = "<s>", eos = "</s>";
  std::string* names[7] = {&bos,         &eos,         &o.unk_token, &o.sep_token,
                           &o.pad_token, &o.cls_token, &o.mask_token};
  const char* fields[7] = {"bos_token", "eos_token", "unk_token", "sep_token",
                           "pad_token", "cls_token", "mask_token"};
  for (int k = 0; k < 7; ++k) {
    *names[k] = token_field(map, fields[k], *names[k], wm);
    *names[k] = token_field(cfg, fields[k], *names[k], wc);
  }
  std::vector<std::string> vocab =
      dense_vocab(read_json(base + "vocab.json"), "'" + base + "vocab.json'");
  const auto merges = read_merges_txt(base + "merges.txt");
  std::unordered_map<std::string, std::int32_t> ids;
  for (std::size_t i = 0; i < vocab.size(); ++i) ids[vocab[i]] = static_cast<std::int32_t>(i);
  auto next = static_cast<std::int32_t>(vocab.size());
  for (int k = 0; k < 7; ++k) {  // HF's order: bos, eos, unk, sep, pad, cls, mask
    bool dup = false;
    for (const auto& a : st.added) dup = dup || a.content == *names[k];
    if (dup) continue;
    AddedToken t;
    t.content = *names[k];
    const auto it = ids.find(t.content);
    t.id = it != ids.end() ? it->second : next++;
    st.added.push_back(t);
  }
  std::sort(st.added.begin(), st.added.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  st.model_kind = ModelKind::bpe;
  st.pre_kind = PreTokenizerKind::byte_level;
  st.byte_level.add_prefix_space = get_or<bool>(cfg, "add_prefix_space", false, wc);
  st.trim_offsets = get_or<bool>(cfg, "trim_offsets", true, wc);
  st.trim_prefix_space = st.byte_level.add_prefix_space;
  BpeOptions bo;
  bo.byte_level = true;
  st.bpe = Bpe(vocab, merges, bo);
  set_vocab(st, std::move(vocab));
  auto id_of = [&](const std::string& n) {
    for (const auto& a : st.added)
      if (a.content == n) return a.id;
    return std::int32_t{-1};
  };
  st.post = roberta_post(id_of(o.cls_token), o.cls_token, id_of(o.sep_token), o.sep_token);
  st.decoder_kind = DecoderKind::byte_level;
  return build(std::move(st));
}

// A SentencePiece model file as transformers 5's tokenizer classes convert it (their
// __init__ / convert_from_spm; the sentencepiece library itself differs, see
// docs/design-notes.md):
//  - AlbertTokenizer (spiece.model): the pieces as they are, unk id 1; normalizer
//    Replace("``", "\""), Replace("''", "\""), NFKD + StripAccents unless keep_accents,
//    Lowercase if do_lower_case, Precompiled(charsmap); [CLS] A [SEP] / [CLS] A [SEP] B:1 [SEP]:1;
//  - XLMRobertaTokenizer (sentencepiece.bpe.model): fairseq ids, <s> <pad> </s> <unk> then
//    the pieces from id 3 on, <mask> last, unk id 3; Precompiled only; <s> A </s> /
//    <s> A </s></s> B </s>;
//  - both: WhitespaceSplit + Metaspace(prepend always, or never without add_prefix_space)
//    and the Metaspace decoder; the special tokens, the CONTROL pieces (special) and the
//    USER_DEFINED pieces (not special) are added tokens, none normalized.
inline Tokenizer Tokenizer::from_sentencepiece(const std::string& base, const std::string& file,
                                               const nlohmann::json& cfg, const nlohmann::json& map,
                                               std::size_t model_max_length) {
  using namespace tokenizer_detail;
  const std::string path = base + file;
  const std::string w = "'" + path + "'";
  const std::string wc = "'" + base + "tokenizer_config.json'",
                    wm = "'" + base + "special_tokens_map.json'";
  std::string cls_name =
      get_or<std::string>(cfg, "tokenizer_class",
                          file == "spiece.model" ? "AlbertTokenizer" : "XLMRobertaTokenizer", wc);
  if (cls_name.size() > 4 && cls_name.compare(cls_name.size() - 4, 4, "Fast") == 0)
    cls_name.resize(cls_name.size() - 4);
  const bool albert = cls_name == "AlbertTokenizer";
  if (!albert && cls_name != "XLMRobertaTokenizer")
    throw TokenizerError(wc + ": tokenizer_class '" + cls_name + "' with " + file +
                         " is not supported (AlbertTokenizer and XLMRobertaTokenizer are)");
  const SpModel m = parse_sp_model(read_file(path), w);
  // transformers 5's AlbertTokenizer / XLMRobertaTokenizer build a Unigram model over the
  // pieces and their scores whatever trainer_spec.model_type says (their `model` is
  // Unigram, so SentencePieceExtractor never builds BPE merges for them): a BPE, WORD or
  // CHAR model is converted the same way (docs/tokenizer-notes.md).
  if (m.model_type < 1 || m.model_type > 4)
    throw TokenizerError(w + ": trainer_spec.model_type " + std::to_string(m.model_type) +
                         " is not a SentencePiece model type (UNIGRAM 1, BPE 2, WORD 3, CHAR 4)");
  TokenizerState st;
  TokenizerOptions& o = st.options;
  o.model_max_length = model_max_length;
  std::string bos, eos;
  if (albert) {
    bos = "[CLS]", eos = "[SEP]", o.unk_token = "<unk>", o.sep_token = "[SEP]";
    o.pad_token = "<pad>", o.cls_token = "[CLS]", o.mask_token = "[MASK]";
  } else {
    roberta_names(o);
    bos = "<s>", eos = "</s>";
  }
  std::string* names[7] = {&bos,         &eos,         &o.unk_token, &o.sep_token,
                           &o.pad_token, &o.cls_token, &o.mask_token};
  const char* fields[7] = {"bos_token", "eos_token", "unk_token", "sep_token",
                           "pad_token", "cls_token", "mask_token"};
  for (int k = 0; k < 7; ++k) {
    *names[k] = token_field(map, fields[k], *names[k], wm);
    *names[k] = token_field(cfg, fields[k], *names[k], wc);
  }
  std::vector<std::string> pieces;
  std::vector<double> scores;
  std::int32_t unk = 1;
  if (albert) {
    for (const auto& p : m.pieces) {
      pieces.push_back(p.piece);
      scores.push_back(static_cast<double>(p.score));
    }
  } else {
    unk = 3;
    pieces = {bos, o.pad_token, eos, o.unk_token};
    scores.assign(4, 0.0);
    for (std::size_t i = 3; i < m.pieces.size(); ++i) {
      pieces.push_back(m.pieces[i].piece);
      scores.push_back(static_cast<double>(m.pieces[i].score));
    }
    pieces.push_back(o.mask_token);
    scores.push_back(0.0);
  }
  if (unk >= static_cast<std::int32_t>(pieces.size()))
    throw TokenizerError(w + ": " + std::to_string(pieces.size()) +
                         " pieces, too few for the unknown token's id " + std::to_string(unk));
  st.model_kind = ModelKind::unigram;
  st.unigram = std::make_shared<const Unigram>(pieces, scores, unk, false, w);
  std::vector<SpNormalizerStep> steps;
  if (albert) {
    SpNormalizerStep r;
    r.kind = SpNormalizerStep::replace;
    r.from = "``", r.to = "\"";
    steps.push_back(r);
    r.from = "''";
    steps.push_back(r);
    if (!get_or<bool>(cfg, "keep_accents", false, wc)) {
      steps.emplace_back().kind = SpNormalizerStep::nfkd;
      steps.emplace_back().kind = SpNormalizerStep::strip_accents;
    }
    if (get_or<bool>(cfg, "do_lower_case", true, wc))
      steps.emplace_back().kind = SpNormalizerStep::lowercase;
  }
  if (!m.precompiled_charsmap.empty()) {
    SpNormalizerStep pc;
    pc.kind = SpNormalizerStep::precompiled;
    pc.charsmap = std::make_shared<const PrecompiledCharsmap>(m.precompiled_charsmap,
                                                              w + ": normalizer_spec");
    steps.push_back(pc);
  }
  if (!steps.empty()) st.sp_normalizer = std::make_shared<const SpNormalizer>(std::move(steps));
  st.pre_kind = PreTokenizerKind::metaspace;
  st.metaspace.whitespace_split = true;
  st.metaspace.prepend = get_or<bool>(cfg, "add_prefix_space", true, wc)
                             ? Metaspace::Prepend::always
                             : Metaspace::Prepend::never;
  st.metaspace_decoder = st.metaspace;
  st.decoder_kind = DecoderKind::metaspace;
  // Added tokens: the special tokens, then the CONTROL / USER_DEFINED pieces; ids by
  // content (the vocabulary's last id of a piece), new ids after it for the others.
  auto next = static_cast<std::int32_t>(pieces.size());
  auto add = [&](const std::string& content, bool special) {
    for (const auto& a : st.added)
      if (a.content == content) return;
    AddedToken t;
    t.content = content;
    t.special = special;
    t.normalized = false;
    std::size_t i = pieces.size();  // the last id of a duplicate piece, as HF's vocabulary
    while (i > 0 && pieces[i - 1] != content) --i;
    t.id = i > 0 ? static_cast<std::int32_t>(i - 1) : next++;
    st.added.push_back(t);
  };
  for (int k = 0; k < 7; ++k) add(*names[k], true);
  for (const auto& p : m.pieces)
    if (p.type == SpPiece::control || p.type == SpPiece::user_defined)
      add(p.piece, p.type == SpPiece::control);
  std::sort(st.added.begin(), st.added.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  set_vocab(st, std::move(pieces));
  auto id_of = [&](const std::string& n) {
    for (const auto& a : st.added)
      if (a.content == n) return a.id;
    return std::int32_t{-1};
  };
  // ALBERT's template is BERT's; XLM-R's is RoBERTa's (all type ids 0), overflowing
  // windows keeping their own type ids as TemplateProcessing does.
  st.post = albert ? TemplatePostProcessor::bert(id_of(o.cls_token), o.cls_token,
                                                 id_of(o.sep_token), o.sep_token)
                   : roberta_post(id_of(bos), bos, id_of(eos), eos);
  st.post.set_raw_overflow_types(true);
  return build(std::move(st));
}

BERTPP_INLINE Tokenizer Tokenizer::load(const std::string& dir) {
  using namespace tokenizer_detail;
  bool cleanup = false;
  Tokenizer t = load_files(dir, cleanup);
  if (t.s_->options.clean_up_tokenization_spaces == cleanup) return t;
  auto st = std::make_shared<TokenizerState>(*t.s_);
  st->options.clean_up_tokenization_spaces = cleanup;
  t.s_ = std::move(st);
  return t;
}

inline Tokenizer Tokenizer::load_files(const std::string& dir, bool& clean_up_tokenization_spaces) {
  using namespace tokenizer_detail;
  const std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  TokenizerOptions o;
  nlohmann::json cfg = nlohmann::json::object(), map = nlohmann::json::object();
  const std::string cfg_path = base + "tokenizer_config.json",
                    map_path = base + "special_tokens_map.json";
  if (file_exists(cfg_path)) cfg = read_json(cfg_path);
  if (file_exists(map_path)) map = read_json(map_path);
  if (!cfg.is_object()) throw FormatError("'" + cfg_path + "': expected a JSON object");
  if (!map.is_object()) throw FormatError("'" + map_path + "': expected a JSON object");
  const std::string wc = "'" + cfg_path + "'", wm = "'" + map_path + "'";
  clean_up_tokenization_spaces = get_or<bool>(cfg, "clean_up_tokenization_spaces", false, wc);
  const auto mml = cfg.find("model_max_length");
  if (mml != cfg.end() && mml->is_number()) {
    const double v = mml->get<double>();
    o.model_max_length =
        v >= 1e18 || v < 1 ? TokenizerOptions::no_max_length : static_cast<std::size_t>(v);
  }
  std::string* names[5] = {&o.unk_token, &o.sep_token, &o.pad_token, &o.cls_token, &o.mask_token};
  const char* fields[5] = {"unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};
  for (int k = 0; k < 5; ++k) {
    *names[k] = token_field(map, fields[k], *names[k], wm);
    *names[k] = token_field(cfg, fields[k], *names[k], wc);
  }
  if (file_exists(base + "tokenizer.json")) {
    Tokenizer t = from_tokenizer_json(base + "tokenizer.json");
    auto st = *t.s_;
    st.options.model_max_length = o.model_max_length;
    for (int k = 0; k < 5; ++k)
      if (cfg.contains(fields[k]) || map.contains(fields[k])) {
        std::string* dst[5] = {&st.options.unk_token, &st.options.sep_token, &st.options.pad_token,
                               &st.options.cls_token, &st.options.mask_token};
        *dst[k] = *names[k];
      }
    st.token_to_id.clear();
    st.special_ids.clear();
    st.raw_matcher = AddedTokenMatcher();
    st.normalized_matcher = AddedTokenMatcher();
    return build(std::move(st));
  }
  const char* sp_file = file_exists(base + "spiece.model")              ? "spiece.model"
                        : file_exists(base + "sentencepiece.bpe.model") ? "sentencepiece.bpe.model"
                                                                        : nullptr;
  const bool bpe_files =
      !sp_file && file_exists(base + "vocab.json") && file_exists(base + "merges.txt");
  // A TF2 SavedModel (TF Hub, Model Garden) keeps its vocabulary in assets/.
  const bool saved_model = !sp_file && !bpe_files && !file_exists(base + "vocab.txt") &&
                           file_exists(base + "assets/vocab.txt");
  if (!sp_file && !bpe_files && !saved_model && !file_exists(base + "vocab.txt"))
    throw IoError("'" + dir +
                  "': no tokenizer files (expected tokenizer.json, spiece.model, "
                  "sentencepiece.bpe.model, vocab.txt, vocab.json with merges.txt, or a "
                  "SavedModel's assets/vocab.txt)");
  Tokenizer t = sp_file     ? from_sentencepiece(base, sp_file, cfg, map, o.model_max_length)
                : bpe_files ? from_roberta_files(base, cfg, map)
                            : Tokenizer(nullptr);
  if (!sp_file && !bpe_files) {
    if (saved_model && !cfg.contains("do_lower_case")) {
      o.do_lower_case = saved_model_lower_case(base);
    } else {
      o.do_lower_case = get_or<bool>(cfg, "do_lower_case", default_do_lower_case(base), wc);
    }
    if (cfg.contains("strip_accents") && !cfg["strip_accents"].is_null())
      o.strip_accents = get_or<bool>(cfg, "strip_accents", false, wc);
    o.tokenize_chinese_chars = get_or<bool>(cfg, "tokenize_chinese_chars", true, wc);
    o.clean_text = get_or<bool>(cfg, "clean_text", true, wc);
    o.never_split = get_or<std::vector<std::string>>(cfg, "never_split", {}, wc);
    t = from_vocab_file(base + (saved_model ? "assets/vocab.txt" : "vocab.txt"), o);
  }
  const auto atd = cfg.find("added_tokens_decoder");
  if (atd == cfg.end() || !atd->is_object()) return t;
  auto st = *t.s_;
  for (auto it = atd->begin(); it != atd->end(); ++it) {
    const std::string where = wc + ".added_tokens_decoder." + it.key();
    // Ids stay below the vocabulary size plus the number of entries here (no huge gaps).
    const std::size_t max_id = st.id_to_token.size() + atd->size() - 1;
    std::size_t id = 0;
    if (it.key().empty() || it.key().size() > 10 ||
        it.key().find_first_not_of("0123456789") != std::string::npos ||
        (id = std::stoul(it.key())) > max_id)
      throw FormatError(where + ": the key is not an id in [0, " + std::to_string(max_id) + "]");
    AddedToken tok = parse_added_token(it.value(), static_cast<std::int32_t>(id), where);
    bool known = false;
    for (auto& a : st.added)
      if (a.content == tok.content) {
        a = tok;
        known = true;
      }
    if (!known) st.added.push_back(tok);
    if (id >= st.id_to_token.size()) st.id_to_token.resize(id + 1);
    st.id_to_token[id] = tok.content;
  }
  st.token_to_id.clear();
  st.special_ids.clear();
  st.raw_matcher = AddedTokenMatcher();
  st.normalized_matcher = AddedTokenMatcher();
  return build(std::move(st));
}

}  // namespace bertpp
