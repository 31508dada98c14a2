// SPDX-License-Identifier: Apache-2.0
// Concurrency stress test: 8 threads share one tokenizer, one encoder and three pipelines
// and make a few hundred calls of random lengths on them (forward on the calling thread's
// own context and on a Context of their own, encode_batch on several threads, embed,
// classify, token classification); every result must be bit-identical to the same call
// made serially. Built also with ThreadSanitizer (BERTPP_TSAN, tools/run_tests.sh), where a
// data race in the library fails the run even when the numbers happen to agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../heads/heads_common.hpp"

namespace {

using bertpp::test::head_config;
using bertpp::test::head_store;
using bertpp::test::head_tokenizer;
using bertpp::test::pretraining_dir;

constexpr int kThreads = 8;
constexpr int kCallsPerThread = 40;  // 320 calls in all

/// Everything the threads share: immutable after construction.
struct Shared {
  const bertpp::Tokenizer& tok = head_tokenizer();
  const bertpp::BertModel<float> model = bertpp::BertModel<float>::load(pretraining_dir());
  const bertpp::Embedder embedder{tok, bertpp::BertModel<float>::load(pretraining_dir())};
  const bertpp::TextClassifier classifier{
      tok, bertpp::SequenceClassification<float>(head_config("seqcls"), head_store("seqcls"))};
  const bertpp::TokenClassifier tagger{
      tok, bertpp::TokenClassification<float>(head_config("ner"), head_store("ner"))};
};

const Shared& shared() {
  static const Shared s;
  return s;
}

const std::vector<std::string> kWords = {
    "the",  "a",   "quick",        "brown",        "fox",    "jumps", "over",
    "lazy", "dog", "unbelievable", "tokenization", "Paris",  "naïve", "café",
    "42",   "!",   "don't",        "日本",         "emoji😀", "BERT"};

/// The random texts of call `seed`: 1-4 texts of 1-30 words.
std::vector<std::string> texts_of(std::mt19937& rng) {
  std::vector<std::string> out(std::uniform_int_distribution<std::size_t>(1, 4)(rng));
  for (auto& t : out) {
    const auto n = std::uniform_int_distribution<int>(1, 30)(rng);
    for (int i = 0; i < n; ++i) t += (i ? " " : "") + kWords[rng() % kWords.size()];
  }
  return out;
}

void append(std::vector<std::uint8_t>& out, const void* p, std::size_t bytes) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  out.insert(out.end(), b, b + bytes);
}
template <typename M>
void append_matrix(std::vector<std::uint8_t>& out, const M& m) {
  const bertpp::Matrix<float> copy = m;  // row-major, contiguous
  append(out, copy.data(), sizeof(float) * static_cast<std::size_t>(copy.size()));
}
void append_encodings(std::vector<std::uint8_t>& out, const std::vector<bertpp::Encoding>& batch) {
  for (const auto& e : batch) {
    append(out, e.ids.data(), e.ids.size() * sizeof(e.ids[0]));
    append(out, e.attention_mask.data(), e.attention_mask.size() * sizeof(e.attention_mask[0]));
    for (const auto& o : e.offsets) append(out, &o, sizeof o);
  }
}

/// Call `call` (a number that decides its kind and its inputs), its result as bytes. `ctx`
/// is the calling thread's own Context.
std::vector<std::uint8_t> run_call(int call, bertpp::Context& ctx) {
  const Shared& s = shared();
  std::mt19937 rng(static_cast<std::uint32_t>(call) * 2654435761u + 17u);
  const auto texts = texts_of(rng);
  std::vector<std::uint8_t> out;
  bertpp::EncodeOptions enc;
  enc.truncation = bertpp::TruncationStrategy::longest_first;
  enc.max_length = std::uniform_int_distribution<std::size_t>(3, 48)(rng);
  if (rng() % 2) enc.padding = bertpp::Padding::longest;
  if (rng() % 3 == 0) enc.padding_side = bertpp::Side::left;
  switch (call % 6) {
    case 0: {  // forward on the thread's own default context (ForwardOptions::num_threads)
      bertpp::ForwardOptions fo;
      fo.num_threads = 2;
      const auto r = s.model.forward(s.tok.encode_batch(texts, enc), fo);
      for (const auto& h : r.last_hidden_state) append_matrix(out, h);
      append_matrix(out, r.pooler_output);
      break;
    }
    case 1: {  // forward on an explicit Context, with every layer's hidden states
      bertpp::ForwardOptions fo;
      fo.output_hidden_states = true;
      const auto r = s.model.forward(s.tok.encode_batch(texts, enc), ctx, fo);
      for (const auto& layer : r.hidden_states)
        for (const auto& h : layer) append_matrix(out, h);
      break;
    }
    case 2:  // the tokenizer alone, on two threads
      append_encodings(out, s.tok.encode_batch(texts, enc, 2));
      break;
    case 3:
      append_matrix(out, s.embedder.embed(texts));
      break;
    case 4:
      for (const auto& labels : s.classifier.classify(texts))
        for (const auto& l : labels) {
          append(out, l.label.data(), l.label.size());
          append(out, &l.score, sizeof l.score);
        }
      break;
    default:
      for (const auto& text : texts) {
        const auto entities = s.tagger.ner(text, bertpp::Aggregation::simple);
        const std::size_t n = entities.size();
        append(out, &n, sizeof n);
        for (const auto& e : entities) {
          append(out, e.entity.data(), e.entity.size());
          append(out, &e.score, sizeof e.score);
          append(out, &e.start, sizeof e.start);
        }
      }
      break;
  }
  return out;
}

TEST(Concurrency, SharedObjectsGiveTheSerialResultsBitForBit) {
  constexpr int kCalls = kThreads * kCallsPerThread;
  std::vector<std::vector<std::uint8_t>> serial(kCalls);
  {
    bertpp::Context ctx(2);
    for (int c = 0; c < kCalls; ++c) serial[static_cast<std::size_t>(c)] = run_call(c, ctx);
  }
  std::vector<std::vector<std::uint8_t>> concurrent(kCalls);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t, &concurrent] {
      bertpp::Context ctx(2);
      // Each thread takes every kThreads-th call, in an order of its own.
      std::vector<int> calls;
      for (int c = t; c < kCalls; c += kThreads) calls.push_back(c);
      std::shuffle(calls.begin(), calls.end(), std::mt19937(static_cast<std::uint32_t>(t)));
      for (const int c : calls) concurrent[static_cast<std::size_t>(c)] = run_call(c, ctx);
    });
  for (auto& th : threads) th.join();
  int differ = 0;
  for (int c = 0; c < kCalls; ++c) {
    const auto& a = serial[static_cast<std::size_t>(c)];
    const auto& b = concurrent[static_cast<std::size_t>(c)];
    EXPECT_FALSE(a.empty()) << "call " << c << " produced nothing";
    if (a != b && ++differ <= 5)
      ADD_FAILURE() << "call " << c << " (kind " << c % 6 << ") differs from its serial result";
  }
  EXPECT_EQ(differ, 0);
}

}  // namespace
