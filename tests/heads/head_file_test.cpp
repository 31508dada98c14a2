// SPDX-License-Identifier: Apache-2.0
// LinearHead (bertpp's trained classifier head): file round trip, encoder identity checks,
// the training loop, and TextClassifier with an encoder + head.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "heads_common.hpp"

#include <bertpp/heads/head_training.hpp>

namespace {

namespace fs = std::filesystem;
using bertpp::Matrix;

std::string temp_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("bertpp_head_test_" + std::to_string(::getpid()) + "_" + name);
  fs::create_directories(p);
  return p.string();
}

using bertpp::test::expect_error;

bertpp::LinearHead sample_head(std::int64_t hidden) {
  bertpp::LinearHead h;
  h.labels = {"negative", "positive"};
  h.pooling = {"mean", true};
  h.max_length = 64;
  h.encoder = bertpp::EncoderIdentity::of_dir(bertpp::test::pretraining_dir());
  h.weight = Matrix<float>::Random(1, hidden);
  h.bias = bertpp::Vector<float>::Constant(1, 0.25f);
  return h;
}

TEST(HeadFile, SavesAndLoadsEveryField) {
  const std::string dir = temp_dir("roundtrip");
  const auto h = sample_head(32);
  EXPECT_EQ(h.encoder.name, "pretraining");
  EXPECT_EQ(h.encoder.hidden_size, 32);
  EXPECT_EQ(h.encoder.weights_digest.rfind("sampled64:", 0), 0u);
  h.save(dir);
  const auto g = bertpp::LinearHead::load(dir);
  EXPECT_EQ(g.labels, h.labels);
  EXPECT_EQ(g.activation, "sigmoid");
  EXPECT_EQ(g.pooling.mode, "mean");
  EXPECT_TRUE(g.pooling.normalize);
  EXPECT_EQ(g.max_length, 64u);
  EXPECT_EQ(g.encoder.weights_digest, h.encoder.weights_digest);
  EXPECT_EQ(g.weight, h.weight);
  EXPECT_EQ(g.bias, h.bias);
  EXPECT_NO_THROW(
      g.check_encoder(bertpp::EncoderIdentity::of_dir(bertpp::test::pretraining_dir()), "x"));
  fs::remove_all(dir);
}

TEST(HeadFile, RefusesAnotherEncoderAndBadFiles) {
  const std::string dir = temp_dir("bad");
  auto h = sample_head(32);
  h.encoder.weights_digest = "sampled64:0000000000000000";
  h.encoder.name = "other-model";
  h.save(dir);
  // The encoder check comes before anything else is loaded.
  expect_error<bertpp::WeightError>(
      [&] { bertpp::TextClassifier::load(bertpp::test::pretraining_dir(), dir); },
      "head trained on encoder 'other-model'");
  expect_error<bertpp::IoError>([&] { bertpp::LinearHead::load(dir + "/missing"); },
                                "head.json: cannot open");
  {
    std::ofstream(dir + "/head.json") << R"({"format": "bertpp-linear-head", "labels": ["a", "b"],
      "activation": "relu", "pooling": "mean", "max_length": 8,
      "encoder": {"name": "x", "hidden_size": 32, "weights_digest": "sampled64:0"}})";
  }
  expect_error<bertpp::FormatError>([&] { bertpp::LinearHead::load(dir); },
                                    "field 'activation' is 'relu'");
  {
    std::ofstream(dir + "/head.json") << R"({"format": "bertpp-linear-head", "labels": ["a", "b"],
      "activation": "sigmoid", "pooling": "mean", "max_length": 8,
      "encoder": {"name": "x", "hidden_size": 48, "weights_digest": "sampled64:0"}})";
  }
  expect_error<bertpp::WeightError>([&] { bertpp::LinearHead::load(dir); }, "classifier.weight");
  { std::ofstream(dir + "/head.json") << R"({"format": "bertpp-linear-head"})"; }
  expect_error<bertpp::FormatError>([&] { bertpp::LinearHead::load(dir); }, "head.json");
  fs::remove_all(dir);
}

TEST(HeadTraining, LearnsSeparableDataBinaryAndSoftmax) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  const int n = 400, h = 8;
  Matrix<float> x(n, h);
  std::vector<int> y2(n), y3(n);
  for (int i = 0; i < n; ++i) {
    y3[static_cast<std::size_t>(i)] = i % 3;
    y2[static_cast<std::size_t>(i)] = i % 2;
    for (int c = 0; c < h; ++c) x(i, c) = noise(rng);
    x(i, i % 3) += 2.0f;              // class 0/1/2 along axes 0/1/2
    x(i, 3) += i % 2 ? 2.0f : -2.0f;  // binary along axis 3
  }
  bertpp::HeadTrainOptions o;
  o.epochs = 20;
  o.learning_rate = 1e-2;
  bertpp::LinearHead bin;
  bin.labels = {"even", "odd"};
  const auto rep = bertpp::train_linear_head(bin, x, y2, o);
  ASSERT_EQ(rep.size(), 20u);
  EXPECT_LT(rep.back().loss, rep.front().loss);
  EXPECT_EQ(bin.weight.rows(), 1);
  EXPECT_EQ(bertpp::predict_linear_head(bin, x), y2);
  bertpp::LinearHead tri;
  tri.labels = {"a", "b", "c"};
  tri.activation = "softmax";
  bertpp::train_linear_head(tri, x, y3, o);
  EXPECT_EQ(tri.weight.rows(), 3);
  EXPECT_EQ(bertpp::predict_linear_head(tri, x), y3);
  // Same seed, same head.
  bertpp::LinearHead again = bin;
  bertpp::train_linear_head(again, x, y2, o);
  EXPECT_EQ(again.weight, bin.weight);
  expect_error<bertpp::InputError>(
      [&] { bertpp::train_linear_head(bin, Matrix<float>(0, h), {}, o); }, "no training examples");
  std::vector<int> bad = y2;
  bad[5] = 2;
  expect_error<bertpp::InputError>([&] { bertpp::train_linear_head(bin, x, bad, o); },
                                   "label id 2 of example 5");
}

TEST(HeadClassifier, EncoderPlusHeadScoresAsFeaturesTimesWeights) {
  const auto& tok = bertpp::test::head_tokenizer();
  for (const char* pooling : {"pooler", "mean"}) {
    auto model = bertpp::BertModel<float>::load(bertpp::test::pretraining_dir());
    auto head = sample_head(32);
    head.pooling = {pooling, std::string(pooling) == "mean"};
    const std::vector<std::string> texts = {"what a great film", "it was terrible"};
    const Matrix<float> f =
        bertpp::encode_features(tok, model, texts, head.pooling, head.max_length);
    const bertpp::TextClassifier clf(tok, std::move(model), head);
    EXPECT_TRUE(clf.has_linear_head());
    const auto got = clf.classify(texts);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const double z = f.row(static_cast<Eigen::Index>(i)).dot(head.weight.row(0)) + head.bias(0);
      const double p = 1.0 / (1.0 + std::exp(-z));
      ASSERT_EQ(got[i].size(), 2u);
      for (const auto& ls : got[i])
        EXPECT_NEAR(ls.score, ls.label == "positive" ? p : 1.0 - p, 1e-6) << pooling;
    }
    EXPECT_THROW(clf.model(), bertpp::ConfigError);
  }
}

}  // namespace
