// SPDX-License-Identifier: Apache-2.0
// TF Hub's BERT preprocessing (TfHubPreprocessor, TruncationStrategy::round_robin) against
// tensorflow_text itself: BertTokenizer(lower_case=True), RoundRobinTrimmer,
// combine_segments and pad_model_inputs on the parity corpus, singles and pairs at several
// seq_lengths (odd budgets included). The reference (tests/tokenizer/data/tfhub/) is written
// by tools/make_tfhub_preprocess_reference.py: a hash of every case's three rows, the rows
// of one case in 97 in full, and RoundRobinTrimmer's allocation for small lengths.
#include <bertpp/tokenizer/tfhub.hpp>
#include <bertpp/tokenizer/tokenizer.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "test_util.hpp"

namespace {

using bertpp_test::expect_error;
using nlohmann::json;

const std::string kData = std::string(BERTPP_SOURCE_DIR) + "/tests/tokenizer/data/";
const std::string kVocab =
    std::string(BERTPP_SOURCE_DIR) + "/tests/fixtures/vocab/bert-base-uncased/vocab.txt";

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f) << path;
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

const json& reference() {
  static const json j = json::parse(slurp(kData + "tfhub/tfhub_preprocess.json"));
  return j;
}

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> out;
    std::istringstream in(slurp(kData + "corpus.jsonl"));
    for (std::string l; std::getline(in, l);) out.push_back(json::parse(l).get<std::string>());
    return out;
  }();
  return lines;
}

// FNV-1a 64 of the three rows of case `r`, int32 little-endian, as the generator hashes them.
std::uint64_t row_hash(const bertpp::TfHubInputs& in, std::size_t r) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (const auto* v : {&in.input_word_ids, &in.input_mask, &in.input_type_ids})
    for (std::size_t i = r * in.seq_length; i < (r + 1) * in.seq_length; ++i) {
      const auto u = static_cast<std::uint32_t>((*v)[i]);
      for (int b = 0; b < 4; ++b) {
        h ^= (u >> (8 * b)) & 0xFFu;
        h *= 0x100000001B3ull;
      }
    }
  return h;
}

std::vector<std::int32_t> row(const std::vector<std::int32_t>& v, std::size_t r, std::size_t n) {
  return {v.begin() + static_cast<std::ptrdiff_t>(r * n),
          v.begin() + static_cast<std::ptrdiff_t>((r + 1) * n)};
}

