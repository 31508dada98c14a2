// SPDX-License-Identifier: Apache-2.0
// Each family's config.json adapter: HF's defaults (tests/fixtures/family/defaults.json,
// written by tools/make_family_fixtures.py from HF's config classes), the family's own field
// names, and the errors for what bertpp does not run.
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "testutil.hpp"

namespace {

using bertpp::EncoderConfig;
using nlohmann::json;

json defaults() {
  std::ifstream in(bertpp::test::fixture("family/defaults.json"));
  return json::parse(in);
}

void expect_config_error(const json& j, const std::string& needle) {
  try {
    EncoderConfig::from_json(j, "cfg.json");
    ADD_FAILURE() << "accepted " << j.dump();
  } catch (const bertpp::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos) << e.what();
  }
}

TEST(FamilyConfig, AConfigNamingOnlyItsModelTypeHasHfsDefaults) {
  const json all = defaults();
  ASSERT_EQ(all.size(), 8u);
  for (const auto& [type, want] : all.items()) {
    SCOPED_TRACE(type);
    const EncoderConfig c = EncoderConfig::from_json(json{{"model_type", type}});
    EXPECT_EQ(c.vocab_size, want.at("vocab_size").get<std::int64_t>());
    EXPECT_EQ(c.hidden_size, want.at("hidden_size").get<std::int64_t>());
    EXPECT_EQ(c.num_hidden_layers, want.at("num_hidden_layers").get<std::int64_t>());
    EXPECT_EQ(c.num_attention_heads, want.at("num_attention_heads").get<std::int64_t>());
    EXPECT_EQ(c.intermediate_size, want.at("intermediate_size").get<std::int64_t>());
    EXPECT_EQ(c.hidden_act, want.at("hidden_act").get<std::string>());
    EXPECT_EQ(c.max_position_embeddings, want.at("max_position_embeddings").get<std::int64_t>());
    EXPECT_EQ(c.pad_token_id, want.at("pad_token_id").get<std::int64_t>());
    // DistilBERT has no token types (its HF config has no such field).
    EXPECT_EQ(c.type_vocab_size, want.value("type_vocab_size", std::int64_t{0}));
    if (want.contains("layer_norm_eps")) {
      EXPECT_EQ(c.layer_norm_eps, want.at("layer_norm_eps").get<double>());
    }
    EXPECT_EQ(c.embedding_dim(), want.value("embedding_size", c.hidden_size));
    EXPECT_EQ(c.num_hidden_groups, want.value("num_hidden_groups", std::int64_t{1}));
    EXPECT_EQ(c.inner_group_num, want.value("inner_group_num", std::int64_t{1}));
    EXPECT_EQ(c.use_task_id, want.value("use_task_id", false));
    EXPECT_EQ(c.relative_attention_num_buckets,
              want.value("relative_attention_num_buckets", std::int64_t{32}));
    // RoBERTa's positions start past pad_token_id; MPNet's past its fixed padding index 1.
    const bool roberta = type == "roberta" || type == "xlm-roberta";
    EXPECT_EQ(c.position_offset, roberta ? c.pad_token_id + 1 : type == "mpnet" ? 2 : 0);
  }
}

TEST(FamilyConfig, DistilBertsOwnNamesAreRead) {
  const auto c = EncoderConfig::from_json(json{{"model_type", "distilbert"},
                                               {"dim", 48},
                                               {"n_layers", 3},
                                               {"n_heads", 4},
                                               {"hidden_dim", 50},
                                               {"activation", "relu"}});
  EXPECT_EQ(c.hidden_size, 48);
  EXPECT_EQ(c.num_hidden_layers, 3);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.intermediate_size, 50);
  EXPECT_EQ(c.hidden_act, "relu");
  EXPECT_FALSE(c.has_token_types());
  EXPECT_EQ(c.base_prefix(), "distilbert.");
}

TEST(FamilyConfig, AlbertsSharingScheduleIsHfs) {
  // HF: layer i runs group int(i / (L / G)), each group's inner layers in order.
  auto c = EncoderConfig::from_json(json{{"model_type", "albert"},
                                         {"num_hidden_layers", 3},
                                         {"num_hidden_groups", 2},
                                         {"inner_group_num", 2},
                                         {"hidden_size", 8},
                                         {"num_attention_heads", 2},
                                         {"intermediate_size", 8}});
  EXPECT_EQ(c.stored_layers(), 4);
  EXPECT_EQ(bertpp::layer_schedule(c), (std::vector<std::int64_t>{0, 1, 0, 1, 2, 3}));
  c.num_hidden_layers = 12;
  c.num_hidden_groups = 1;
  c.inner_group_num = 1;
  EXPECT_EQ(bertpp::layer_schedule(c), std::vector<std::int64_t>(12, 0));
  EXPECT_EQ(bertpp::layer_names(c, 0).ffn_in, "encoder.albert_layer_groups.0.albert_layers.0.ffn");
}

TEST(FamilyConfig, UnsupportedModelTypesAreRefusedByName) {
  expect_config_error(json{{"model_type", "deberta"}},
                      "'deberta'; bertpp supports bert, roberta, xlm-roberta");
  expect_config_error(json{{"model_type", "deberta-v2"}}, "model_type");
}

TEST(FamilyConfig, ImpossibleFamilyFieldsAreErrors) {
  expect_config_error(
      json{{"model_type", "albert"}, {"num_hidden_layers", 2}, {"num_hidden_groups", 3}},
      "num_hidden_groups");
  expect_config_error(json{{"model_type", "albert"}, {"inner_group_num", 0}}, "inner_group_num");
  expect_config_error(json{{"model_type", "electra"}, {"embedding_size", -3}}, "embedding_size");
  expect_config_error(json{{"model_type", "electra"}, {"embedding_size", "big"}}, "embedding_size");
  expect_config_error(json{{"model_type", "ernie"}, {"use_task_id", 1}}, "use_task_id");
  expect_config_error(json{{"model_type", "roberta"}, {"pad_token_id", 600}}, "pad_token_id");
  expect_config_error(json{{"model_type", "distilbert"}, {"dim", 10}, {"n_heads", 3}},
                      "hidden_size");
}

}  // namespace
