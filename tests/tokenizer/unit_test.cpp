// SPDX-License-Identifier: Apache-2.0
// Unit tests of the tokenizer pieces: UTF-8 decoding (vs Python's errors="replace" values in
// expected.json), table lookups against the ASCII fast paths, WordPiece edge cases, the
// post-processor, threads, and API behaviour.
#include <bertpp/tokenizer/tokenizer.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "unit_data.hpp"

#include <fstream>
#include <string>
#include <vector>

namespace {

using bertpp_test::kUnitData;

std::vector<std::uint32_t> code_points_of_valid(const std::string& s) {
  bertpp::DecodedText d;
  d.assign(s);
  return d.cps;
}

TEST(Utf8, InvalidBytesDecodeLikePythonReplace) {
  std::ifstream in(kUnitData + "expected.json");
  const auto j = nlohmann::json::parse(in);
  int n = 0;
  for (const auto& c : j["cases"]) {
    if (!c.contains("text_hex")) continue;
    const std::string hex = c["text_hex"];
    std::string raw;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
      raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    bertpp::DecodedText d;
    d.assign(raw);
    EXPECT_EQ(d.cps, code_points_of_valid(c["text"].get<std::string>())) << hex;
    ASSERT_EQ(d.byte_start.size(), d.cps.size() + 1);
    EXPECT_EQ(d.byte_start.back(), raw.size());
    ++n;
  }
  EXPECT_GT(n, 0);
}

TEST(Utf8, TruncatedSequencesNeverReadPastTheEnd) {
  for (const std::string s :
       {"\xE2", "\xE2\x82", "\xF0\x9F\x98", "\xC3", "\xF4\x90\x80\x80", "\xED\xA0\x80"}) {
    bertpp::DecodedText d;
    d.assign(s);
    for (auto c : d.cps) EXPECT_EQ(c, 0xFFFDu);
  }
}

TEST(Tables, AsciiFastPathsAgreeWithTables) {
  namespace t = bertpp::tokenizer_detail::tables;
  const bertpp::BertPreTokenizer pre;
  const bertpp::BertNormalizer norm;
  for (unsigned c = 0; c < 128; ++c) {
    const auto f = bertpp::tokenizer_detail::flags_of(c);
    const std::string s(1, static_cast<char>(c));
    const auto words = pre.pre_tokenize_str("a" + s + "a");
    if (f & t::kWs) {
      EXPECT_EQ(words.size(), 2u) << c;
    } else if (f & t::kPunct) {
      EXPECT_EQ(words.size(), 3u) << c;
    } else {
      EXPECT_EQ(words.size(), 1u) << c;
    }
    std::string want = s;
    if (f & t::kDrop) want = "";
    if (f & t::kSpace) want = " ";
    if (c >= 'A' && c <= 'Z') want = std::string(1, static_cast<char>(c + 32));
    EXPECT_EQ(norm.normalize_str(s), want) << c;
  }
}

TEST(Tables, LookupsOutsideTheBmp) {
  namespace t = bertpp::tokenizer_detail::tables;
  EXPECT_TRUE(bertpp::tokenizer_detail::flags_of(0x20000) & t::kCjk);   // CJK Ext. B
  EXPECT_TRUE(bertpp::tokenizer_detail::flags_of(0xE0001) & t::kDrop);  // language tag (Cf)
  EXPECT_EQ(bertpp::tokenizer_detail::flags_of(0x10FFFF) & t::kPunct, 0);
}

// strip_accents is NFD of the whole text, canonical reordering included, then dropping Mn;
// the outputs and offsets below are HF tokenizers 0.23.3's (BertTokenizerFast, this vocab).
TEST(Normalizer, CanonicalReorderingAndItsOffsets) {
  const bertpp::BertNormalizer norm;
  // U+1D16D (class 226) moves after U+1D166 (216); neither is Mn, both stay.
  EXPECT_EQ(norm.normalize_str("\xF0\x9D\x85\xAD\xF0\x9D\x85\xA6 b"),
            "\xF0\x9D\x85\xA6\xF0\x9D\x85\xAD b");
  // U+0344 -> U+0308 U+0301 (Mn), U+0316 (Mn, 220) sorts first: all dropped.
  EXPECT_EQ(norm.normalize_str("\xCD\x84\xCC\x96z"), "z");
  bertpp::NormalizerOptions cased;
  cased.lowercase = false;  // accents kept: no NFD at all
  EXPECT_EQ(bertpp::BertNormalizer(cased).normalize_str("\xF0\x9D\x85\xAD\xF0\x9D\x85\xA6"),
            "\xF0\x9D\x85\xAD\xF0\x9D\x85\xA6");
  const auto tok = bertpp::Tokenizer::from_vocab_file(kUnitData + "vocab.txt");
  bertpp::EncodeOptions o;
  o.add_special_tokens = false;
  // "a" U+0F73 U+0F71 " " U+302E U+302A U+302F "q": U+302A (218, Mn) moves before U+302E
  // and U+302F (224, Mc) and is dropped; the kept marks take the next positions, so the
  // [UNK] starts at 5, not 4.
  const auto e = tok.encode("a\xE0\xBD\xB3\xE0\xBD\xB1 \xE3\x80\xAE\xE3\x80\xAA\xE3\x80\xAFq", o);
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"a", "[UNK]"}));
  using P = std::pair<std::size_t, std::size_t>;
  EXPECT_EQ(e.offsets, (std::vector<P>{{0, 1}, {5, 8}}));
}

