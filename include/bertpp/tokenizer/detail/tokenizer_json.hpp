// SPDX-License-Identifier: Apache-2.0
// Loaders: HF's tokenizer.json, and a checkpoint folder.
#pragma once

#include <bertpp/tokenizer/detail/files.hpp>
#include <bertpp/tokenizer/tokenizer.hpp>

namespace bertpp {

namespace tokenizer_detail {

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
      p.type_id = get_or<std::int32_t>(s, "type_id", 0, where);
    } else if (item.is_object() && item.contains("SpecialToken")) {
      const auto& s = item["SpecialToken"];
      const std::string id = get_or<std::string>(s, "id", "", where);
      p.type_id = get_or<std::int32_t>(s, "type_id", 0, where);
      if (!specials.is_object() || !specials.contains(id))
        throw FormatError(where + ": special token '" + id + "' is not in 'special_tokens'");
      const auto& sp = specials[id];
      p.ids = get_or<std::vector<std::int32_t>>(sp, "ids", {}, where + ".special_tokens." + id);
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
  if (!j.is_array() || j.size() != 2 || !j[0].is_string() || !j[1].is_number_integer())
    throw FormatError(where + ": expected [token, id]");
  return {j[0].get<std::string>(), j[1].get<std::int32_t>()};
}

}  // namespace tokenizer_detail

inline Tokenizer Tokenizer::from_tokenizer_json(const std::string& path) {
  using namespace tokenizer_detail;
  const nlohmann::json j = read_json(path);
  if (!j.is_object()) throw FormatError("'" + path + "': expected a JSON object");
  TokenizerState st;
  TokenizerOptions& o = st.options;
  const std::string w = "'" + path + "'";

  const auto model = j.find("model");
  if (model == j.end() || !model->is_object()) throw FormatError(w + ": missing 'model'");
  const std::string mtype = get_or<std::string>(*model, "type", "WordPiece", w + ".model");
  if (mtype != "WordPiece")
    throw TokenizerError(w + ": model type '" + mtype + "' is not supported (WordPiece only)");
  o.unk_token = get_or<std::string>(*model, "unk_token", "[UNK]", w + ".model");
  o.continuing_subword_prefix =
      get_or<std::string>(*model, "continuing_subword_prefix", "##", w + ".model");
  o.max_input_chars_per_word =
      get_or<std::size_t>(*model, "max_input_chars_per_word", 100, w + ".model");
  const auto vj = model->find("vocab");
  if (vj == model->end() || !vj->is_object())
    throw FormatError(w + ".model: missing object 'vocab'");
  std::vector<std::string> vocab;
  for (auto it = vj->begin(); it != vj->end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<std::int64_t>() < 0 ||
        it.value().get<std::int64_t>() > 100000000)
      throw FormatError(w + ".model.vocab: token '" + it.key() + "' has an invalid id");
    const auto id = it.value().get<std::size_t>();
    if (id >= vocab.size()) vocab.resize(id + 1);
    vocab[id] = it.key();
  }
  if (vocab.empty()) throw FormatError(w + ".model.vocab: empty vocabulary");

  const auto norm = j.find("normalizer");
  if (norm != j.end() && !norm->is_null()) {
    const std::string where = w + ".normalizer";
    const std::string t = get_or<std::string>(*norm, "type", "", where);
    if (t != "BertNormalizer") throw TokenizerError(where + ": type '" + t + "' is not supported");
    o.clean_text = get_or<bool>(*norm, "clean_text", true, where);
    o.tokenize_chinese_chars = get_or<bool>(*norm, "handle_chinese_chars", true, where);
    o.do_lower_case = get_or<bool>(*norm, "lowercase", true, where);
    if (norm->contains("strip_accents") && !(*norm)["strip_accents"].is_null())
      o.strip_accents = get_or<bool>(*norm, "strip_accents", false, where);
    st.normalizer = BertNormalizer(normalizer_options(o));
  }
  const auto pre = j.find("pre_tokenizer");
  st.pre_tokenize = pre != j.end() && !pre->is_null();
  if (st.pre_tokenize) {
    const std::string t = get_or<std::string>(*pre, "type", "", w + ".pre_tokenizer");
    if (t != "BertPreTokenizer")
      throw TokenizerError(w + ".pre_tokenizer: type '" + t + "' is not supported");
  }
  const auto added = j.find("added_tokens");
  if (added != j.end() && !added->is_null()) {
    if (!added->is_array()) throw FormatError(w + ".added_tokens: expected an array");
    for (std::size_t i = 0; i < added->size(); ++i) {
      const std::string where = w + ".added_tokens[" + std::to_string(i) + "]";
      const auto id = get_or<std::int64_t>((*added)[i], "id", -1, where);
      if (id < 0 || id > 100000000) throw FormatError(where + ": invalid or missing 'id'");
      st.added.push_back(parse_added_token((*added)[i], static_cast<std::int32_t>(id), where));
    }
  }
  const auto pad = j.find("padding");
  if (pad != j.end() && pad->is_object())
    o.pad_token = get_or<std::string>(*pad, "pad_token", o.pad_token, w + ".padding");
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
    } else if (t == "BertProcessing") {
      const auto cls = parse_pair(post->value("cls", nlohmann::json()), where + ".cls");
      const auto sep = parse_pair(post->value("sep", nlohmann::json()), where + ".sep");
      st.post = TemplatePostProcessor::bert(cls.second, cls.first, sep.second, sep.first);
      o.cls_token = cls.first;
      o.sep_token = sep.first;
    } else {
      throw TokenizerError(where + ": type '" + t + "' is not supported");
    }
  }
  const auto dec = j.find("decoder");
  if (dec != j.end() && !dec->is_null()) {
    const std::string t = get_or<std::string>(*dec, "type", "", w + ".decoder");
    if (t != "WordPiece") throw TokenizerError(w + ".decoder: type '" + t + "' is not supported");
    st.decoder = WordPieceDecoder(get_or<std::string>(*dec, "prefix", "##", w + ".decoder"),
                                  get_or<bool>(*dec, "cleanup", true, w + ".decoder"));
  } else {
    st.decoder = WordPieceDecoder("##", false, false);
  }
  return build(std::move(st));
}

