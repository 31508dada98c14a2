// SPDX-License-Identifier: Apache-2.0
// Loading: tokenizer.json and vocab.txt folders, and every error path names its file/field.
#include <bertpp/tokenizer/tokenizer.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

const std::string kData = std::string(BERTPP_SOURCE_DIR) + "/tests/tokenizer/data/unit/";

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "bertpp_loading_" + name;
}

std::string write(const std::string& name, const std::string& content) {
  const std::string p = temp_path(name);
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

template <typename E, typename F>
void expect_error(F&& f, const std::string& must_contain) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << must_contain;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(must_contain), std::string::npos) << e.what();
  }
}

TEST(Loading, TokenizerJsonAndVocabFolderAgree) {
  const auto a = bertpp::Tokenizer::load(kData + "json_dir");
  const auto b = bertpp::Tokenizer::from_vocab_file(kData + "vocab.txt");
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
  const auto t = bertpp::Tokenizer::load(kData + "vocab_dir");
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
  const auto u = write("bpe.json", R"({"model": {"type": "BPE", "vocab": {}}})");
  expect_error<bertpp::TokenizerError>([&] { bertpp::Tokenizer::from_tokenizer_json(u); }, "BPE");
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

}  // namespace
