// SPDX-License-Identifier: Apache-2.0
// Loading: tokenizer.json and vocab.txt folders, and every error path names its file/field.
#include <bertpp/tokenizer/tokenizer.hpp>

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "unit_data.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

using bertpp_test::kUnitData;

std::string temp_path(const std::string& name) {
  return bertpp_test::temp_path("bertpp_loading_", name);
}

std::string write(const std::string& name, const std::string& content) {
  return bertpp_test::write_temp("bertpp_loading_", name, content);
}

using bertpp_test::expect_error;

TEST(Loading, TokenizerJsonAndVocabFolderAgree) {
  const auto a = bertpp::Tokenizer::load(kUnitData + "json_dir");
  const auto b = bertpp::Tokenizer::from_vocab_file(kUnitData + "vocab.txt");
  const std::string text = "The quick brown fox, unaffable! [MASK] naïve";
  EXPECT_EQ(a.encode(text).ids, b.encode(text).ids);
  EXPECT_EQ(b.options().model_max_length, 512u);
  // tokenizer_config.json says 1e30 (no maximum): truncation without max_length keeps all.
  EXPECT_EQ(a.options().model_max_length, bertpp::TokenizerOptions::no_max_length);
  bertpp::EncodeOptions o;
  o.truncation = bertpp::TruncationStrategy::longest_first;
  o.padding = bertpp::Padding::max_length;
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  EXPECT_EQ(a.encode(long_text, o).size(), 602u);
  EXPECT_EQ(b.encode(long_text, o).size(), 512u);
  EXPECT_EQ(a.mask_id(), b.mask_id());
  EXPECT_EQ(a.token_to_id("<ent>"), 8000);  // added beyond the vocabulary
}

TEST(Loading, VocabFolderReadsConfig) {
  const auto t = bertpp::Tokenizer::load(kUnitData + "vocab_dir");
  EXPECT_FALSE(t.options().do_lower_case);
  EXPECT_EQ(t.options().model_max_length, 64u);
}

TEST(Loading, MissingFiles) {
  expect_error<bertpp::IoError>([] { bertpp::Tokenizer::from_vocab_file(temp_path("nope.txt")); },
                                "nope.txt");
  expect_error<bertpp::IoError>(
      [] { bertpp::Tokenizer::from_tokenizer_json(temp_path("nope.json")); }, "nope.json");
  expect_error<bertpp::IoError>([] { bertpp::Tokenizer::load(temp_path("no_dir")); }, "vocab.txt");
}

TEST(Loading, MalformedJson) {
  const auto p = write("bad.json", "{\"model\": {\"type\": \"WordPiece\", ");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(p); }, "bad.json");
  const auto q = write("notobj.json", "[1, 2]");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(q); },
                                    "notobj.json");
  const auto r =
      write("wrongtype.json",
            R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}, "unk_token": 5}})");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(r); },
                                    "unk_token");
  const auto s = write("badid.json", R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": -3}}})");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(s); }, "[UNK]");
  const auto u = write("unigram.json", R"({"model": {"type": "Unigram", "vocab": []}})");
  expect_error<bertpp::TokenizerError>([&] { bertpp::Tokenizer::from_tokenizer_json(u); },
                                       "vocabulary is empty");
  const auto v = write("tmpl.json", R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}},
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[X]", "type_id": 0}}],
                       "pair": [], "special_tokens": {}}})");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(v); }, "[X]");
}

TEST(Loading, MissingSpecialTokenInVocab) {
  const auto p = write("nomask.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n");
  expect_error<bertpp::TokenizerError>([&] { bertpp::Tokenizer::from_vocab_file(p); },
                                       "mask_token '[MASK]'");
  const auto q = write("nounk.json", R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})");
  expect_error<bertpp::TokenizerError>([&] { bertpp::Tokenizer::from_tokenizer_json(q); }, "[UNK]");
}

TEST(Loading, VocabTxtLinesAndInvalidUtf8) {
  // CRLF, CR and LF all end a line (Python universal newlines); no trailing empty token.
  const auto p = write("crlf.txt", "[PAD]\r\n[UNK]\r[CLS]\n[SEP]\n[MASK]\nhello\nworld");
  const auto t = bertpp::Tokenizer::from_vocab_file(p);
  EXPECT_EQ(t.vocab_size(), 7u);
  EXPECT_EQ(t.token_to_id("world"), 6);
  EXPECT_EQ(t.encode("hello world").ids, (std::vector<std::int32_t>{2, 5, 6, 3}));
  const auto q = write("badutf8.txt", "[PAD]\n[UNK]\nab\xff\n");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_vocab_file(q); }, "line 3");
  const auto r = write("empty.txt", "");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_vocab_file(r); }, "empty");
}

