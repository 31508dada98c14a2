// SPDX-License-Identifier: Apache-2.0
// Tokenizer against values from HF (tools/gen_tokenizer_test_data.py ->
// tests/tokenizer/data/unit/expected.json): encodings in six settings, pairs, invalid UTF-8,
// truncation with stride and overflow, padding, decode, and each stage alone.
#include <bertpp/tokenizer/tokenizer.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "unit_data.hpp"

#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

using bertpp_test::kUnitData;

const nlohmann::json& expected() {
  static const nlohmann::json j = [] {
    std::ifstream in(kUnitData + "expected.json");
    return nlohmann::json::parse(in);
  }();
  return j;
}

const bertpp::Tokenizer& tokenizer(const std::string& setting) {
  static std::map<std::string, bertpp::Tokenizer> cache;
  auto it = cache.find(setting);
  if (it != cache.end()) return it->second;
  bertpp::TokenizerOptions o;
  if (setting == "cased") o.do_lower_case = false;
  if (setting == "no_cjk") o.tokenize_chinese_chars = false;
  if (setting == "strip_cased") {
    o.do_lower_case = false;
    o.strip_accents = true;
  }
  if (setting == "lower_keep_accents") o.strip_accents = false;
  bertpp::Tokenizer t = setting == "json" ? bertpp::Tokenizer::load(kUnitData + "json_dir")
                        : setting == "vocab_dir"
                            ? bertpp::Tokenizer::load(kUnitData + "vocab_dir")
                            : bertpp::Tokenizer::from_vocab_file(kUnitData + "vocab.txt", o);
  return cache.emplace(setting, std::move(t)).first->second;
}

std::string from_hex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

template <typename T>
std::vector<std::pair<std::size_t, std::size_t>> pairs(const T& j) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (const auto& p : j)
    out.emplace_back(p[0].template get<std::size_t>(), p[1].template get<std::size_t>());
  return out;
}

void expect_row(const bertpp::Encoding& e, const nlohmann::json& row, const std::string& what) {
  EXPECT_EQ(e.ids, row["ids"].get<std::vector<std::int32_t>>()) << what;
  EXPECT_EQ(e.type_ids, row["type_ids"].get<std::vector<std::int32_t>>()) << what;
  EXPECT_EQ(e.attention_mask, row["attention_mask"].get<std::vector<std::int32_t>>()) << what;
  EXPECT_EQ(e.special_tokens_mask, row["special_tokens_mask"].get<std::vector<std::int32_t>>())
      << what;
  EXPECT_EQ(e.tokens, row["tokens"].get<std::vector<std::string>>()) << what;
  EXPECT_EQ(e.offsets, pairs(row["offsets"])) << what;
  EXPECT_EQ(e.byte_offsets, pairs(row["byte_offsets"])) << what;
  EXPECT_EQ(e.word_ids, row["word_ids"].get<std::vector<std::int32_t>>()) << what;
  EXPECT_EQ(e.sequence_ids, row["sequence_ids"].get<std::vector<std::int32_t>>()) << what;
}

bertpp::TruncationStrategy strategy(const std::string& s) {
  if (s == "longest_first") return bertpp::TruncationStrategy::longest_first;
  if (s == "only_first") return bertpp::TruncationStrategy::only_first;
  if (s == "only_second") return bertpp::TruncationStrategy::only_second;
  return bertpp::TruncationStrategy::do_not_truncate;
}

