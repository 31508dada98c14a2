// SPDX-License-Identifier: Apache-2.0
// Shared by the head tests: the tiny random checkpoints of tools/make_head_fixtures.py (one
// pre-training folder with the encoder, head-only folders on top of it).
#pragma once

#include <bertpp/bertpp.hpp>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "testutil.hpp"

namespace bertpp::test {

/// @brief The pre-training checkpoint folder (encoder + MLM + NSP).
inline std::string pretraining_dir() { return fixture("heads/pretraining"); }

/// @brief The encoder's tensors plus those of the head-only folder `name`.
inline WeightStore head_store(const std::string& name) {
  WeightStore s = WeightStore::from_dir(pretraining_dir());
  s.add_file(fixture("heads/" + name + "/model.safetensors"));
  return s;
}

/// @brief The config.json of the head-only folder `name`.
inline BertConfig head_config(const std::string& name) {
  return BertConfig::from_file(fixture("heads/" + name + "/config.json"));
}

/// @brief The fixture's tokenizer (bert-base-uncased vocabulary).
inline const Tokenizer& head_tokenizer() {
  static const Tokenizer t =
      Tokenizer::from_vocab_file(fixture("vocab/bert-base-uncased/vocab.txt"));
  return t;
}

/// @brief tests/fixtures/heads/pipelines.json.
inline const nlohmann::json& pipelines_json() {
  static const nlohmann::json j = [] {
    std::ifstream in(fixture("heads/pipelines.json"));
    return nlohmann::json::parse(in);
  }();
  return j;
}

}  // namespace bertpp::test
