// SPDX-License-Identifier: Apache-2.0
// Pipeline options of every kind (0, below the special tokens, huge), the limits of
// question answering on long contexts, pooling's own checks and left padding, on the tiny
// random checkpoints of tools/make_head_fixtures.py.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "../heads/heads_common.hpp"

namespace {

using bertpp::InputError;
using bertpp::test::head_config;
using bertpp::test::head_store;
using bertpp::test::head_tokenizer;
using bertpp::test::pretraining_dir;

constexpr std::size_t kHuge = std::numeric_limits<std::size_t>::max();

template <typename E = InputError, typename F>
void expect_error(F&& f, const std::string& needle) {
  bertpp::test::expect_error<E>(std::forward<F>(f), needle);
}

bertpp::PipelineOptions with(std::size_t max_length, std::size_t batch_size) {
  bertpp::PipelineOptions o;
  o.max_length = max_length;
  o.batch_size = batch_size;
  return o;
}

bertpp::Embedder embedder(const bertpp::Tokenizer& tok = head_tokenizer()) {
  return bertpp::Embedder(tok, bertpp::BertModel<float>::load(pretraining_dir()));
}

const std::vector<std::string> kTexts = {"a first text", "the second one",
                                         "and a third, longer text here"};

TEST(Options, EmbedderBatchSizeZeroIsAnErrorNotALoop) {
  auto e = embedder();
  e.options().batch_size = 0;
  expect_error([&] { e.embed(kTexts); }, "PipelineOptions::batch_size is 0");
}

TEST(Options, MaxLengthBelowTheSpecialTokensIsRefusedEverywhere) {
  const auto po = with(1, 32);
  const std::string opt = "PipelineOptions::max_length";
  auto e = embedder();
  e.options().max_length = 2;  // [CLS] [SEP] and no room for text
  expect_error([&] { e.embed(kTexts); }, opt);
  const bertpp::TextClassifier clf(
      head_tokenizer(),
      bertpp::SequenceClassification<float>(head_config("seqcls"), head_store("seqcls")), po);
  expect_error([&] { clf.classify(kTexts); }, opt);
  const bertpp::TokenClassifier ner(
      head_tokenizer(), bertpp::TokenClassification<float>(head_config("ner"), head_store("ner")),
      po);
  expect_error([&] { ner.ner(kTexts); }, opt);
  const bertpp::FillMask fm(head_tokenizer(), bertpp::MaskedLM<float>::load(pretraining_dir()), po);
  expect_error([&] { fm.fill_mask("a [MASK] b"); }, opt);
  // Two texts take 3 special tokens: max_length 3 leaves no room.
  const bertpp::NextSentencePredictor nsp(
      head_tokenizer(), bertpp::NextSentence<float>::load(pretraining_dir()), with(3, 32));
  expect_error([&] { nsp.next_sentence("one", "two"); }, "3 special tokens");
  // max_length 3 is the smallest that truncates a single text (one token of text).
  const bertpp::TextClassifier three(
      head_tokenizer(),
      bertpp::SequenceClassification<float>(head_config("seqcls"), head_store("seqcls")),
      with(3, 32));
  EXPECT_EQ(three.classify(kTexts).size(), 3u);
  const bertpp::TextClassifier zero(
      head_tokenizer(),
      bertpp::SequenceClassification<float>(head_config("seqcls"), head_store("seqcls")),
      with(1, 0));
  expect_error([&] { zero.classify(kTexts); }, "batch_size is 0");
}

TEST(Options, HugeValuesAreBoundedNotWrapped) {
  const auto po = with(kHuge, kHuge);  // max_length: the model's maximum; one batch
  const bertpp::TextClassifier clf(
      head_tokenizer(),
      bertpp::SequenceClassification<float>(head_config("seqcls"), head_store("seqcls")), po);
  const bertpp::TextClassifier plain(
      head_tokenizer(),
      bertpp::SequenceClassification<float>(head_config("seqcls"), head_store("seqcls")));
  const auto a = clf.classify(kTexts), b = plain.classify(kTexts);
  ASSERT_EQ(a.size(), 3u);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i][0].label, b[i][0].label);
  auto e = embedder();
  e.options().batch_size = kHuge;
  e.options().max_length = kHuge;
  EXPECT_EQ(e.embed(kTexts).rows(), 3);
  EXPECT_EQ(e.max_length(), 512u);
}

