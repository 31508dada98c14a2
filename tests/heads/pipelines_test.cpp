// SPDX-License-Identifier: Apache-2.0
// The pipelines against HF's pipelines (tests/fixtures/heads/pipelines.json): same tokens,
// labels, entity groups and answer spans in the same order, scores within 1e-4; and the
// errors of bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "heads_common.hpp"
#include "reference.hpp"

namespace {

using bertpp::test::head_config;
using bertpp::test::head_store;
using bertpp::test::head_tokenizer;
using bertpp::test::pipelines_json;
using nlohmann::json;

constexpr double kScoreTol = 1e-4;

bertpp::FillMask fill_mask() {
  return bertpp::FillMask(head_tokenizer(),
                          bertpp::MaskedLM<float>::load(bertpp::test::pretraining_dir()));
}

void expect_predictions(const std::vector<bertpp::MaskPrediction>& got, const json& want,
                        const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].token, want[i]["token"].get<int>()) << what << " #" << i;
    EXPECT_EQ(got[i].token_str, want[i]["token_str"].get<std::string>()) << what << " #" << i;
    EXPECT_EQ(got[i].sequence, want[i]["sequence"].get<std::string>()) << what << " #" << i;
    EXPECT_NEAR(got[i].score, want[i]["score"].get<double>(), kScoreTol) << what << " #" << i;
  }
}

TEST(Pipelines, FillMaskMatchesHF) {
  const auto fm = fill_mask();
  std::vector<std::string> texts;
  for (const auto& c : pipelines_json()["fill_mask"]) {
    const auto text = c["text"].get<std::string>();
    expect_predictions(fm.fill_mask(text, c["top_k"].get<std::size_t>()), c["results"], text);
    if (c["top_k"] == 5) texts.push_back(text);
  }
  const auto batched = fm.fill_mask(texts, 5);  // the same in one batch
  ASSERT_EQ(batched.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i)
    expect_predictions(batched[i], pipelines_json()["fill_mask"][2 * i]["results"],
                       "batched " + texts[i]);
  const auto& multi = pipelines_json()["fill_mask_multi"];
  const auto got =
      fm.fill_masks(multi["text"].get<std::string>(), multi["top_k"].get<std::size_t>());
  ASSERT_EQ(got.size(), 2u);
  for (std::size_t m = 0; m < 2; ++m)
    expect_predictions(got[m], multi["results"][m], "multi mask " + std::to_string(m));
}

TEST(Pipelines, ClassifyMatchesHF) {
  for (const char* name : {"seqcls", "multilabel", "regression"}) {
    const bertpp::TextClassifier clf(head_tokenizer(), bertpp::SequenceClassification<float>(
                                                           head_config(name), head_store(name)));
    const auto& c = pipelines_json()[std::string("classify.") + name];
    const auto got = clf.classify(c["texts"].get<std::vector<std::string>>());
    ASSERT_EQ(got.size(), c["results"].size());
    for (std::size_t t = 0; t < got.size(); ++t) {
      ASSERT_EQ(got[t].size(), c["results"][t].size()) << name;
      for (std::size_t k = 0; k < got[t].size(); ++k) {
        EXPECT_EQ(got[t][k].label, c["results"][t][k]["label"].get<std::string>())
            << name << " text " << t;
        EXPECT_NEAR(got[t][k].score, c["results"][t][k]["score"].get<double>(), kScoreTol) << name;
      }
    }
    EXPECT_EQ(clf.classify(c["texts"][0].get<std::string>(), 1).size(), 1u);
  }
}

TEST(Pipelines, NextSentenceMatchesHFLogits) {
  const bertpp::NextSentencePredictor nsp(
      head_tokenizer(), bertpp::NextSentence<float>::load(bertpp::test::pretraining_dir()));
  const bertpp::test::Reference ref(bertpp::test::fixture("heads/reference.safetensors"));
  const auto logits = ref.floats<double>("nsp.logits");  // rows 3, 4: the two pairs
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"My dog is cute.", "He likes playing."},
      {"The sky is blue.", "Pizza tastes best with cheese!"}};
  const auto got = nsp.next_sentence(pairs);
  for (std::size_t i = 0; i < 2; ++i) {
    const double a = logits[(3 + i) * 2], b = logits[(3 + i) * 2 + 1];
    EXPECT_NEAR(got[i], 1.0 / (1.0 + std::exp(b - a)), 1e-6);
  }
  EXPECT_NEAR(nsp.next_sentence(pairs[0].first, pairs[0].second), got[0], 1e-6);
}