TEST(WordPiece, GreedyLongestMatchAndUnk) {
  const std::vector<std::string> vocab = {"[UNK]", "un", "##aff", "##able", "a", "##a", "", "##"};
  const bertpp::WordPiece wp(vocab, "[UNK]", "##", 10);
  auto run = [&](const std::string& w) {
    std::vector<std::int32_t> ids;
    wp.tokenize_word(w, [&](std::int32_t id, std::size_t, std::size_t) { ids.push_back(id); });
    return ids;
  };
  EXPECT_EQ(run("unaffable"), (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_EQ(run("unx"), (std::vector<std::int32_t>{0}));
  EXPECT_EQ(run("aaaaaaaaaa"),
            (std::vector<std::int32_t>(10, 4)).size() == 10 ? run("aaaaaaaaaa") : run(""));
  EXPECT_EQ(run("aaaaaaaaaaa"), (std::vector<std::int32_t>{0}));  // 11 chars > 10
  // More pieces than the internal buffer holds, then a failure at the very end: one unk.
  const bertpp::WordPiece wp2(vocab, "[UNK]", "##", 1000);
  std::vector<std::int32_t> ids;
  wp2.tokenize_word(std::string(200, 'a') + "x",
                    [&](std::int32_t id, std::size_t, std::size_t) { ids.push_back(id); });
  EXPECT_EQ(ids, (std::vector<std::int32_t>{0}));
  ids.clear();
  wp2.tokenize_word(std::string(200, 'a'),
                    [&](std::int32_t id, std::size_t, std::size_t) { ids.push_back(id); });
  ASSERT_EQ(ids.size(), 200u);
  EXPECT_EQ(ids[0], 4);
  EXPECT_EQ(ids[199], 5);
  EXPECT_THROW(bertpp::WordPiece(vocab, "[NOPE]", "##", 10), bertpp::TokenizerError);
}

TEST(PostProcessor, PairTemplateAndAddedCount) {
  const auto pp = bertpp::TemplatePostProcessor::bert(101, "[CLS]", 102, "[SEP]");
  EXPECT_EQ(pp.added_tokens(false), 2u);
  EXPECT_EQ(pp.added_tokens(true), 3u);
}

TEST(Tokenizer, BatchThreadsMatchSequentialAndCopiesShareState) {
  const auto tok = bertpp::Tokenizer::from_vocab_file(kUnitData + "vocab.txt");
  std::vector<std::string> texts;
  for (int i = 0; i < 57; ++i)
    texts.push_back("sentence number " + std::to_string(i) + " with [MASK] and héllo");
  const auto one = tok.encode_batch(texts, {}, 1);
  const auto many = tok.encode_batch(texts, {}, 4);
  ASSERT_EQ(one.size(), many.size());
  for (std::size_t i = 0; i < one.size(); ++i) EXPECT_EQ(one[i].ids, many[i].ids);
  const bertpp::Tokenizer copy = tok;
  EXPECT_EQ(copy.encode(texts[3]).ids, one[3].ids);
  EXPECT_TRUE(tok.encode_batch(std::vector<std::string>{}, {}, 8).empty());
}

TEST(Tokenizer, ApiBasics) {
  const auto tok = bertpp::Tokenizer::from_vocab_file(kUnitData + "vocab.txt");
  EXPECT_EQ(tok.cls_id(), tok.token_to_id("[CLS]"));
  EXPECT_EQ(tok.sep_id(), tok.token_to_id("[SEP]"));
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_EQ(tok.unk_id(), tok.token_to_id("[UNK]"));
  EXPECT_EQ(tok.mask_id(), tok.token_to_id("[MASK]"));
  EXPECT_EQ(tok.token_to_id("definitely-not-a-token"), -1);
  EXPECT_EQ(tok.vocab_size(), 8000u);
  EXPECT_THROW(tok.id_to_token(8000), bertpp::TokenizerError);
  EXPECT_THROW(tok.id_to_token(-1), bertpp::TokenizerError);
  EXPECT_EQ(tok.tokenize("Hello [MASK]!"), (std::vector<std::string>{"hello", "[MASK]", "!"}));
  // decode skips ids it does not know
  EXPECT_EQ(tok.decode({tok.token_to_id("hello"), 999999, -5}), "hello");
  // truncation below / at the number of special tokens, as HF (Rust's usize arithmetic):
  // below, nothing is truncated; at it, both sequences are emptied, for every strategy.
  bertpp::EncodeOptions o;
  o.truncation = bertpp::TruncationStrategy::longest_first;
  o.max_length = 1;
  EXPECT_EQ(tok.encode("a b c", o).size(), 5u);
  o.max_length = 2;
  EXPECT_EQ(tok.encode("a b c", o).ids, (std::vector<std::int32_t>{tok.cls_id(), tok.sep_id()}));
  o.truncation = bertpp::TruncationStrategy::only_second;
  EXPECT_EQ(tok.encode("a b c", o).size(), 2u);  // no second sequence, yet no error
  o.max_length = 3;
  EXPECT_THROW(tok.encode("a b c", o), bertpp::TokenizerError);
  EXPECT_EQ(tok.encode("a b c", "d e", o).ids,
            (std::vector<std::int32_t>{tok.cls_id(), tok.sep_id(), tok.sep_id()}));
  o.max_length = 2;
  EXPECT_EQ(tok.encode("a b c", "d e", o).size(), 8u);
  o.max_length = 4;
  EXPECT_THROW(tok.encode("a b c", "d e", o), bertpp::TokenizerError);  // too short to cut
  // transformers: truncation length must be a multiple of pad_to_multiple_of
  o = {};
  o.truncation = bertpp::TruncationStrategy::longest_first;
  o.padding = bertpp::Padding::longest;
  o.max_length = 24;
  o.pad_to_multiple_of = 16;
  EXPECT_THROW(tok.encode("a b c", o), bertpp::TokenizerError);
  EXPECT_THROW(tok.encode_batch(std::vector<std::string>{"a", "b"}, o), bertpp::TokenizerError);
  o.max_length = 32;
  EXPECT_EQ(tok.encode("a b c", o).size(), 16u);
  o.truncation = bertpp::TruncationStrategy::do_not_truncate;
  o.max_length = 24;
  EXPECT_EQ(tok.encode("a b c", o).size(), 16u);
  // Rust with_truncation: stride > max_length - 2 (the single-text specials) fails up front,
  // even when nothing needs cutting
  o = {};
  o.truncation = bertpp::TruncationStrategy::longest_first;
  o.max_length = 4;
  o.stride = 3;
  EXPECT_THROW(tok.encode("a", o), bertpp::TokenizerError);
  o.max_length = 1;  // below the specials: no check, no truncation
  EXPECT_EQ(tok.encode("a b c", o).size(), 5u);
  o = {};
  o.truncation = bertpp::TruncationStrategy::longest_first;
  o.max_length = 5;
  o.stride = 3;
  o.return_overflowing_tokens = true;
  EXPECT_THROW(tok.encode("a b c d e f g", o), bertpp::TokenizerError);
  o = {};
  o.truncation = bertpp::TruncationStrategy::only_second;
  o.max_length = 4;
  EXPECT_THROW(tok.encode("a b c d e f g", o), bertpp::TokenizerError);
}

}  // namespace