TEST(TfHubPreprocess, MatchesTensorflowTextOnTheCorpus) {
  const json& ref = reference();
  const auto& lines = corpus();
  ASSERT_EQ(lines.size(), 28902u);
  const std::string bin = slurp(kData + "tfhub/tfhub_preprocess.bin");
  ASSERT_EQ(bin.size(), 8 * ref["cases"].get<std::size_t>());
  // Full rows by (i, j, seq_length).
  std::map<std::tuple<int, int, std::size_t>, const json*> full;
  for (const auto& f : ref["full"])
    full[{f["i"].get<int>(), f["j"].get<int>(), f["seq_length"].get<std::size_t>()}] = &f;
  const auto every = ref["pair_every"].get<std::size_t>();
  std::vector<std::string> as, bs;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<int> pi;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i)
    if (i % every == 0) {
      pairs.emplace_back(lines[i], lines[i + 1]);
      pi.push_back(static_cast<int>(i));
    }
  std::size_t at = 0, total = 0, bad_total = 0, full_checked = 0;
  for (const auto& g : ref["groups"]) {
    bertpp::TfHubPreprocessOptions o;
    o.seq_length = g["seq_length"].get<std::size_t>();
    const auto pre = bertpp::TfHubPreprocessor::from_vocab_file(kVocab, o);
    const bool pair = g["kind"] == "pair";
    const auto in = pair ? pre.preprocess(pairs) : pre.preprocess(lines);
    ASSERT_EQ(in.batch, g["cases"].get<std::size_t>());
    std::size_t bad = 0;
    for (std::size_t r = 0; r < in.batch; ++r, ++at) {
      std::uint64_t want = 0;
      for (int b = 7; b >= 0; --b)
        want = (want << 8) | static_cast<unsigned char>(bin[8 * at + static_cast<std::size_t>(b)]);
      const int i = pair ? pi[r] : static_cast<int>(r), j = pair ? i + 1 : -1;
      const auto it = full.find({i, j, o.seq_length});
      if (it != full.end()) {
        ++full_checked;
        EXPECT_EQ(row(in.input_word_ids, r, o.seq_length),
                  (*it->second)["input_word_ids"].get<std::vector<std::int32_t>>())
            << "line " << i << " / " << j << " seq_length " << o.seq_length;
        EXPECT_EQ(row(in.input_mask, r, o.seq_length),
                  (*it->second)["input_mask"].get<std::vector<std::int32_t>>());
        EXPECT_EQ(row(in.input_type_ids, r, o.seq_length),
                  (*it->second)["input_type_ids"].get<std::vector<std::int32_t>>());
      }
      if (row_hash(in, r) == want) continue;
      if (++bad <= 5) {
        std::cout << "  mismatch: " << g["kind"].get<std::string>() << " seq_length "
                  << o.seq_length << " line " << i << (pair ? " + next" : "") << ", bertpp ids:";
        for (auto id : row(in.input_word_ids, r, o.seq_length)) std::cout << ' ' << id;
        std::cout << "\n";
      }
    }
    if (!pair && o.seq_length == 128) {
      // HF's tokenizer with the same packing (round_robin, padding to seq_length) is not
      // TF Hub's preprocessing: why TfHubPreprocessor has its own basic tokenizer.
      const auto tok = bertpp::Tokenizer::from_vocab_file(kVocab);
      bertpp::EncodeOptions e;
      e.truncation = bertpp::TruncationStrategy::round_robin;
      e.padding = bertpp::Padding::max_length;
      e.max_length = o.seq_length;
      const auto hf = tok.encode_batch(lines, e);
      bertpp::TfHubInputs as_tf;
      as_tf.seq_length = o.seq_length;
      std::size_t hf_bad = 0;
      for (std::size_t r = 0; r < hf.size(); ++r) {
        as_tf.input_word_ids = hf[r].ids;
        as_tf.input_mask = hf[r].attention_mask;
        as_tf.input_type_ids = hf[r].type_ids;
        std::uint64_t want = 0;
        const std::size_t c = at - in.batch + r;
        for (int b = 7; b >= 0; --b)
          want = (want << 8) | static_cast<unsigned char>(bin[8 * c + static_cast<std::size_t>(b)]);
        hf_bad += row_hash(as_tf, 0) != want;
      }
      std::cout << "[ tensorflow_text ] HF's BertTokenizerFast packed the same way: " << hf_bad
                << " of " << hf.size() << " single cases differ\n";
      EXPECT_GT(hf_bad, 0u);
    }
    std::cout << "[ tensorflow_text ] " << g["kind"].get<std::string>() << " seq_length "
              << o.seq_length << ": " << bad << " of " << in.batch << " cases differ\n";
    total += in.batch;
    bad_total += bad;
  }
  EXPECT_EQ(at, ref["cases"].get<std::size_t>());
  EXPECT_EQ(full_checked, ref["full"].size());
  std::cout << "[ tensorflow_text ] " << bad_total << " of " << total << " cases differ\n";
  EXPECT_EQ(bad_total, 0u);
}