TEST(Pipelines, NerMatchesHFForEveryAggregation) {
  const bertpp::TokenClassifier ner(
      head_tokenizer(), bertpp::TokenClassification<float>(head_config("ner"), head_store("ner")));
  const std::pair<const char*, bertpp::Aggregation> strategies[] = {
      {"none", bertpp::Aggregation::none},
      {"simple", bertpp::Aggregation::simple},
      {"first", bertpp::Aggregation::first},
      {"average", bertpp::Aggregation::average},
      {"max", bertpp::Aggregation::max}};
  for (const auto& [name, agg] : strategies) {
    for (const auto& c : pipelines_json()["ner"][name]) {
      const auto text = c["text"].get<std::string>();
      const auto got = ner.ner(text, agg);
      const auto& want = c["entities"];
      ASSERT_EQ(got.size(), want.size()) << name << ": " << text;
      for (std::size_t i = 0; i < got.size(); ++i) {
        const std::string where = std::string(name) + " #" + std::to_string(i) + ": " + text;
        const bool none = agg == bertpp::Aggregation::none;
        EXPECT_EQ(got[i].entity, want[i][none ? "entity" : "entity_group"].get<std::string>())
            << where;
        EXPECT_EQ(got[i].word, want[i]["word"].get<std::string>()) << where;
        EXPECT_EQ(got[i].start, want[i]["start"].get<std::size_t>()) << where;
        EXPECT_EQ(got[i].end, want[i]["end"].get<std::size_t>()) << where;
        EXPECT_NEAR(got[i].score, want[i]["score"].get<double>(), kScoreTol) << where;
        if (none) {
          EXPECT_EQ(got[i].index, want[i]["index"].get<std::size_t>()) << where;
        }
      }
    }
  }
}

TEST(Pipelines, AnswerMatchesHFOverSeveralWindows) {
  const bertpp::QuestionAnswerer qa(
      head_tokenizer(), bertpp::QuestionAnswering<float>(head_config("qa"), head_store("qa")));
  for (const auto& c : pipelines_json()["qa"]) {
    bertpp::AnswerOptions o;
    const auto& kw = c["options"];
    o.top_k = kw.value("top_k", std::size_t{1});
    o.max_seq_len = kw.value("max_seq_len", std::size_t{0});
    o.doc_stride = kw.value("doc_stride", std::size_t{0});
    o.max_answer_len = kw.value("max_answer_len", std::size_t{15});
    o.handle_impossible_answer = kw.value("handle_impossible_answer", false);
    const auto q = c["question"].get<std::string>(), ctx = c["context"].get<std::string>();
    const auto windows = qa.windows(q, ctx, o);
    ASSERT_EQ(windows.size(), c["windows"].size()) << q;
    for (std::size_t w = 0; w < windows.size(); ++w)
      EXPECT_EQ(windows[w].size(), c["windows"][w].get<std::size_t>());
    const auto got = qa.answer(q, ctx, o);
    ASSERT_EQ(got.size(), c["answers"].size()) << q;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const auto& want = c["answers"][i];
      EXPECT_EQ(got[i].answer, want["answer"].get<std::string>()) << q << " #" << i;
      EXPECT_EQ(got[i].start, want["start"].get<std::size_t>()) << q << " #" << i;
      EXPECT_EQ(got[i].end, want["end"].get<std::size_t>()) << q << " #" << i;
      EXPECT_NEAR(got[i].score, want["score"].get<double>(), kScoreTol) << q << " #" << i;
    }
  }
}

using bertpp::test::expect_error;

