// SPDX-License-Identifier: Apache-2.0
// Regression tests of the tokenizer defects of issue 12: a tokenizer.json that asks for a
// huge allocation, numeric fields of the wrong JSON type or range, options that would pad
// without bound, truncation that tokenized the whole text, and a folder with no files.
#include <bertpp/tokenizer/tokenizer.hpp>

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "unit_data.hpp"

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace {

using bertpp_test::kUnitData;

std::string write_bad(const std::string& name, const std::string& content) {
  return bertpp_test::write_temp("bertpp_hardening_", name, content);
}

using bertpp_test::expect_error;

std::string json_with(const std::string& model_extra, const std::string& post = "null",
                      const std::string& vocab = R"({"[UNK]": 0, "a": 1})") {
  return R"({"model": {"type": "WordPiece", "vocab": )" + vocab + model_extra +
         R"(}, "post_processor": )" + post + "}";
}

TEST(Hardening, HugeVocabIdIsRefusedBeforeAllocating) {
  // The 105-byte fuzzer find: an id of 1e8 made the loader allocate gigabytes.
  for (const char* id : {"100000000", "1e8", "99999999", "2", "-1", "4294967297"}) {
    const auto p = write_bad(
        "bomb.json", json_with("", "null", std::string(R"({"[UNK]": 0, "a": )") + id + "}"));
    expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(p); },
                                      "id of token 'a'");
  }
  // A gap that an added token fills is fine (ids stay below entries + added tokens).
  const auto gap =
      write_bad("gap.json", R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 2}},
      "added_tokens": [{"id": 1, "content": "x"}]})");
  EXPECT_EQ(bertpp::Tokenizer::from_tokenizer_json(gap).vocab_size(), 3u);
  const auto gap2 =
      write_bad("gap2.json", R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 3}},
      "added_tokens": [{"id": 1, "content": "x"}]})");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(gap2); },
                                    "id of token 'a'");
  // Dense ids are fine; an added token beyond vocabulary + added tokens is not.
  EXPECT_EQ(
      bertpp::Tokenizer::from_tokenizer_json(write_bad("ok.json", json_with(""))).vocab_size(), 2u);
  const auto q = write_bad("added.json", R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}},
      "added_tokens": [{"id": 100000000, "content": "x"}]})");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(q); },
                                    "added_tokens[0]");
  const auto r =
      write_bad("added_float.json", R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}},
      "added_tokens": [{"id": 1e300, "content": "x"}]})");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(r); }, "'id'");
}

TEST(Hardening, NumericFieldsAreIntegersInRange) {
  for (const char* v : {"1e300", "-1", "2.5", "\"7\""}) {
    const auto p =
        write_bad("chars.json", json_with(std::string(R"(, "max_input_chars_per_word": )") + v));
    expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(p); },
                                      "max_input_chars_per_word");
  }
  for (const char* v : {"1e300", "4294967297", "-2", "1.5"}) {
    const std::string post = std::string(R"({"type": "TemplateProcessing",
        "single": [{"Sequence": {"id": "A", "type_id": )") +
                             v + R"(}}],
        "pair": [], "special_tokens": {}})";
    const auto p = write_bad("type_id.json", json_with("", post));
    expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(p); },
                                      "type_id");
    const std::string sp = std::string(R"({"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "[X]", "type_id": 0}}], "pair": [],
        "special_tokens": {"[X]": {"id": "[X]", "ids": [)") +
                           v + R"(], "tokens": ["[X]"]}}})";
    expect_error<bertpp::FormatError>(
        [&] { bertpp::Tokenizer::from_tokenizer_json(write_bad("sp_id.json", json_with("", sp))); },
        "ids[0]");
    const std::string bp = std::string(R"({"type": "BertProcessing", "cls": ["[UNK]", )") + v +
                           R"(], "sep": ["[UNK]", 0]})";
    expect_error<bertpp::FormatError>(
        [&] { bertpp::Tokenizer::from_tokenizer_json(write_bad("bp_id.json", json_with("", bp))); },
        "cls[1]");
  }
  // A valid type id still works.
  const std::string post = R"({"type": "TemplateProcessing",
      "single": [{"Sequence": {"id": "A", "type_id": 7}}], "pair": [], "special_tokens": {}})";
  const auto t = bertpp::Tokenizer::from_tokenizer_json(write_bad("tt7.json", json_with("", post)));
  EXPECT_EQ(t.encode("a").type_ids, (std::vector<std::int32_t>{7}));
}

