// SPDX-License-Identifier: Apache-2.0
// The pipelines on every family: DistilBERT (WordPiece, no token types, first-token
// classifier), RoBERTa (byte-level BPE, <mask> with lstrip, RoBERTa's positions and pair
// template), XLM-RoBERTa and ALBERT (SentencePiece Unigram), ELECTRA, ERNIE and MPNet
// (WordPiece with <s> </s>) against HF's pipelines on the same tiny checkpoints
// (family/<name>/pipelines.json, written by tools/make_family_fixtures.py with tokenizers sized for
// the tiny models): the same tokens, labels, entity groups and answer spans in the same order,
// scores within 1e-4.
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "testutil.hpp"

namespace {

using bertpp::test::fixture;
using nlohmann::json;

constexpr double kScoreTol = 1e-4;

class FamilyPipelines : public ::testing::TestWithParam<std::string> {
 protected:
  std::string name() const { return GetParam() == "xlm_roberta" ? "xlm-roberta" : GetParam(); }
  std::string dir(const std::string& sub) const { return fixture("family/" + name() + "/" + sub); }
  json expected() const {
    std::ifstream in(dir("pipelines.json"));
    return json::parse(in);
  }
  bertpp::Tokenizer tokenizer() const { return bertpp::Tokenizer::load(dir("tokenizer")); }
  bertpp::WeightStore store(const std::string& head) const {
    auto s = bertpp::WeightStore::from_dir(dir("base"));
    s.add_file(dir(head + "/model.safetensors"));
    return s;
  }
  bertpp::EncoderConfig config(const std::string& head) const {
    return bertpp::EncoderConfig::from_file(dir(head + "/config.json"));
  }
};

TEST_P(FamilyPipelines, FillMask) {
  const json all = expected();
  if (GetParam() == "electra") {  // its base folder is the discriminator: no masked LM
    EXPECT_FALSE(all.contains("fill_mask"));
    return;
  }
  // ERNIE's and ALBERT's base folders are their pre-training models; their masked LMs are
  // the whole "mlm" folders.
  const bool pretraining = GetParam() == "ernie" || GetParam() == "albert";
  const bertpp::FillMask fm(tokenizer(),
                            bertpp::MaskedLM<float>::load(dir(pretraining ? "mlm" : "base")));
  for (const auto& c : all["fill_mask"]) {
    const auto text = c["text"].get<std::string>();
    const auto got = fm.fill_mask(text, c["top_k"].get<std::size_t>());
    const auto& want = c["results"];
    ASSERT_EQ(got.size(), want.size()) << text;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].token, want[i]["token"].get<int>()) << text << " #" << i;
      EXPECT_EQ(got[i].token_str, want[i]["token_str"].get<std::string>()) << text << " #" << i;
      EXPECT_EQ(got[i].sequence, want[i]["sequence"].get<std::string>()) << text << " #" << i;
      EXPECT_NEAR(got[i].score, want[i]["score"].get<double>(), kScoreTol) << text << " #" << i;
    }
  }
}

TEST_P(FamilyPipelines, Classify) {
  const bertpp::TextClassifier clf(
      tokenizer(), bertpp::SequenceClassification<float>(config("seqcls"), store("seqcls")));
  const json all = expected();
  const auto& c = all["classify"];
  const auto got = clf.classify(c["texts"].get<std::vector<std::string>>());
  ASSERT_EQ(got.size(), c["results"].size());
  for (std::size_t t = 0; t < got.size(); ++t) {
    ASSERT_EQ(got[t].size(), c["results"][t].size());
    for (std::size_t k = 0; k < got[t].size(); ++k) {
      EXPECT_EQ(got[t][k].label, c["results"][t][k]["label"].get<std::string>()) << "text " << t;
      EXPECT_NEAR(got[t][k].score, c["results"][t][k]["score"].get<double>(), kScoreTol)
          << "text " << t;
    }
  }
}

TEST_P(FamilyPipelines, Ner) {
  const bertpp::TokenClassifier ner(
      tokenizer(), bertpp::TokenClassification<float>(config("ner"), store("ner")));
  const std::pair<const char*, bertpp::Aggregation> strategies[] = {
      {"none", bertpp::Aggregation::none},
      {"simple", bertpp::Aggregation::simple},
      {"first", bertpp::Aggregation::first}};
  const json all = expected();
  for (const auto& [name, agg] : strategies) {
    for (const auto& c : all["ner"][name]) {
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
      }
    }
  }
}

TEST_P(FamilyPipelines, Answer) {
  const bertpp::QuestionAnswerer qa(tokenizer(),
                                    bertpp::QuestionAnswering<float>(config("qa"), store("qa")));
  const json all = expected();  // kept alive: the loop's range is a reference into it
  for (const auto& c : all["qa"]) {
    bertpp::AnswerOptions o;
    const auto& kw = c["options"];
    o.top_k = kw.value("top_k", std::size_t{1});
    o.max_answer_len = kw.value("max_answer_len", std::size_t{15});
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

// transformers 5 cleans the decoded text (" ' " -> "'", on the joined text) only when
// tokenizer_config.json asks for it; the decoder's own per-token cleanup always runs.
TEST(FamilyTokenizer, CleanUpTokenizationSpacesFollowsTheConfig) {
  const std::string src = fixture("family/ernie/tokenizer/");
  const std::string dir = ::testing::TempDir() + "bertpp_family_cleanup/";
  ASSERT_EQ(std::system(("mkdir -p '" + dir + "' && cp '" + src + "vocab.txt' '" + src +
                         "tokenizer.json' '" + dir + "'")
                            .c_str()),
            0);
  auto write_config = [&](const std::string& value) {
    std::ofstream(dir + "tokenizer_config.json")
        << (value.empty() ? std::string("{}")
                          : R"({"clean_up_tokenization_spaces": )" + value + "}");
  };
  const std::string text = "the quick brown ' jumps.";
  write_config("");
  auto t = bertpp::Tokenizer::load(dir);
  EXPECT_FALSE(t.options().clean_up_tokenization_spaces);
  EXPECT_EQ(t.decode(t.encode(text).ids), text);
  EXPECT_EQ(t.decode(t.encode(text).ids, true, true), "the quick brown'jumps.");
  write_config("true");
  t = bertpp::Tokenizer::load(dir);
  EXPECT_TRUE(t.options().clean_up_tokenization_spaces);
  EXPECT_EQ(t.decode(t.encode(text).ids), "the quick brown'jumps.");
  EXPECT_EQ(t.decode(t.encode(text).ids, true, false), text);
  write_config("\"yes\"");
  try {
    bertpp::Tokenizer::load(dir);
    ADD_FAILURE() << "accepted a string for clean_up_tokenization_spaces";
  } catch (const bertpp::Error& e) {
    EXPECT_NE(std::string(e.what()).find("clean_up_tokenization_spaces"), std::string::npos)
        << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Hf, FamilyPipelines,
                         ::testing::Values("distilbert", "roberta", "xlm_roberta", "albert",
                                           "electra", "ernie", "mpnet"));

}  // namespace
