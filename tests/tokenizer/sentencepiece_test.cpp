// SPDX-License-Identifier: Apache-2.0
// SentencePiece stages: the Unigram model, the .model protobuf reader, the Precompiled
// charsmap, Metaspace, loading folders, and every bad input they reject. Parity with HF on
// the whole corpus is tokenizer_parity_test (settings albert, albert_json, sp_unigram,
// sp_bytefallback, xlmr, e5); here each failure path and the documented examples.
#include <gtest/gtest.h>
#include <bertpp/tokenizer/tokenizer.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

using bertpp_test::expect_error;
using bertpp_test::write_temp;

const std::string kAlbert =
    std::string(BERTPP_SOURCE_DIR) + "/tests/tokenizer/data/vocab/albert-base-v2/spiece.model";
const std::string kUnigramFixture = std::string(BERTPP_SOURCE_DIR) +
                                    "/tests/tokenizer/data/vocab/sentencepiece-fixtures/"
                                    "test_sentencepiece.model";

// Protobuf wire-format builders for hand-made (mostly broken) models.
std::string varint(std::uint64_t v) {
  std::string s;
  do {
    unsigned char b = v & 0x7F;
    v >>= 7;
    if (v) b |= 0x80;
    s.push_back(static_cast<char>(b));
  } while (v);
  return s;
}
std::string key(unsigned field, unsigned wt) { return varint((field << 3) | wt); }
std::string len_field(unsigned field, const std::string& body) {
  return key(field, 2) + varint(body.size()) + body;
}
std::string piece(const std::string& p, float score, int type = 1) {
  std::string f(4, '\0');
  std::memcpy(&f[0], &score, 4);
  return len_field(
      1, len_field(1, p) + key(2, 5) + f + key(3, 0) + varint(static_cast<unsigned>(type)));
}
std::string read(const std::string& path) { return bertpp::tokenizer_detail::read_file(path); }

std::string folder_with(const std::string& name, const std::string& file, const std::string& bytes,
                        const std::string& config = "") {
  const std::string dir = ::testing::TempDir() + "bertpp_sp_" + name;
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir + "/tokenizer_config.json");
  write_temp("bertpp_sp_" + name + "/", file, bytes);
  if (!config.empty()) write_temp("bertpp_sp_" + name + "/", "tokenizer_config.json", config);
  return dir;
}

std::vector<std::string> tokens_of(const bertpp::Unigram& u, const std::string& w,
                                   const std::vector<std::string>& vocab) {
  std::vector<std::string> out;
  u.tokenize_word(w, [&](std::int32_t id, std::size_t b, std::size_t e) {
    out.push_back(vocab[static_cast<std::size_t>(id)] + "@" + std::to_string(b) + "-" +
                  std::to_string(e));
  });
  return out;
}

// The example of HF's Unigram::encode documentation (tokenizers/src/models/unigram/model.rs):
// "abcdacdxx" -> abcd, a, cd, and the fused unknown "xx".
TEST(Unigram, ViterbiAndFusedUnknownsAsHfDocuments) {
  const std::vector<std::string> v = {"<unk>", "a", "b", "c", "d", "cd", "ab", "abc", "abcd"};
  const bertpp::Unigram u(v, {0, 0, 0, 0, 0, 1, 2, 5, 10}, 0, false);
  EXPECT_EQ(tokens_of(u, "abcdacdxx", v),
            (std::vector<std::string>{"abcd@0-4", "a@4-5", "cd@5-7", "<unk>@7-9"}));
}

TEST(Unigram, ByteFallbackSplitsUnknownsIntoBytePieces) {
  std::vector<std::string> v = {"<unk>", "a"};
  std::vector<double> s = {0, -1};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    v.push_back(buf);
    s.push_back(-5);
  }
  const bertpp::Unigram u(v, s, 0, true);
  // U+00E9 is C3 A9: two byte pieces, both with the character's range.
  EXPECT_EQ(tokens_of(u, "a\xC3\xA9", v),
            (std::vector<std::string>{"a@0-1", "<0xC3>@1-3", "<0xA9>@1-3"}));
}

TEST(Unigram, BadVocabulariesAreRejected) {
  using bertpp::TokenizerError;
  using bertpp::Unigram;
  expect_error<TokenizerError>([] { Unigram({}, {}, -1, false, "m"); },
                               "m: the vocabulary is empty");
  expect_error<TokenizerError>([] { Unigram({"a"}, {0}, 1, false, "m"); }, "unk_id 1");
  expect_error<TokenizerError>(
      [] {
        Unigram({"a", ""}, {0, 0}, 0, false, "m");
      },
      "piece 1 is empty");
  expect_error<TokenizerError>(
      [] {
        Unigram({"a", "\xFF"}, {0, 0}, 0, false, "m");
      },
      "piece 1 is not valid UTF-8");
  expect_error<TokenizerError>(
      [] { Unigram({"a"}, {std::numeric_limits<double>::infinity()}, 0, false, "m"); },
      "not finite");
  const Unigram no_unk({"a"}, {0}, -1, false);
  expect_error<TokenizerError>([&] { no_unk.tokenize_word("ab", [](auto, auto, auto) {}); },
                               "no unk_id");
}