TEST(Loading, PaddingWithoutPadToken) {
  const auto p =
      write("nopad.json", R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1}},
                                          "pre_tokenizer": {"type": "BertPreTokenizer"}})");
  const auto t = bertpp::Tokenizer::from_tokenizer_json(p);
  EXPECT_EQ(t.encode("a a").ids, (std::vector<std::int32_t>{1, 1}));  // no post-processor
  bertpp::EncodeOptions o;
  o.padding = bertpp::Padding::max_length;
  o.max_length = 8;
  expect_error<bertpp::TokenizerError>([&] { t.encode("a", o); }, "[PAD]");
}

TEST(Loading, RobertaFilesAndTheirErrors) {
  const std::string dir =
      std::string(BERTPP_SOURCE_DIR) + "/tests/tokenizer/data/vocab/roberta-base";
  const auto t = bertpp::Tokenizer::load(dir);
  // HF's RobertaTokenizer on this folder: without a config <mask> is not lstrip, so the
  // space before it is a token of its own (the hub's tokenizer.json gives 0 34603 3645 19
  // 50264 4 2).
  EXPECT_EQ(t.encode("Test sentence with <mask>.").ids,
            (std::vector<std::int32_t>{0, 34603, 3645, 19, 1437, 50264, 4, 2}));
  EXPECT_EQ(t.mask_id(), 50264);
  EXPECT_EQ(t.pad_id(), 1);
  EXPECT_EQ(t.decode(t.encode("Hello , world !").ids), "Hello , world !");
  // A 200 KB word (no spaces) is merged in n log n, not n^2.
  EXPECT_GT(t.encode(std::string(200000, 'a')).size(), 2u);

  const std::string bad = ::testing::TempDir() + "bertpp_loading_roberta_bad/";
  ASSERT_EQ(std::system(("mkdir -p '" + bad + "'").c_str()), 0);
  std::remove((bad + "tokenizer_config.json").c_str());
  std::ofstream(bad + "vocab.json") << R"({"a": 0, "b": 1, "ab": 2})";
  std::ofstream(bad + "merges.txt") << "#version: 0.2\na b\na  b\n";
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::load(bad); }, "merges.txt': line 3");
  std::ofstream(bad + "merges.txt") << "a c\n";
  expect_error<bertpp::TokenizerError>([&] { bertpp::Tokenizer::load(bad); }, "merge 0");
  std::ofstream(bad + "merges.txt") << "a b\n";
  std::ofstream(bad + "tokenizer_config.json") << R"({"tokenizer_class": "GPT2Tokenizer"})";
  expect_error<bertpp::TokenizerError>([&] { bertpp::Tokenizer::load(bad); }, "GPT2Tokenizer");

  const auto drop = write("dropout.json", R"({"model": {"type": "BPE", "dropout": 0.1,
      "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}})");
  expect_error<bertpp::TokenizerError>([&] { bertpp::Tokenizer::from_tokenizer_json(drop); },
                                       "dropout");
  const auto mix = write("mix.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
      "pre_tokenizer": {"type": "BertPreTokenizer"}})");
  expect_error<bertpp::TokenizerError>([&] { bertpp::Tokenizer::from_tokenizer_json(mix); },
                                       "ByteLevel");
  const auto merges = write("merges.json", R"({"model": {"type": "BPE", "vocab": {"a": 0},
      "merges": [7]}, "pre_tokenizer": {"type": "ByteLevel"}})");
  expect_error<bertpp::FormatError>([&] { bertpp::Tokenizer::from_tokenizer_json(merges); },
                                    "merges[0]");
}

TEST(Loading, BpeWordCachesDoNotMixModels) {
  // Six byte-level BPE models differing only in their merges, used in turn on one thread:
  // each must keep giving its own tokens (the per-thread word caches hold four models).
  const std::string vocab = R"({"a": 0, "b": 1, "ab": 2, "\u0120": 3})";
  std::vector<bertpp::Tokenizer> toks;
  for (int k = 0; k < 6; ++k) {
    const std::string merges = k % 2 ? R"([["a", "b"]])" : "[]";
    toks.push_back(bertpp::Tokenizer::from_tokenizer_json(
        write("bpe" + std::to_string(k) + ".json",
              R"({"model": {"type": "BPE", "vocab": )" + vocab + R"(, "merges": )" + merges +
                  R"(}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}})")));
  }
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 6; ++k) {
      EXPECT_EQ(toks[static_cast<std::size_t>(k)].encode("ab").ids,
                (k % 2 ? std::vector<std::int32_t>{2} : std::vector<std::int32_t>{0, 1}))
          << "model " << k << " round " << round;
    }
  }
}

}  // namespace
