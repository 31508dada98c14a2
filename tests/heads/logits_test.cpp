// SPDX-License-Identifier: Apache-2.0
// Every head's logits against HF transformers (tools/make_head_fixtures.py), sharing of the
// encoder's weights, unused-tensor reports and the load errors of a missing or wrong head.
#include <gtest/gtest.h>

#include <iostream>

#include "heads_common.hpp"
#include "reference.hpp"

namespace {

using bertpp::Matrix;
using bertpp::test::fixture;
using bertpp::test::head_config;
using bertpp::test::head_store;

const bertpp::test::Reference& ref() {
  static const bertpp::test::Reference r(fixture("heads/reference.safetensors"));
  return r;
}
const std::vector<bertpp::Encoding>& batch() {
  static const auto b = ref().batch("");
  return b;
}
std::size_t real_length(std::size_t s) {
  std::size_t n = 0;
  for (auto m : batch()[s].attention_mask) n += m != 0;
  return n;
}

void report(const char* head, double diff) {
  std::cout << "[ heads ] " << head << " max |logit - HF| = " << diff << "\n";
  EXPECT_LE(diff, 1e-5) << head;
}

// Per-token logits [len x n] vs HF's [B, L, n] (selected columns `cols`, or all).
double token_diff(const std::vector<Matrix<float>>& got, const std::string& name,
                  const std::vector<std::int64_t>& cols = {}) {
  const auto want = ref().floats<float>(name);
  const auto dims = ref().shape(name);
  double worst = 0.0;
  for (std::size_t s = 0; s < got.size(); ++s)
    for (std::size_t j = 0; j < real_length(s); ++j)
      for (std::int64_t c = 0; c < dims[2]; ++c) {
        const auto col = cols.empty() ? c : cols[static_cast<std::size_t>(c)];
        const float w = want[static_cast<std::size_t>(
            (static_cast<std::int64_t>(s) * dims[1] + static_cast<std::int64_t>(j)) * dims[2] + c)];
        worst = std::max(
            worst, static_cast<double>(std::fabs(got[s](static_cast<Eigen::Index>(j), col) - w)));
      }
  return worst;
}

double matrix_diff(const Matrix<float>& got, const std::string& name) {
  const auto want = ref().floats<float>(name);
  EXPECT_EQ(static_cast<std::size_t>(got.size()), want.size()) << name;
  return bertpp::test::max_abs_diff(got.data(), want.data(),
                                    std::min<std::size_t>(want.size(), got.size()));
}

TEST(Heads, MaskedLMMatchesHFAndSharesTheEmbeddings) {
  const auto mlm = bertpp::MaskedLM<float>::load(bertpp::test::pretraining_dir());
  EXPECT_TRUE(mlm.head().tied());
  {
    // On the generic path the decoder is the embeddings' own memory (no copy); the SIMD
    // families pack one copy of it at load.
    bertpp::LoadOptions generic;
    generic.exec.isa = bertpp::exec::Isa::generic;
    const auto plain = bertpp::MaskedLM<float>::load(bertpp::test::pretraining_dir(), generic);
    EXPECT_EQ(plain.head().decoder().weight().data(),
              plain.model().embeddings().word_embeddings().data());
  }
  EXPECT_EQ(mlm.unused_tensors(),
            (std::vector<std::string>{"cls.seq_relationship.bias", "cls.seq_relationship.weight"}));
  const auto logits = mlm.forward(batch());
  double d = token_diff(logits, "mlm.logits_columns", ref().ints("vocab_columns"));
  const auto full = ref().floats<float>("mlm.logits_full");
  for (std::size_t s = 0; s < 2; ++s)
    d = std::max(
        d, bertpp::test::max_abs_diff(logits[s].row(1).data(), full.data() + s * 30522, 30522));
  report("masked LM", d);
}

TEST(Heads, NextSentenceMatchesHF) {
  const auto nsp = bertpp::NextSentence<float>::load(bertpp::test::pretraining_dir());
  report("next sentence", matrix_diff(nsp.forward(batch()), "nsp.logits"));
}

TEST(Heads, PreTrainingMatchesHFAndUsesEveryTensor) {
  bertpp::LoadOptions strict;
  strict.strict = true;
  const auto pre = bertpp::PreTraining<float>::load(bertpp::test::pretraining_dir(), strict);
  EXPECT_TRUE(pre.unused_tensors().empty());
  const auto out = pre.forward(batch());
  report("pre-training (MLM)", token_diff(out.prediction_logits, "pretraining.prediction_columns",
                                          ref().ints("vocab_columns")));
  report("pre-training (NSP)",
         matrix_diff(out.seq_relationship_logits, "pretraining.seq_relationship"));
}

TEST(Heads, SequenceClassificationMatchesHF) {
  for (const char* name : {"seqcls", "multilabel", "regression"}) {
    const bertpp::SequenceClassification<float> m(head_config(name), head_store(name));
    report(name, matrix_diff(m.forward(batch()), std::string(name) + ".logits"));
  }
  const bertpp::SequenceClassification<float> m(head_config("seqcls"), head_store("seqcls"));
  EXPECT_EQ(m.labels().names, (std::vector<std::string>{"negative", "neutral", "positive"}));
  EXPECT_EQ(head_config("multilabel").problem_type, "multi_label_classification");
}

TEST(Heads, TokenClassificationMatchesHF) {
  const bertpp::TokenClassification<float> m(head_config("ner"), head_store("ner"));
  EXPECT_EQ(m.labels().names.at(1), "B-PER");
  report("token classification", token_diff(m.forward(batch()), "ner.logits"));
}

TEST(Heads, QuestionAnsweringMatchesHF) {
  const bertpp::QuestionAnswering<float> m(head_config("qa"), head_store("qa"));
  const auto out = m.forward(batch());
  std::vector<Matrix<float>> start, end;
  for (const auto& o : out) {
    start.push_back(o.col(0));
    end.push_back(o.col(1));
  }
  const auto dims = ref().shape("qa.start_logits");
  double d = 0.0;
  for (const char* which : {"start", "end"}) {
    const auto want = ref().floats<float>(std::string("qa.") + which + "_logits");
    for (std::size_t s = 0; s < out.size(); ++s)
      for (std::size_t j = 0; j < real_length(s); ++j)
        d = std::max(d, static_cast<double>(std::fabs(
                            out[s](static_cast<Eigen::Index>(j), which[0] == 's' ? 0 : 1) -
                            want[s * static_cast<std::size_t>(dims[1]) + j])));
  }
  report("question answering", d);
}

TEST(Heads, MissingHeadIsAClearError) {
  const auto dir = bertpp::test::pretraining_dir();
  auto expect_error = [](auto&& f, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no error; expected one mentioning " << needle;
    } catch (const bertpp::WeightError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error([&] { bertpp::SequenceClassification<float>::load(dir); },
               "no sequence-classification head");
  expect_error([&] { bertpp::TokenClassification<float>::load(dir); },
               "'classifier.weight' is missing");
  expect_error([&] { bertpp::QuestionAnswering<float>::load(dir); }, "BertForPreTraining");
  // A bare encoder has neither pre-training head.
  expect_error([&] { bertpp::MaskedLM<float>::load(fixture("tiny-bert")); }, "no masked-LM head");
  expect_error([&] { bertpp::NextSentence<float>::load(fixture("tiny-bert")); },
               "no next-sentence head");
}

TEST(Heads, LabelCountDisagreeingWithConfigIsAClearError) {
  auto config = head_config("seqcls");  // 3 labels in the checkpoint
  config.id2label[3] = "extra";
  config.id2label[4] = "more";
  try {
    bertpp::SequenceClassification<float> m(config, head_store("seqcls"));
    ADD_FAILURE() << "no error";
  } catch (const bertpp::WeightError& e) {
    EXPECT_NE(std::string(e.what()).find("has 3 rows but config"), std::string::npos) << e.what();
  }
  config = head_config("ner");
  config.declared_num_labels = 7;  // disagrees with id2label
  EXPECT_THROW(bertpp::TokenClassification<float>(config, head_store("ner")), bertpp::ConfigError);
}

}  // namespace