TEST(TfHubPreprocess, RoundRobinIsTensorflowTextsTrimmer) {
  const auto& rows = reference()["round_robin"]["rows"];
  ASSERT_GT(rows.size(), 2000u);
  // The same allocation through bertpp::Tokenizer: "a" is one token of the vocabulary.
  const auto tok = bertpp::Tokenizer::from_vocab_file(kVocab);
  auto words = [](std::size_t n, const char* w) {
    std::string s;
    for (std::size_t k = 0; k < n; ++k) s += std::string(w) + " ";
    return s;
  };
  std::size_t bad = 0;
  for (const auto& r : rows) {
    const auto budget = r[0].get<std::size_t>(), la = r[1].get<std::size_t>(),
               lb = r[2].get<std::size_t>(), ka = r[3].get<std::size_t>(),
               kb = r[4].get<std::size_t>();
    const auto q = bertpp::tokenizer_detail::round_robin_quota(la, lb, budget);
    bertpp::EncodeOptions o;
    o.truncation = bertpp::TruncationStrategy::round_robin;
    o.max_length = budget + 3;
    const auto e = tok.encode(words(la, "a"), words(lb, "b"), o);
    std::size_t na = 0, nb = 0;
    for (auto s : e.sequence_ids) {
      if (s == 0) ++na;
      if (s == 1) ++nb;
    }
    if (q != std::make_pair(ka, kb) || na != ka || nb != kb) {
      if (++bad <= 5)
        std::cout << "  budget " << budget << " lengths " << la << ", " << lb << ": tf keeps " << ka
                  << ", " << kb << "; bertpp " << q.first << ", " << q.second << " (tokenizer "
                  << na << ", " << nb << ")\n";
    }
  }
  EXPECT_EQ(bad, 0u);
  // Where it differs from HF's longest_first: odd budget, both long (5 + 5 into 7).
  bertpp::EncodeOptions lf, rr;
  lf.truncation = bertpp::TruncationStrategy::longest_first;
  rr.truncation = bertpp::TruncationStrategy::round_robin;
  lf.max_length = rr.max_length = 10;
  const auto a = words(5, "a"), b = words(5, "b");
  EXPECT_EQ(
      tok.encode(a, b, rr).tokens,
      (std::vector<std::string>{"[CLS]", "a", "a", "a", "a", "[SEP]", "b", "b", "b", "[SEP]"}));
  EXPECT_EQ(tok.encode(a, b, lf).tokens, (std::vector<std::string>{"[CLS]", "a", "a", "a", "[SEP]",
                                                                   "b", "b", "b", "b", "[SEP]"}));
}