TEST(Pipelines, BadInputIsAClearError) {
  using bertpp::InputError;
  const auto fm = fill_mask();
  expect_error<InputError>([&] { fm.fill_mask(""); }, "text 0 is empty");
  expect_error<InputError>([&] { fm.fill_mask("no mask here"); }, "has no [MASK]");
  expect_error<InputError>([&] { fm.fill_mask("[MASK] and [MASK]"); }, "use fill_masks");
  expect_error<InputError>(
      [&] {
        fm.fill_mask(std::vector<std::string>{"a [MASK]", "  "});
      },
      "text 1 is empty");
  const bertpp::TextClassifier clf(
      head_tokenizer(),
      bertpp::SequenceClassification<float>(head_config("seqcls"), head_store("seqcls")));
  expect_error<InputError>([&] { clf.classify(""); }, "empty");
  const bertpp::TokenClassifier ner(
      head_tokenizer(), bertpp::TokenClassification<float>(head_config("ner"), head_store("ner")));
  expect_error<InputError>([&] { ner.ner("\n"); }, "empty");
  const bertpp::QuestionAnswerer qa(
      head_tokenizer(), bertpp::QuestionAnswering<float>(head_config("qa"), head_store("qa")));
  expect_error<InputError>([&] { qa.answer("", "context"); }, "the question is empty");
  expect_error<InputError>([&] { qa.answer("why?", " "); }, "the context is empty");
  bertpp::AnswerOptions small;
  small.max_seq_len = 12;
  small.doc_stride = 4;
  expect_error<InputError>(
      [&] { qa.answer("what is the longest question that anyone ever asked here?", "ctx", small); },
      "leaves no room for the context");
}

TEST(Pipelines, OptionNamesAreReadOrRefusedWithTheAcceptedList) {
  using bertpp::InputError;
  EXPECT_EQ(bertpp::score_function_from_name("auto"), bertpp::ScoreFunction::automatic);
  EXPECT_EQ(bertpp::score_function_from_name("softmax"), bertpp::ScoreFunction::softmax);
  EXPECT_EQ(bertpp::score_function_from_name("sigmoid"), bertpp::ScoreFunction::sigmoid);
  EXPECT_EQ(bertpp::score_function_from_name("none"), bertpp::ScoreFunction::none);
  expect_error<InputError>([] { bertpp::score_function_from_name("Softmax", "--function"); },
                           "--function: 'Softmax' is not one of auto, softmax, sigmoid, none");
  EXPECT_EQ(bertpp::aggregation_from_name("none"), bertpp::Aggregation::none);
  EXPECT_EQ(bertpp::aggregation_from_name("simple"), bertpp::Aggregation::simple);
  EXPECT_EQ(bertpp::aggregation_from_name("first"), bertpp::Aggregation::first);
  EXPECT_EQ(bertpp::aggregation_from_name("average"), bertpp::Aggregation::average);
  EXPECT_EQ(bertpp::aggregation_from_name("max"), bertpp::Aggregation::max);
  expect_error<InputError>(
      [] { bertpp::aggregation_from_name(""); },
      "aggregation_strategy: '' is not one of none, simple, first, average, max");
  EXPECT_TRUE(bertpp::is_blank(""));
  EXPECT_TRUE(bertpp::is_blank(" \t\n\r\f\v"));
  EXPECT_FALSE(bertpp::is_blank(" a "));
  EXPECT_FALSE(bertpp::is_blank("\xc2\xa0"));  // only ASCII whitespace counts
}

TEST(Pipelines, TruncatesByDefaultOrRefuses) {
  std::string longer;
  for (int i = 0; i < 600; ++i) longer += "word ";
  bertpp::PipelineOptions refuse;
  refuse.truncate = false;
  const bertpp::TextClassifier clf(
      head_tokenizer(),
      bertpp::SequenceClassification<float>(head_config("seqcls"), head_store("seqcls")));
  EXPECT_EQ(clf.classify(longer).size(), 3u);  // truncated to 512 tokens
  const bertpp::TextClassifier strict(
      head_tokenizer(),
      bertpp::SequenceClassification<float>(head_config("seqcls"), head_store("seqcls")), refuse);
  expect_error<bertpp::InputError>([&] { strict.classify(longer); }, "more than max_length 512");
  const auto fm = fill_mask();
  expect_error<bertpp::InputError>([&] { fm.fill_mask(longer + "[MASK]"); },
                                   "left after truncation");
}

}  // namespace