TEST(TokenizerHf, Encodings) {
  int n = 0;
  for (const auto& c : expected()["cases"]) {
    const auto& tok = tokenizer(c["setting"].get<std::string>());
    const std::string text =
        c.contains("text_hex") ? from_hex(c["text_hex"]) : c["text"].get<std::string>();
    bertpp::EncodeOptions o;
    if (c.contains("truncation")) {
      o.truncation = strategy(c["truncation"]);
      o.max_length = c["max_length"];
      o.stride = c["stride"];
      o.truncation_side = c["truncation_side"] == "left" ? bertpp::Side::left : bertpp::Side::right;
      o.return_overflowing_tokens = true;
    }
    const bertpp::Encoding e = c.contains("pair")
                                   ? tok.encode(text, c["pair"].get<std::string>(), o)
                                   : tok.encode(text, o);
    const auto& rows = c["rows"];
    const std::string what = c["setting"].get<std::string>() + ": " + c["text"].get<std::string>() +
                             (c.contains("pair") ? " | " + c["pair"].get<std::string>() : "");
    ASSERT_EQ(1 + e.overflowing.size(), rows.size()) << what;
    if (c.contains("text_hex")) {
      // Invalid UTF-8: ids equal HF's on the text decoded with errors="replace"; offsets are
      // in code points of that decoded text, so compare them too (byte offsets differ).
      const bertpp::Encoding d = tok.encode(c["text"].get<std::string>(), o);
      EXPECT_EQ(e.ids, d.ids) << what;
      EXPECT_EQ(e.offsets, d.offsets) << what;
      EXPECT_EQ(e.ids, rows[0]["ids"].get<std::vector<std::int32_t>>()) << what;
      EXPECT_EQ(e.offsets, pairs(rows[0]["offsets"])) << what;
    } else {
      expect_row(e, rows[0], what);
      for (std::size_t i = 0; i < e.overflowing.size(); ++i)
        expect_row(e.overflowing[i], rows[i + 1], what + " overflow " + std::to_string(i));
    }
    ++n;
  }
  EXPECT_GT(n, 100);
}

TEST(TokenizerHf, PaddingBatches) {
  const auto& tok = tokenizer("uncased");
  for (const auto& c : expected()["padding"]) {
    bertpp::EncodeOptions o;
    o.padding = c["padding"] == "longest" ? bertpp::Padding::longest : bertpp::Padding::max_length;
    o.max_length = c["max_length"];
    o.pad_to_multiple_of = c["pad_to_multiple_of"];
    o.padding_side = c["padding_side"] == "left" ? bertpp::Side::left : bertpp::Side::right;
    if (c["truncation"].get<bool>()) o.truncation = bertpp::TruncationStrategy::longest_first;
    for (int threads : {1, 3}) {
      const auto es = tok.encode_batch(c["texts"].get<std::vector<std::string>>(), o, threads);
      ASSERT_EQ(es.size(), c["rows"].size());
      for (std::size_t i = 0; i < es.size(); ++i)
        expect_row(es[i], c["rows"][i], c.dump().substr(0, 80));
    }
  }
}

TEST(TokenizerHf, Decode) {
  const auto& tok = tokenizer("uncased");
  for (const auto& c : expected()["decode"])
    EXPECT_EQ(tok.decode(c["ids"].get<std::vector<std::int32_t>>(), c["skip_special_tokens"],
                         c["clean_up"]),
              c["text"].get<std::string>());
}

TEST(TokenizerHf, NormalizerStage) {
  for (const auto& c : expected()["stages"]["normalizer"]) {
    const auto& jo = c["options"];
    bertpp::NormalizerOptions o;
    o.clean_text = jo["clean_text"];
    o.handle_chinese_chars = jo["handle_chinese_chars"];
    o.lowercase = jo["lowercase"];
    if (!jo["strip_accents"].is_null()) o.strip_accents = jo["strip_accents"].get<bool>();
    EXPECT_EQ(bertpp::BertNormalizer(o).normalize_str(c["text"].get<std::string>()),
              c["normalized"].get<std::string>())
        << jo.dump();
  }
}

TEST(TokenizerHf, PreTokenizerStage) {
  for (const auto& c : expected()["stages"]["pre_tokenizer"])
    EXPECT_EQ(bertpp::BertPreTokenizer().pre_tokenize_str(c["text"].get<std::string>()),
              c["words"].get<std::vector<std::string>>());
}

TEST(TokenizerHf, WordPieceStage) {
  const auto& tok = tokenizer("cased");
  std::vector<std::string> vocab;
  for (std::size_t i = 0; i < tok.vocab_size(); ++i)
    vocab.push_back(tok.id_to_token(static_cast<std::int32_t>(i)));
  const bertpp::WordPiece wp(vocab, "[UNK]", "##", 100);
  for (const auto& c : expected()["stages"]["wordpiece"]) {
    nlohmann::json got = nlohmann::json::array();
    const std::string w = c["word"];
    wp.tokenize_word(w, [&](std::int32_t id, std::size_t b, std::size_t e) {
      got.push_back({vocab[static_cast<std::size_t>(id)], id, {b, e}});
    });
    EXPECT_EQ(got, c["tokens"]) << w;
  }
}

}  // namespace