TEST(SentencePieceModel, ReadsTheFieldsOfARealModel) {
  const auto m = bertpp::tokenizer_detail::parse_sp_model(read(kAlbert), "albert");
  ASSERT_EQ(m.pieces.size(), 30000u);
  EXPECT_EQ(m.pieces[0].piece, "<pad>");
  EXPECT_EQ(m.pieces[0].type, 3);  // CONTROL
  EXPECT_EQ(m.pieces[1].type, 2);  // UNKNOWN
  EXPECT_EQ(m.model_type, 1);
  EXPECT_EQ(m.unk_id, 1);
  EXPECT_EQ(m.pad_id, 0);
  EXPECT_EQ(m.normalizer_name, "nmt_nfkc");
  EXPECT_TRUE(m.add_dummy_prefix);
  EXPECT_EQ(m.precompiled_charsmap.size(), 237539u);
}

TEST(SentencePieceModel, MalformedProtobufNamesTheFileAndTheProblem) {
  using bertpp::TokenizerError;
  using bertpp::tokenizer_detail::parse_sp_model;
  const std::string real = read(kAlbert);
  for (std::size_t cut : {std::size_t{1}, std::size_t{7}, real.size() / 2, real.size() - 1})
    expect_error<TokenizerError>([&] { parse_sp_model(real.substr(0, cut), "'x.model'"); },
                                 "'x.model': malformed SentencePiece model");
  expect_error<TokenizerError>([] { parse_sp_model("", "'e.model'"); }, "has no pieces");
  expect_error<TokenizerError>([] { parse_sp_model(std::string(12, '\xFF'), "m"); }, "varint");
  expect_error<TokenizerError>([] { parse_sp_model(key(1, 0) + varint(5), "m"); },
                               "ModelProto field 1 has wire type 0, expected 2");
  expect_error<TokenizerError>([] { parse_sp_model(len_field(1, key(1, 0) + varint(1)), "m"); },
                               "SentencePiece field 1 has wire type 0");
  expect_error<TokenizerError>([] { parse_sp_model(len_field(1, key(2, 0) + varint(1)), "m"); },
                               "SentencePiece field 2 has wire type 0, expected 5");
  expect_error<TokenizerError>([] { parse_sp_model(piece("a", 0, 9), "m"); }, "unknown type 9");
  expect_error<TokenizerError>([] { parse_sp_model(key(9, 3), "m"); }, "unsupported wire type 3");
  expect_error<TokenizerError>([] { parse_sp_model(key(1, 2) + varint(100) + "ab", "m"); },
                               "runs past the end");
  expect_error<TokenizerError>(
      [] { parse_sp_model(piece("a", 0) + len_field(2, key(40, 2) + varint(0)), "m"); },
      "TrainerSpec field 40 has wire type 2");
  // Unknown fields of every wire type are skipped.
  const auto m = parse_sp_model(piece("a", -1.5f) + key(7, 0) + varint(3) + key(8, 1) +
                                    std::string(8, 'x') + key(9, 5) + std::string(4, 'y'),
                                "m");
  ASSERT_EQ(m.pieces.size(), 1u);
  EXPECT_EQ(m.pieces[0].score, -1.5f);
}

std::string minimal_model(const std::string& normalizer_spec, int model_type = 1) {
  return piece("<unk>", 0, 2) + piece("<s>", 0, 3) + piece("</s>", 0, 3) +
         piece("\xE2\x96\x81", -1) + piece("a", -2) +
         len_field(2, key(3, 0) + varint(static_cast<unsigned>(model_type))) +
         (normalizer_spec.empty() ? "" : len_field(3, normalizer_spec));
}