TEST(Options, EmbedderTakesPipelineOptionsAndTheTokenizerMaximum) {
  bertpp::TokenizerOptions to;
  to.model_max_length = 16;
  const auto tok = bertpp::Tokenizer::from_vocab_file(
      bertpp::test::fixture("vocab/bert-base-uncased/vocab.txt"), to);
  auto e = embedder(tok);
  EXPECT_EQ(e.max_length(), 16u);  // the tokenizer's model_max_length, below the 512 positions
  std::string longer;
  for (int i = 0; i < 100; ++i) longer += "word ";
  const auto truncated = e.embed({longer});
  // The same as embedding the text cut to 16 tokens.
  bertpp::EncodeOptions cut;
  cut.truncation = bertpp::TruncationStrategy::longest_first;
  cut.max_length = 16;
  const auto batch = std::vector<bertpp::Encoding>{tok.encode(longer, cut)};
  const auto ref = bertpp::pool(e.model().forward(batch).last_hidden_state, batch,
                                bertpp::PoolingMode::mean, false);
  EXPECT_EQ(truncated, ref);
  bertpp::PipelineOptions& base = e.options();  // an EmbedderOptions is a PipelineOptions
  base.truncate = false;
  expect_error([&] { e.embed({longer}); }, "more than max_length 16");
}

bertpp::QuestionAnswerer qa() {
  return bertpp::QuestionAnswerer(
      head_tokenizer(), bertpp::QuestionAnswering<float>(head_config("qa"), head_store("qa")));
}

const std::string kContext =
    "The quick brown fox jumps over the lazy dog near the river bank in the morning.";

TEST(Answer, HugeTopKAndMaxAnswerLenDoNotWrap) {
  const auto q = qa();
  const auto one = q.answer("what jumps?", kContext);
  ASSERT_FALSE(one.empty());
  bertpp::AnswerOptions o;
  o.top_k = kHuge;
  const auto all = q.answer("what jumps?", kContext, o);
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all[0].answer, one[0].answer);
  o.max_answer_len = kHuge;
  EXPECT_GE(q.answer("what jumps?", kContext, o).size(), all.size());
  o.top_k = 1;
  EXPECT_EQ(q.answer("what jumps?", kContext, o).size(), 1u);
  o.top_k = 0;
  expect_error([&] { q.answer("what jumps?", kContext, o); }, "top_k");
}

TEST(Answer, SmallWindowsUseADefaultStrideThatFits) {
  const auto q = qa();
  bertpp::AnswerOptions o;
  o.max_seq_len =
      16;  // a 6-token question leaves 7 context tokens; the default stride (8) would not fit
  const std::string question = "where does the quick fox jump";
  EXPECT_FALSE(q.answer(question, kContext, o).empty());
  EXPECT_GT(q.windows(question, kContext, o).size(), 1u);
  o.doc_stride = 8;  // given by the user: an error naming it
  expect_error([&] { q.answer(question, kContext, o); }, "AnswerOptions::doc_stride 8");
  o.doc_stride = 0;
  o.max_seq_len = 3;
  expect_error([&] { q.answer(question, kContext, o); }, "AnswerOptions::max_seq_len 3");
}

TEST(Answer, LongContextsAreBounded) {
  const auto q = qa();
  bertpp::AnswerOptions o;
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  // Over the byte limit: refused before any tokenization.
  std::string big;
  while (big.size() <= o.max_context_bytes) big += "word ";
  auto t0 = std::chrono::steady_clock::now();
  expect_error([&] { q.answer("what?", big, o); }, "AnswerOptions::max_context_bytes");
  EXPECT_LT(seconds_since(t0), 1.0);
  // At the byte limit, but far more windows than max_windows: refused before the model runs.
  big.resize(o.max_context_bytes);
  t0 = std::chrono::steady_clock::now();
  expect_error([&] { q.answer("what?", big, o); }, "AnswerOptions::max_windows (256)");
  EXPECT_LT(seconds_since(t0), 20.0);  // one tokenization of 1 MiB, no forward call
  // Exactly max_windows windows (64 tokens each, to keep the test fast): answered; one more
  // window: refused. "what?" is 2 tokens, "word" 1: 59 context tokens per window, stride 32.
  o.max_seq_len = 64;
  const std::size_t room = 64 - 3 - 2, step = room - 32;
  auto words = [](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += "word ";
    return s;
  };
  const std::string at_limit = words(room + (o.max_windows - 1) * step);
  const std::string over = words(room + (o.max_windows - 1) * step + 1);
  EXPECT_EQ(q.windows("what?", at_limit, o).size(), o.max_windows);
  EXPECT_EQ(q.answer("what?", at_limit, o).size(), 1u);
  expect_error([&] { q.answer("what?", over, o); }, "needs 257 windows");
  o.max_windows = 0;  // no limit
  EXPECT_EQ(q.windows("what?", over, o).size(), 257u);
}