TEST(TfHubPreprocess, PacksPadsAndNamesTheInputs) {
  bertpp::TfHubPreprocessOptions o;
  o.seq_length = 8;
  const auto pre = bertpp::TfHubPreprocessor::from_vocab_file(kVocab, o);
  EXPECT_TRUE(pre.lower_case());
  const auto tok = bertpp::Tokenizer::from_vocab_file(kVocab);
  auto id = [&](const char* t) { return tok.token_to_id(t); };
  // Case folding makes "Straße" "strasse" (HF's lowercase keeps the ß); "[MASK]" is text.
  bertpp::EncodeOptions plain;
  plain.add_special_tokens = false;
  EXPECT_EQ(pre.tokenize("Straße"), tok.encode("strasse", plain).ids);
  EXPECT_NE(pre.tokenize("Straße"), tok.encode("Straße", plain).ids);
  const auto in = pre.preprocess(
      std::vector<std::pair<std::string, std::string>>{{"Hello World", "the"}, {"[MASK]", ""}});
  ASSERT_EQ(in.batch, 2u);
  EXPECT_EQ(in.seq_length, 8u);
  const std::vector<std::int32_t> ids0 = {id("[CLS]"), id("hello"), id("world"), id("[SEP]"),
                                          id("the"),   id("[SEP]"), 0,           0};
  EXPECT_EQ(row(in.input_word_ids, 0, 8), ids0);
  EXPECT_EQ(row(in.input_mask, 0, 8), (std::vector<std::int32_t>{1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(row(in.input_type_ids, 0, 8), (std::vector<std::int32_t>{0, 0, 0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(row(in.input_word_ids, 1, 8),
            (std::vector<std::int32_t>{id("[CLS]"), id("["), id("mask"), id("]"), id("[SEP]"),
                                       id("[SEP]"), 0, 0}));
  const auto one = pre.preprocess("Hello World", "the");
  EXPECT_EQ(one.input_word_ids, row(in.input_word_ids, 0, 8));
  EXPECT_EQ(one.input_type_ids, row(in.input_type_ids, 0, 8));
  EXPECT_EQ(
      pre.preprocess("[MASK]").input_word_ids,
      (std::vector<std::int32_t>{id("[CLS]"), id("["), id("mask"), id("]"), id("[SEP]"), 0, 0, 0}));
  const auto enc = in.encodings();
  ASSERT_EQ(enc.size(), 2u);
  EXPECT_EQ(enc[1].ids, row(in.input_word_ids, 1, 8));
  EXPECT_EQ(enc[1].attention_mask, row(in.input_mask, 1, 8));
  EXPECT_EQ(enc[0].type_ids, row(in.input_type_ids, 0, 8));
}

TEST(TfHubPreprocess, AnyBytesGiveWellFormedRows) {
  // Random bytes (invalid UTF-8 included): every row starts with [CLS], its mask is a run of
  // ones then zeros, and padding is [PAD] with type 0.
  bertpp::TfHubPreprocessOptions o;
  o.seq_length = 24;
  const auto pre = bertpp::TfHubPreprocessor::from_vocab_file(kVocab, o);
  std::uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<unsigned>(state >> 33);
  };
  std::vector<std::pair<std::string, std::string>> pairs(300);
  for (auto& pr : pairs)
    for (auto* t : {&pr.first, &pr.second})
      for (unsigned n = next() % 120, k = 0; k < n; ++k) t->push_back(static_cast<char>(next()));
  const auto in = pre.preprocess(pairs);
  ASSERT_EQ(in.input_word_ids.size(), 300u * 24u);
  for (std::size_t r = 0; r < in.batch; ++r) {
    const auto ids = row(in.input_word_ids, r, 24), mask = row(in.input_mask, r, 24),
               types = row(in.input_type_ids, r, 24);
    EXPECT_EQ(ids[0], 101);
    std::size_t n = 0;
    while (n < 24 && mask[n] == 1) ++n;
    EXPECT_GE(n, 3u);
    for (std::size_t i = n; i < 24; ++i) {
      EXPECT_EQ(mask[i], 0);
      EXPECT_EQ(ids[i], 0);
      EXPECT_EQ(types[i], 0);
    }
    EXPECT_EQ(ids[n - 1], 102);
  }
}

TEST(TfHubPreprocess, BadSeqLengthIsAnErrorNamingTheOption) {
  for (std::size_t n :
       {std::size_t{0}, std::size_t{1}, (std::size_t{1} << 16) + 1, ~std::size_t{0}}) {
    bertpp::TfHubPreprocessOptions o;
    o.seq_length = n;
    expect_error<bertpp::TokenizerError>(
        [&] { bertpp::TfHubPreprocessor::from_vocab_file(kVocab, o); },
        "TfHubPreprocessOptions::seq_length");
  }
  bertpp::TfHubPreprocessOptions two;
  two.seq_length = 2;
  const auto pre = bertpp::TfHubPreprocessor::from_vocab_file(kVocab, two);
  EXPECT_EQ(pre.preprocess(std::vector<std::string>{"a long text"}).input_word_ids,
            (std::vector<std::int32_t>{101, 102}));
  expect_error<bertpp::TokenizerError>(
      [&] {
        pre.preprocess(std::vector<std::pair<std::string, std::string>>{{"a", "b"}});
      },
      "TfHubPreprocessOptions::seq_length 2 is too small for a pair");
  expect_error<bertpp::TokenizerError>([&] { pre.preprocess("a", "b"); },
                                       "TfHubPreprocessOptions::seq_length 2 is too small");
  expect_error<bertpp::IoError>([] { bertpp::TfHubPreprocessor::load("/nonexistent-dir"); },
                                "no vocabulary");
}

}  // namespace