TEST(SentencePieceModel, FolderErrorsNameTheFile) {
  using bertpp::Tokenizer;
  using bertpp::TokenizerError;
  const std::string bad_type = folder_with("type7", "spiece.model", minimal_model("", 7));
  expect_error<TokenizerError>([&] { Tokenizer::load(bad_type); },
                               "spiece.model': trainer_spec.model_type 7 is not a SentencePiece");
  const std::string trunc =
      folder_with("trunc", "sentencepiece.bpe.model", read(kAlbert).substr(0, 1000));
  expect_error<TokenizerError>([&] { Tokenizer::load(trunc); },
                               "sentencepiece.bpe.model': malformed");
  // Charsmap: trie size beyond the blob, not a multiple of 4, too short.
  for (const std::string& cm : {std::string("\x40\0\0\0abcd", 8), std::string("\x03\0\0\0abcd", 8),
                                std::string("\x01\0", 2)}) {
    const std::string d = folder_with("cm", "spiece.model", minimal_model(len_field(2, cm)));
    expect_error<TokenizerError>([&] { Tokenizer::load(d); }, "precompiled_charsmap");
  }
  // A trie whose root points outside the units: found when text is normalized.
  const std::string bad_root("\x04\0\0\0\x00\xFC\xFF\xFF", 8);
  const std::string d = folder_with("root", "spiece.model", minimal_model(len_field(2, bad_root)));
  const Tokenizer t = Tokenizer::load(d);
  expect_error<TokenizerError>([&] { t.encode("a"); }, "trie index");
  const std::string cls = folder_with("cls", "spiece.model", minimal_model(""),
                                      R"({"tokenizer_class": "T5Tokenizer"})");
  expect_error<TokenizerError>([&] { Tokenizer::load(cls); }, "tokenizer_class 'T5Tokenizer'");
}

TEST(SentencePieceModel, LoadPicksTheConverterByFileOrClass) {
  const std::string model = read(kUnigramFixture);
  // sentencepiece.bpe.model: XLM-R's fairseq ids (4 specials, pieces from id 3, <mask> last).
  const auto x = bertpp::Tokenizer::load(folder_with("x", "sentencepiece.bpe.model", model));
  EXPECT_EQ(x.vocab_size(), 1000u - 3u + 5u);
  EXPECT_EQ(x.cls_id(), 0);
  EXPECT_EQ(x.pad_id(), 1);
  EXPECT_EQ(x.sep_id(), 2);
  EXPECT_EQ(x.unk_id(), 3);
  EXPECT_EQ(x.mask_id(), 1001);
  // The same file named spiece.model: ALBERT's conversion (ids as in the file).
  const auto a = bertpp::Tokenizer::load(folder_with("a", "spiece.model", model));
  EXPECT_EQ(a.vocab_size(), 1000u + 4u);  // [CLS] [SEP] <pad> [MASK] are new ids
  EXPECT_EQ(a.cls_id(), 1000);
  // tokenizer_class decides over the file name.
  const auto c = bertpp::Tokenizer::load(
      folder_with("c", "spiece.model", model, R"({"tokenizer_class": "XLMRobertaTokenizerFast"})"));
  EXPECT_EQ(c.mask_id(), 1001);
}

TEST(SentencePieceModel, BpeWordAndCharModelsConvertAsUnigram) {
  // transformers 5's classes build Unigram over the pieces whatever model_type says (the
  // parity settings sp_bpe / sp_bpe_char check it against HF on the corpus).
  const auto u = bertpp::Tokenizer::load(
      folder_with("type1", "sentencepiece.bpe.model", minimal_model("", 1)));
  for (int type : {2, 3, 4}) {
    const auto t = bertpp::Tokenizer::load(folder_with(
        "type" + std::to_string(type), "sentencepiece.bpe.model", minimal_model("", type)));
    EXPECT_EQ(t.encode("a aa").ids, u.encode("a aa").ids) << type;
  }
  EXPECT_EQ(u.encode("a aa").ids, (std::vector<std::int32_t>{0, 4, 5, 4, 5, 5, 2}));
}

std::string unigram_json(const std::string& vocab, const std::string& rest) {
  return R"({"model": {"type": "Unigram", "unk_id": 0, "vocab": )" + vocab + "}" + rest + "}";
}

std::string sp_bpe_json(const std::string& merges, const std::string& rest) {
  return R"({"model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true,
    "byte_fallback": true, "vocab": {"<unk>": 0, "\u2581": 1, "a": 2, "b": 3, "\u2581a": 4},
    "merges": )" +
         merges + "}" + rest + "}";
}

