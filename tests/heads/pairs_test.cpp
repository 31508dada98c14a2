// SPDX-License-Identifier: Apache-2.0
// Text pairs against HF and sentence-transformers (tests/fixtures/pairs/reference.json, from
// tools/make_pair_fixtures.py): NLI classification of (premise, hypothesis) pairs and
// zero-shot classification against HF's pipelines, cross-encoder reranking against
// CrossEncoder; same labels and order, scores within 1e-5; and the errors of bad input.
#include <gtest/gtest.h>

#include <fstream>

#include "heads_common.hpp"

namespace {

using bertpp::test::expect_error;
using bertpp::test::fixture;
using bertpp::test::head_tokenizer;
using nlohmann::json;

constexpr double kTol = 1e-5;

const json& reference() {
  static const json j = [] {
    std::ifstream in(fixture("pairs/reference.json"));
    return json::parse(in);
  }();
  return j;
}

json pair_config_json(const std::string& name) {
  std::ifstream in(fixture("pairs/" + name + "/config.json"));
  return json::parse(in);
}

// The encoder of tests/fixtures/heads + the head of pairs/<name>, with config `j`.
bertpp::SequenceClassification<float> pair_model(const std::string& name, const json& j) {
  bertpp::WeightStore s = bertpp::WeightStore::from_dir(bertpp::test::pretraining_dir());
  s.add_file(fixture("pairs/" + name + "/model.safetensors"));
  return bertpp::SequenceClassification<float>(
      bertpp::BertConfig::from_json(j, name + "/config.json"), s);
}
bertpp::SequenceClassification<float> pair_model(const std::string& name) {
  return pair_model(name, pair_config_json(name));
}

std::vector<bertpp::TextPair> pairs_of(const json& j) {
  std::vector<bertpp::TextPair> out;
  for (const auto& p : j) out.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
  return out;
}

TEST(Pairs, NliClassificationMatchesHF) {
  const bertpp::TextClassifier clf(head_tokenizer(), pair_model("nli"));
  const auto& c = reference()["nli"];
  const auto pairs = pairs_of(c["pairs"]);
  const auto got = clf.classify_pairs(pairs);
  ASSERT_EQ(got.size(), c["results"].size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& want = c["results"][i];
    ASSERT_EQ(got[i].size(), want.size());
    for (std::size_t k = 0; k < got[i].size(); ++k) {
      EXPECT_EQ(got[i][k].label, want[k]["label"].get<std::string>()) << "pair " << i;
      EXPECT_NEAR(got[i][k].score, want[k]["score"].get<double>(), kTol) << "pair " << i;
    }
  }
  const auto one = clf.classify_pair(pairs[0].first, pairs[0].second, 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].label, got[0][0].label);
  // A pair is not the concatenated text: token types and [SEP] matter.
  EXPECT_GT(
      std::abs(clf.classify(pairs[0].first + " " + pairs[0].second)[0].score - got[0][0].score),
      1e-6);
}

