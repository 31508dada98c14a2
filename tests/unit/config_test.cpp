// SPDX-License-Identifier: Apache-2.0
// BertConfig: HF defaults, wrong types, impossible values, unsupported features.
#include <bertpp/core/config.hpp>

#include <gtest/gtest.h>

#include "scratch.hpp"

namespace {

using json = nlohmann::json;

// Expects from_json(j) to throw a ConfigError whose message holds `field` and `part`.
void expect_config_error(const json& j, const std::string& field, const std::string& part) {
  try {
    bertpp::BertConfig::from_json(j, "my/config.json");
    FAIL() << "accepted " << j.dump();
  } catch (const bertpp::ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("my/config.json"), std::string::npos) << m;
    EXPECT_NE(m.find("'" + field + "'"), std::string::npos) << m;
    EXPECT_NE(m.find(part), std::string::npos) << m;
  }
}

TEST(Config, MissingFieldsTakeHfDefaults) {
  const auto c = bertpp::BertConfig::from_json(json::object());
  const auto base = bertpp::BertConfig::base();
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(c.hidden_size, base.hidden_size);
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.num_labels(), 2);
}

TEST(Config, ReadsFieldsAndLabels) {
  const auto c = bertpp::BertConfig::from_json(
      json::parse(R"({"hidden_size":36,"num_attention_heads":6,"layer_norm_eps":1e-5,
                      "id2label":{"0":"neg","1":"pos","2":"mixed"},"hidden_act":"gelu_new"})"));
  EXPECT_EQ(c.hidden_size, 36);
  EXPECT_EQ(c.head_size(), 6);
  EXPECT_EQ(c.layer_norm_eps, 1e-5);
  EXPECT_EQ(c.num_labels(), 3);
  EXPECT_EQ(c.id2label.at(2), "mixed");
}

TEST(Config, WrongTypesAreRefusedByName) {
  expect_config_error(json::parse(R"({"hidden_size":"768"})"), "hidden_size", "must be an integer");
  expect_config_error(json::parse(R"({"num_hidden_layers":12.5})"), "num_hidden_layers",
                      "must be an integer");
  expect_config_error(json::parse(R"({"layer_norm_eps":"tiny"})"), "layer_norm_eps",
                      "must be a number");
  expect_config_error(json::parse(R"({"hidden_act":3})"), "hidden_act", "must be a string");
  expect_config_error(json::parse(R"({"is_decoder":"no"})"), "is_decoder", "true or false");
  expect_config_error(json::parse(R"({"id2label":{"x":"a"}})"), "id2label", "non-negative integer");
  expect_config_error(json::parse(R"({"id2label":{"0":"a","2":"c"}})"), "id2label",
                      "no label for id 1");
}

TEST(Config, ImpossibleValuesAreRefusedByName) {
  expect_config_error(json::parse(R"({"hidden_size":770})"), "hidden_size",
                      "divisible by num_attention_heads");
  expect_config_error(json::parse(R"({"num_attention_heads":0})"), "num_attention_heads",
                      "must be positive");
  expect_config_error(json::parse(R"({"vocab_size":-1})"), "vocab_size", "must be positive");
  expect_config_error(json::parse(R"({"num_hidden_layers":-2})"), "num_hidden_layers", "negative");
  expect_config_error(json::parse(R"({"layer_norm_eps":0})"), "layer_norm_eps", "positive");
  expect_config_error(json::parse(R"({"max_position_embeddings":0})"), "max_position_embeddings",
                      "positive");
}

TEST(Config, UnsupportedFeaturesAreRefusedByName) {
  expect_config_error(json::parse(R"({"position_embedding_type":"relative_key"})"),
                      "position_embedding_type", "relative_key");
  expect_config_error(json::parse(R"({"is_decoder":true})"), "is_decoder", "encoders only");
  expect_config_error(json::parse(R"({"add_cross_attention":true})"), "add_cross_attention",
                      "cross-attention");
  expect_config_error(json::parse(R"({"hidden_act":"mish"})"), "hidden_act", "'mish'");
  expect_config_error(json::parse(R"({"model_type":"deberta-v2"})"), "model_type", "'deberta-v2'");
}

TEST(Config, FileErrorsNameTheFile) {
  bertpp::test::ScratchDir dir;
  EXPECT_THROW(bertpp::BertConfig::from_file(dir.path("missing.json")), bertpp::IoError);
  bertpp::test::write_bytes(dir.path("config.json"), "{\"hidden_size\": 768,");
  try {
    bertpp::BertConfig::from_file(dir.path("config.json"));
    FAIL();
  } catch (const bertpp::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path("config.json")), std::string::npos) << e.what();
  }
  bertpp::test::write_bytes(dir.path("config.json"), "[]");
  EXPECT_THROW(bertpp::BertConfig::from_file(dir.path("config.json")), bertpp::ConfigError);
}

}  // namespace