TEST(Pooling, ChecksTheMaskAgainstTheRows) {
  std::vector<bertpp::Matrix<float>> hidden = {bertpp::Matrix<float>::Ones(3, 4)};
  std::vector<bertpp::Encoding> batch = {bertpp::Encoding::from_ids({1, 2}, {}, {1, 1})};
  for (auto mode : {bertpp::PoolingMode::cls, bertpp::PoolingMode::mean, bertpp::PoolingMode::max})
    expect_error([&] { bertpp::pool(hidden, batch, mode, false); },
                 "has 3 rows but input 0 has an attention mask of 2");
  batch = {bertpp::Encoding::from_ids({1, 2, 3, 4, 5}, {}, {1, 1, 1, 1, 1})};
  expect_error([&] { bertpp::pool(hidden, batch, bertpp::PoolingMode::mean, false); },
               "attention mask of 5");
  hidden.push_back(bertpp::Matrix<float>::Ones(3, 5));
  batch = {bertpp::Encoding::from_ids({1, 2, 3}), bertpp::Encoding::from_ids({1, 2, 3})};
  expect_error([&] { bertpp::pool(hidden, batch, bertpp::PoolingMode::mean, false); }, "5 columns");
  hidden.pop_back();
  batch.pop_back();
  EXPECT_EQ(bertpp::pool(hidden, batch, bertpp::PoolingMode::mean, false),
            bertpp::Matrix<float>::Ones(1, 4));
}

// DESIGN: padded positions are dropped before the model and each sequence's positions start
// at its first real token, so left padding gives the unpadded outputs (HF would not: it does
// not shift positions). Padded rows are zeros.
TEST(LeftPadding, GivesTheUnpaddedOutputs) {
  const auto model = bertpp::BertModel<float>::load(pretraining_dir());
  const auto& tok = head_tokenizer();
  bertpp::EncodeOptions left;
  left.padding = bertpp::Padding::longest;
  left.padding_side = bertpp::Side::left;
  const auto padded = tok.encode_batch(kTexts, left);
  const auto padded_out = model.forward(padded);
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    const auto alone = std::vector<bertpp::Encoding>{tok.encode(kTexts[i])};
    const auto out = model.forward(alone);
    const auto& want = out.last_hidden_state[0];
    const auto& got = padded_out.last_hidden_state[i];
    ASSERT_EQ(got.rows(), static_cast<Eigen::Index>(padded[i].size()));
    const Eigen::Index pads = got.rows() - want.rows();
    if (i != 2) {
      EXPECT_GT(pads, 0) << "text " << i << " is not padded: the test proves nothing";
    }
    EXPECT_TRUE(got.topRows(pads).isZero()) << "text " << i;
    EXPECT_TRUE(got.bottomRows(want.rows()).isApprox(want, 1e-5f)) << "text " << i;
    EXPECT_TRUE(padded_out.pooler_output.row(static_cast<Eigen::Index>(i))
                    .isApprox(out.pooler_output.row(0), 1e-5f));
    // And through the pipelines' pooling.
    for (auto mode :
         {bertpp::PoolingMode::cls, bertpp::PoolingMode::mean, bertpp::PoolingMode::max}) {
      const auto a = bertpp::pool(padded_out.last_hidden_state, padded, mode, true);
      const auto b = bertpp::pool(out.last_hidden_state, alone, mode, true);
      EXPECT_TRUE(a.row(static_cast<Eigen::Index>(i)).isApprox(b.row(0), 1e-5f)) << "text " << i;
    }
  }
}

}  // namespace
