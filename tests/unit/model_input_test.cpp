// SPDX-License-Identifier: Apache-2.0
// Bad weights and bad inputs for BertModel: each is a bertpp::Error naming the tensor or
// the input position.
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <filesystem>

#include "scratch.hpp"
#include "testutil.hpp"

namespace {

using bertpp::Encoding;
using bertpp::test::fixture;

template <typename E, typename F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "no error; expected one mentioning " << parts.at(0);
  } catch (const E& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

const bertpp::BertModel<float>& tiny() {
  static const auto model = bertpp::BertModel<float>::load(fixture("tiny-bert"));
  return model;
}

TEST(ModelInput, TokenIdOutOfRange) {
  expect_error<bertpp::InputError>(
      [] {
        tiny().forward({Encoding::from_ids({2, 5, 3}), Encoding::from_ids({2, 99, 3})});
      },
      {"input sequence 1", "position 1", "token id 99", "[0, 99)"});
  expect_error<bertpp::InputError>([] { tiny().forward({Encoding::from_ids({-1})}); },
                                   {"position 0", "token id -1"});
}

TEST(ModelInput, TokenTypeOutOfRange) {
  expect_error<bertpp::InputError>(
      [] {
        tiny().forward({Encoding::from_ids({2, 5, 3}, {0, 0, 2})});
      },
      {"position 2", "token type id 2"});
}

TEST(ModelInput, SequenceLongerThanMaxPositions) {
  std::vector<std::int32_t> ids(41, 5);  // max_position_embeddings is 40
  expect_error<bertpp::InputError>(
      [&] { tiny().forward({Encoding::from_ids(ids)}); },
      {"input sequence 0", "max_position_embeddings (40)", "position 40"});
  // 40 real tokens behind left padding are fine: positions count from the first real token.
  std::vector<std::int32_t> mask(44, 1);
  std::vector<std::int32_t> padded(44, 5);
  for (int i = 0; i < 4; ++i) mask[static_cast<std::size_t>(i)] = 0;
  EXPECT_NO_THROW(tiny().forward({Encoding::from_ids(padded, {}, mask)}));
}

TEST(ModelInput, MismatchedOrEmptySequences) {
  expect_error<bertpp::InputError>(
      [] {
        tiny().forward({Encoding::from_ids({2, 3}, {0})});
      },
      {"type_ids has 1 entries but ids has 2"});
  expect_error<bertpp::InputError>(
      [] {
        tiny().forward({Encoding::from_ids({2, 3}, {}, {1, 1, 1})});
      },
      {"attention_mask has 3 entries"});
  expect_error<bertpp::InputError>(
      [] {
        tiny().forward({Encoding::from_ids({2, 3}, {}, {1, 7})});
      },
      {"position 1", "attention_mask value 7"});
  expect_error<bertpp::InputError>([] { tiny().forward({Encoding::from_ids({})}); }, {"no tokens"});
  expect_error<bertpp::InputError>(
      [] {
        tiny().forward({Encoding::from_ids({2, 3}, {}, {0, 0})});
      },
      {"masks every position"});
  EXPECT_TRUE(tiny().forward({}).last_hidden_state.empty());
}

// A checkpoint folder with tiny-bert's weights and an edited config.json.
std::string folder_with_config(const bertpp::test::ScratchDir& dir, const std::string& edit_key,
                               int value) {
  std::ifstream in(fixture("tiny-bert/config.json"));
  auto j = nlohmann::json::parse(in);
  j[edit_key] = value;
  bertpp::test::write_bytes(dir.path("config.json"), j.dump());
  std::filesystem::copy_file(fixture("tiny-bert/model.safetensors"), dir.path("model.safetensors"));
  return dir.path();
}

TEST(ModelWeights, VocabSizeDifferentFromEmbeddingRows) {
  bertpp::test::ScratchDir dir;
  const auto path = folder_with_config(dir, "vocab_size", 100);
  expect_error<bertpp::WeightError>(
      [&] { bertpp::BertModel<float>::load(path); },
      {"embeddings.word_embeddings.weight", "[99, 36]", "expected [100, 36]"});
}

TEST(ModelWeights, MissingTensorIsNamed) {
  bertpp::WeightStore store;
  store.add_file(fixture("tiny-bert/model.safetensors"));
  bertpp::WeightStore partial;
  for (const auto& name : store.names())
    if (name != "encoder.layer.1.intermediate.dense.bias") {
      const auto t = store.get<float>(name, store.find(name)->shape);
      partial.add(name, std::vector<float>(t.data(), t.data() + store.find(name)->numel()),
                  store.find(name)->shape);
    }
  const auto config = bertpp::BertConfig::from_file(fixture("tiny-bert/config.json"));
  expect_error<bertpp::WeightError>(
      [&] { bertpp::BertModel<float>(config, partial); },
      {"missing tensor 'encoder.layer.1.intermediate.dense.bias'", "[37]"});
}

TEST(ModelWeights, NoWeightsFileIsAnIoError) {
  bertpp::test::ScratchDir dir;
  std::filesystem::copy_file(fixture("tiny-bert/config.json"), dir.path("config.json"));
  expect_error<bertpp::IoError>([&] { bertpp::BertModel<float>::load(dir.path()); },
                                {"no model.safetensors", "convert_checkpoint.py"});
}

}  // namespace