TEST(SentencePieceJson, MetaspaceBpeSectionsAreChecked) {
  // The sections HF's SentencePiece BPE conversion writes (parity: sp_bpe_json,
  // sp_bpe_bytefallback); here the errors, each naming the file and the field.
  using bertpp::TokenizerError;
  auto load = [](const std::string& name, const std::string& text) {
    return bertpp::Tokenizer::from_tokenizer_json(write_temp("bertpp_spb_", name, text));
  };
  const std::string pre =
      R"(, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Metaspace",
         "replacement": "▁", "prepend_scheme": "always", "split": false}]})";
  const auto t = load("ok.json", sp_bpe_json(R"([["▁", "a"]])", pre));
  EXPECT_EQ(t.vocab_size(), 5u);
  expect_error<TokenizerError>([&] { load("m.json", sp_bpe_json(R"([["a", "x"]])", pre)); },
                               "merge 0 ('a' 'x') uses a token that is not in the vocabulary");
  expect_error<TokenizerError>(
      [&] {
        load("p.json", sp_bpe_json("[]", R"(, "pre_tokenizer": {"type": "BertPreTokenizer"})"));
      },
      "BPE goes with ByteLevel or Metaspace");
  expect_error<TokenizerError>(
      [&] {
        load("d1.json", sp_bpe_json("[]", pre + R"(, "decoder": {"type": "Sequence",
             "decoders": [{"type": "CTC"}]})"));
      },
      "decoder.decoders[0]: decoder type 'CTC' is not supported in a Sequence");
  expect_error<TokenizerError>(
      [&] {
        load("d2.json", sp_bpe_json("[]", pre + R"(, "decoder": {"type": "Sequence",
             "decoders": [{"type": "Strip", "content": "ab", "start": 1, "stop": 0}]})"));
      },
      "Strip content must be one character");
  expect_error<TokenizerError>(
      [&] {
        load("d3.json", sp_bpe_json("[]", pre + R"(, "decoder": {"type": "Sequence",
             "decoders": [{"type": "Replace", "pattern": {"Regex": "a+"}, "content": ""}]})"));
      },
      "a Replace decoder needs a non-empty String pattern");
  expect_error<TokenizerError>(
      [&] {
        load("n.json", sp_bpe_json("[]", pre + R"(, "normalizer": {"type": "Replace",
             "pattern": {"Regex": "\\A +| x+\\z"}, "content": ""})"));
      },
      "Replace regex '\\A +| x+\\z' is not supported");
}

TEST(SentencePieceJson, BadSectionsAreRejected) {
  using bertpp::FormatError;
  using bertpp::Tokenizer;
  using bertpp::TokenizerError;
  auto load = [](const std::string& name, const std::string& text) {
    return Tokenizer::from_tokenizer_json(write_temp("bertpp_spj_", name, text));
  };
  const std::string ok_vocab = R"([["<unk>", 0.0], ["a", -1.0]])";
  expect_error<FormatError>([&] { load("v1.json", unigram_json(R"([["a"]])", "")); },
                            "vocab[0]: expected [piece, score]");
  expect_error<FormatError>([&] { load("v2.json", unigram_json(R"([["a", "x"]])", "")); },
                            "[piece, score]");
  expect_error<FormatError>([&] { load("v3.json", unigram_json(R"({"a": 0})", "")); },
                            "expected an array of [piece, score]");
  expect_error<FormatError>(
      [&] {
        load("v4.json", R"({"model": {"type": "Unigram", "unk_id": 5, "vocab": [["a", 0]]}})");
      },
      "unk_id");
  expect_error<TokenizerError>(
      [&] {
        load("n1.json", unigram_json(ok_vocab, R"(, "normalizer": {"type": "Precompiled",
             "precompiled_charsmap": "!!!"})"));
      },
      "invalid base64");
  expect_error<TokenizerError>(
      [&] {
        load("n2.json", unigram_json(ok_vocab, R"(, "normalizer": {"type": "Precompiled",
             "precompiled_charsmap": "QUFB"})"));
      },
      "precompiled_charsmap is too short");
  expect_error<TokenizerError>(
      [&] {
        load("n3.json", unigram_json(ok_vocab, R"(, "normalizer": {"type": "Replace",
             "pattern": {"Regex": "[a-z]+"}, "content": ""})"));
      },
      "Replace regex '[a-z]+' is not supported");
  expect_error<TokenizerError>(
      [&] { load("n4.json", unigram_json(ok_vocab, R"(, "normalizer": {"type": "NFKC"})")); },
      "normalizer type 'NFKC' is not supported");
  expect_error<FormatError>(
      [&] {
        load("p1.json", unigram_json(ok_vocab, R"(, "pre_tokenizer": {"type": "Metaspace",
             "prepend_scheme": "sometimes"})"));
      },
      "prepend_scheme 'sometimes'");
  expect_error<FormatError>(
      [&] {
        load("p2.json", unigram_json(ok_vocab, R"(, "pre_tokenizer": {"type": "Metaspace",
             "replacement": "ab"})"));
      },
      "one character");
  expect_error<TokenizerError>(
      [&] {
        load("p3.json", unigram_json(ok_vocab, R"(, "pre_tokenizer": {"type": "ByteLevel"})"));
      },
      "Unigram with Metaspace");
}

}  // namespace