inline Tokenizer Tokenizer::load(const std::string& dir) {
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
  o.do_lower_case = get_or<bool>(cfg, "do_lower_case", default_do_lower_case(base), wc);
  if (cfg.contains("strip_accents") && !cfg["strip_accents"].is_null())
    o.strip_accents = get_or<bool>(cfg, "strip_accents", false, wc);
  o.tokenize_chinese_chars = get_or<bool>(cfg, "tokenize_chinese_chars", true, wc);
  o.clean_text = get_or<bool>(cfg, "clean_text", true, wc);
  o.never_split = get_or<std::vector<std::string>>(cfg, "never_split", {}, wc);
  Tokenizer t = from_vocab_file(base + "vocab.txt", o);
  const auto atd = cfg.find("added_tokens_decoder");
  if (atd == cfg.end() || !atd->is_object()) return t;
  auto st = *t.s_;
  for (auto it = atd->begin(); it != atd->end(); ++it) {
    const std::string where = wc + ".added_tokens_decoder." + it.key();
    std::int32_t id = -1;
    try {
      id = static_cast<std::int32_t>(std::stoul(it.key()));
    } catch (const std::exception&) {
      throw FormatError(where + ": the key is not an id");
    }
    AddedToken tok = parse_added_token(it.value(), id, where);
    bool known = false;
    for (auto& a : st.added)
      if (a.content == tok.content) {
        a = tok;
        known = true;
      }
    if (!known) st.added.push_back(tok);
    if (static_cast<std::size_t>(id) >= st.id_to_token.size())
      st.id_to_token.resize(static_cast<std::size_t>(id) + 1);
    st.id_to_token[static_cast<std::size_t>(id)] = tok.content;
  }
  st.token_to_id.clear();
  st.special_ids.clear();
  st.raw_matcher = AddedTokenMatcher();
  st.normalized_matcher = AddedTokenMatcher();
  return build(std::move(st));
}

}  // namespace bertpp