TEST(Hardening, PaddingIsBounded) {
  const auto t = bertpp::Tokenizer::from_vocab_file(kUnitData + "vocab.txt");
  bertpp::EncodeOptions o;
  o.padding = bertpp::Padding::longest;
  for (std::size_t m : {std::size_t{1} << 40, static_cast<std::size_t>(-1)}) {
    o.pad_to_multiple_of = m;
    expect_error<bertpp::TokenizerError>([&] { t.encode("hello", o); }, "pad_to_multiple_of");
    expect_error<bertpp::TokenizerError>(
        [&] {
          t.encode_batch(std::vector<std::string>{"a", "b c"}, o);
        },
        "pad_to_multiple_of");
  }
  o.pad_to_multiple_of = 0;
  o.padding = bertpp::Padding::max_length;
  o.max_length = std::size_t{1} << 28;
  expect_error<bertpp::TokenizerError>([&] { t.encode("hello", o); }, "max_length 268435456");
  // At the limit it pads.
  o.max_length = bertpp::EncodeOptions::max_padded_length;
  EXPECT_EQ(t.encode("hello", o).size(), bertpp::EncodeOptions::max_padded_length);
  o.max_length = 8;
  o.pad_to_multiple_of = bertpp::EncodeOptions::max_padded_length;
  EXPECT_EQ(t.encode("hello", o).size(), bertpp::EncodeOptions::max_padded_length);
}

// Truncation keeping the start stops tokenizing early; the result must be the one of a full
// tokenization (return_overflowing_tokens forces one and keeps the same first encoding).
TEST(Hardening, BoundedTruncationEqualsFullTruncation) {
  const auto t = bertpp::Tokenizer::from_vocab_file(kUnitData + "vocab.txt");
  // long_a spans several chunks (16 KB each); pairs of two long texts use medium ones
  // (the overflowing windows of a pair are all combinations of both windows).
  std::string long_a, mid_a, mid_b, short_b = "the fox";
  for (int i = 0; i < 4000; ++i) long_a += i % 7 ? "the quick brown fox " : "jumps,   over\t";
  for (int i = 0; i < 90; ++i) mid_a += i % 7 ? "the quick brown fox " : "jumps,   over\t";
  for (int i = 0; i < 80; ++i) mid_b += i % 5 ? "lazy dog " : "unaffable [MASK] ";
  auto same = [](const bertpp::Encoding& x, const bertpp::Encoding& y) {
    return x.ids == y.ids && x.offsets == y.offsets && x.byte_offsets == y.byte_offsets &&
           x.type_ids == y.type_ids && x.word_ids == y.word_ids;
  };
  const bertpp::TruncationStrategy strategies[] = {bertpp::TruncationStrategy::longest_first,
                                                   bertpp::TruncationStrategy::only_first,
                                                   bertpp::TruncationStrategy::only_second};
  int checked = 0;
  for (auto s : strategies)
    for (std::size_t ml : {3u, 4u, 5u, 8u, 9u, 64u, 513u, 900u, 20000u, 30001u})
      for (int pair = 0; pair < 4; ++pair) {
        bertpp::EncodeOptions o;
        o.truncation = s;
        o.max_length = ml;
        bertpp::EncodeOptions full = o;
        full.return_overflowing_tokens = true;
        auto run = [&](const bertpp::EncodeOptions& opt) {
          switch (pair) {
            case 0:
              return t.encode(long_a, opt);
            case 1:
              return t.encode(long_a, short_b, opt);
            case 2:
              return t.encode(mid_a, mid_b, opt);
            default:
              return t.encode(short_b, long_a, opt);
          }
        };
        std::string err_full, err_bounded;
        bertpp::Encoding ef, eb;
        try {
          ef = run(full);
        } catch (const bertpp::TokenizerError& e) {
          err_full = e.what();
        }
        try {
          eb = run(o);
        } catch (const bertpp::TokenizerError& e) {
          err_bounded = e.what();
        }
        EXPECT_EQ(err_full.empty(), err_bounded.empty()) << err_full << " | " << err_bounded;
        if (err_full.empty() && err_bounded.empty()) {
          EXPECT_TRUE(same(ef, eb)) << "max_length " << ml << " pair " << pair;
        }
        ++checked;
      }
  EXPECT_EQ(checked, 120);
}

TEST(Hardening, TruncatingTenMegabytesIsQuickAndExact) {
  const auto t = bertpp::Tokenizer::from_vocab_file(kUnitData + "vocab.txt");
  std::string big;
  while (big.size() < 10u << 20) big += "the quick brown fox jumps over the lazy dog. ";
  bertpp::EncodeOptions o;
  o.truncation = bertpp::TruncationStrategy::longest_first;
  o.max_length = 128;
  const auto e = t.encode(big, o);
  ASSERT_EQ(e.size(), 128u);
  EXPECT_EQ(e.ids, t.encode(big.substr(0, 2000), o).ids);
  const auto p = t.encode(big, big, o);
  EXPECT_EQ(p.size(), 128u);
  EXPECT_EQ(p.ids, t.encode(big.substr(0, 2000), big.substr(0, 2000), o).ids);
}

TEST(Hardening, FolderWithoutTokenizerFilesSaysWhatIsExpected) {
  const std::string dir = ::testing::TempDir();
  expect_error<bertpp::IoError>([&] { bertpp::Tokenizer::load(dir + "bertpp_no_such_dir"); },
                                "expected tokenizer.json, spiece.model");
}

}  // namespace