TEST(Pairs, ZeroShotMatchesHF) {
  const bertpp::ZeroShotClassifier zs(head_tokenizer(), pair_model("nli"));
  EXPECT_EQ(zs.entailment_id(), 0u);     // "ENTAILMENT", found case-insensitively
  EXPECT_EQ(zs.contradiction_id(), 2u);  // HF: the last label when entailment is label 0
  std::size_t checked = 0;
  for (const auto& c : reference()["zero_shot"]) {
    const auto labels = c["labels"].get<std::vector<std::string>>();
    const std::string tmpl = c["template"].is_null() ? bertpp::ZeroShotClassifier::kDefaultTemplate
                                                     : c["template"].get<std::string>();
    std::vector<std::string> texts;
    for (const auto& r : c["results"]) texts.push_back(r["sequence"].get<std::string>());
    const auto got = zs.classify(texts, labels, c["multi_label"].get<bool>(), tmpl);
    ASSERT_EQ(got.size(), texts.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      const auto& want = c["results"][i];
      ASSERT_EQ(got[i].size(), want["labels"].size());
      for (std::size_t k = 0; k < got[i].size(); ++k) {
        EXPECT_EQ(got[i][k].label, want["labels"][k].get<std::string>())
            << tmpl << " text " << i << " #" << k;
        EXPECT_NEAR(got[i][k].score, want["scores"][k].get<double>(), kTol)
            << tmpl << " text " << i;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 3u * (5 + 5 + 5 + 1));
  // One text at a time gives the same as the batch.
  const auto& c0 = reference()["zero_shot"][0];
  const auto one = zs.classify(c0["results"][1]["sequence"].get<std::string>(),
                               c0["labels"].get<std::vector<std::string>>());
  EXPECT_EQ(one[0].label, c0["results"][1]["labels"][0].get<std::string>());
}

TEST(Pairs, ZeroShotBadInputIsAClearError) {
  using bertpp::InputError;
  const bertpp::ZeroShotClassifier zs(head_tokenizer(), pair_model("nli"));
  const std::vector<std::string> labels = {"sports", "music"};
  expect_error<InputError>([&] { zs.classify(std::vector<std::string>{}, labels); },
                           "at least one text");
  expect_error<InputError>([&] { zs.classify("a text", {}); }, "at least one candidate label");
  expect_error<InputError>(
      [&] {
        zs.classify("a text", {"sports", " "});
      },
      "candidate label 1 is empty");
  expect_error<InputError>(
      [&] {
        zs.classify(std::vector<std::string>{"fine", ""}, labels);
      },
      "text 1 is empty");
  expect_error<InputError>([&] { zs.classify("a text", labels, false, "No placeholder."); },
                           "has no '{}'");
  expect_error<InputError>([&] { zs.classify("a text", labels, false, "{} and {}"); },
                           "more than one '{}'");
  expect_error<InputError>([&] { zs.classify("a text", labels, false, "{label}"); }, "only '{}'");
  expect_error<InputError>([&] { zs.classify("a text", labels, false, "about {} }"); },
                           "unmatched '}'");
  EXPECT_EQ(bertpp::detail::format_hypothesis("{{{0}}} is {0}.", "x"), "{x} is x.");
  // Only the text is cut (HF's only_first): a hypothesis longer than max_length is refused.
  bertpp::PipelineOptions small;
  small.max_length = 12;
  const bertpp::ZeroShotClassifier zs12(head_tokenizer(), pair_model("nli"), small);
  EXPECT_EQ(zs12.classify("one two three four five six seven eight nine ten", labels).size(), 2u);
  expect_error<InputError>(
      [&] {
        zs12.classify("short", labels, false,
                      "this hypothesis is far too long for twelve tokens: {}");
      },
      "cannot be truncated");
  // Checkpoints that are not NLI heads.
  json j = pair_config_json("nli");
  j.erase("label2id");  // HF reads label2id; without one, the labels of id2label
  j["id2label"] = {{"0", "negative"}, {"1", "neutral"}, {"2", "positive"}};
  expect_error<bertpp::ConfigError>(
      [&] { bertpp::ZeroShotClassifier(head_tokenizer(), pair_model("nli", j)); },
      "no label starting with 'entail' (labels: negative, neutral, positive)");
  j["label2id"] = {{"entailment", 7}};
  expect_error<bertpp::ConfigError>(
      [&] { bertpp::ZeroShotClassifier(head_tokenizer(), pair_model("nli", j)); },
      "'label2id' entry 'entailment' is not a label id in [0, 3)");
  j["label2id"] = {{"contradiction", 0}, {"entailment", 2}, {"neutral", 1}};
  EXPECT_EQ(bertpp::ZeroShotClassifier(head_tokenizer(), pair_model("nli", j)).entailment_id(), 2u);
  expect_error<bertpp::ConfigError>(
      [&] { bertpp::ZeroShotClassifier(head_tokenizer(), pair_model("rerank")); },
      "at least 2 labels");
  EXPECT_EQ(bertpp::ZeroShotClassifier::parse_labels(" politics, ,sports ,"),
            (std::vector<std::string>{"politics", "sports"}));
}

TEST(Pairs, NliPairBadInputIsAClearError) {
  const bertpp::TextClassifier clf(head_tokenizer(), pair_model("nli"));
  expect_error<bertpp::InputError>([&] { clf.classify_pair("premise", ""); },
                                   "classify: pair 0, second text is empty");
  expect_error<bertpp::InputError>(
      [&] {
        clf.classify_pairs({{"a", "b"}, {" ", "b"}});
      },
      "classify: pair 1, first text is empty");
  std::string longer;
  for (int i = 0; i < 600; ++i) longer += "word ";
  EXPECT_EQ(clf.classify_pair(longer, longer).size(), 3u);  // truncated longest first
  bertpp::PipelineOptions refuse;
  refuse.truncate = false;
  const bertpp::TextClassifier strict(head_tokenizer(), pair_model("nli"), refuse);
  expect_error<bertpp::InputError>([&] { strict.classify_pair("premise", longer); },
                                   "more than max_length 512");
}

void expect_cross_encoder(const bertpp::Reranker& r, const json& c, const std::string& what) {
  const auto pairs = pairs_of(reference()["rerank"]["pairs"]);
  const auto got = r.score(pairs);
  ASSERT_EQ(got.size(), c["scores"].size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], c["scores"][i].get<double>(), kTol) << what << " " << i;
  std::vector<std::string> passages;
  for (std::size_t i = 0; i < c["rank"].size(); ++i) passages.push_back(pairs[i].second);
  for (const char* key : {"rank", "rank_top2"}) {
    const auto& want = c[key];
    const auto hits = r.rerank(pairs[0].first, passages, key == std::string("rank") ? 0 : 2);
    ASSERT_EQ(hits.size(), want.size()) << what << " " << key;
    for (std::size_t k = 0; k < hits.size(); ++k) {
      EXPECT_EQ(hits[k].index, want[k]["corpus_id"].get<std::size_t>())
          << what << " " << key << " #" << k;
      EXPECT_NEAR(hits[k].score, want[k]["score"].get<double>(), kTol)
          << what << " " << key << " #" << k;
    }
  }
}

TEST(Pairs, RerankMatchesCrossEncoder) {
  for (const char* name : {"rerank", "rerank_identity"}) {
    for (const char* mode : {"default", "truncated"}) {
      const auto& c = reference()[name][mode];
      bertpp::PipelineOptions o;
      o.max_length = c["max_length"].get<std::size_t>();
      o.batch_size = 3;
      const bertpp::Reranker r(head_tokenizer(), pair_model(name), o);
      EXPECT_EQ(r.activation(), c["activation"] == "Sigmoid"
                                    ? bertpp::CrossEncoderActivation::sigmoid
                                    : bertpp::CrossEncoderActivation::identity);
      expect_cross_encoder(r, c, std::string(name) + " " + mode);
    }
  }
  // The truncated case differs from the default one where the passage was long.
  EXPECT_GT(std::abs(reference()["rerank"]["default"]["scores"][3].get<double>() -
                     reference()["rerank"]["truncated"]["scores"][3].get<double>()),
            1e-3);
}

TEST(Pairs, RerankBadInputIsAClearError) {
  using bertpp::ConfigError;
  using bertpp::InputError;
  const bertpp::Reranker r(head_tokenizer(), pair_model("rerank"));
  expect_error<InputError>([&] { r.rerank("", {"a passage"}); }, "rerank: the query is empty");
  expect_error<InputError>([&] { r.rerank("query", {}); }, "rerank: no passages to rank");
  expect_error<InputError>(
      [&] {
        r.rerank("query", {"fine", "\t"});
      },
      "rerank: passage 1 is empty");
  expect_error<InputError>(
      [&] {
        r.score({{"query", ""}});
      },
      "rerank: pair 0, second text is empty");
  EXPECT_TRUE(r.score({}).empty());
  bertpp::PipelineOptions refuse;
  refuse.truncate = false;
  refuse.max_length = 10;
  const bertpp::Reranker strict(head_tokenizer(), pair_model("rerank"), refuse);
  expect_error<InputError>(
      [&] { strict.rerank("query", {"one two three four five six seven eight"}); },
      "more than max_length 10");
  expect_error<ConfigError>([&] { bertpp::Reranker(head_tokenizer(), pair_model("nli")); },
                            "a cross-encoder has one label (num_labels 1); this checkpoint has 3");
  json j = pair_config_json("rerank");
  j["sentence_transformers"] = {{"activation_fn", "torch.nn.modules.activation.GELU"}};
  expect_error<ConfigError>(
      [&] { bertpp::Reranker(head_tokenizer(), pair_model("rerank", j)); },
      "field 'sentence_transformers.activation_fn' is 'torch.nn.modules.activation.GELU'");
  // A path outside torch is ignored, as CrossEncoder does without trust_remote_code.
  j["sentence_transformers"] = {{"activation_fn", "mypackage.Custom"}};
  EXPECT_EQ(bertpp::Reranker(head_tokenizer(), pair_model("rerank", j)).activation(),
            bertpp::CrossEncoderActivation::sigmoid);
  j.erase("sentence_transformers");
  j["sbert_ce_default_activation_function"] = "torch.nn.modules.activation.Tanh";
  EXPECT_EQ(bertpp::Reranker(head_tokenizer(), pair_model("rerank", j)).activation(),
            bertpp::CrossEncoderActivation::tanh);
}

}  // namespace
