// SPDX-License-Identifier: Apache-2.0
// Text in, sentence embeddings out: bertpp's tokenizer + encoder + pooling against
// sentence-transformers' all-MiniLM-L6-v2 embeddings (tools/make_fixtures.py).
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <fstream>

#include "reference.hpp"
#include "testutil.hpp"

namespace {

TEST(Embed, MiniLMMatchesSentenceTransformers) {
  const bertpp::test::Reference ref(bertpp::test::fixture("minilm/reference.safetensors"));
  std::ifstream in(bertpp::test::fixture("minilm/sentences.json"));
  const auto sentences = nlohmann::json::parse(in).get<std::vector<std::string>>();
  const auto embedder =
      bertpp::Embedder::load(bertpp::test::cache_dir() + "/models/all-MiniLM-L6-v2");
  EXPECT_EQ(embedder.options().pooling, bertpp::PoolingMode::mean);
  EXPECT_TRUE(embedder.options().normalize);
  EXPECT_EQ(embedder.max_length(), 256u);

  // The tokenizer gives HF's ids for every sentence.
  const auto batch = ref.batch("", /*with_types=*/false);
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    std::vector<std::int32_t> want;
    for (std::size_t j = 0; j < batch[i].ids.size(); ++j)
      if (batch[i].attention_mask[j]) want.push_back(batch[i].ids[j]);
    EXPECT_EQ(embedder.tokenizer().encode(sentences[i]).ids, want) << sentences[i];
  }

  const auto got = embedder.embed(sentences);
  const auto want = ref.floats<float>("sentence_embeddings");
  ASSERT_EQ(static_cast<std::size_t>(got.size()), want.size());
  double worst = 1.0;
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    const auto w = Eigen::Map<const Eigen::VectorXf>(want.data() + i * 384, 384);
    const double cos = bertpp::cosine(got.row(static_cast<Eigen::Index>(i)).transpose(), w);
    EXPECT_GE(cos, 0.99999) << sentences[i];
    worst = std::min(worst, cos);
    EXPECT_TRUE(bertpp::test::all_close(got.row(static_cast<Eigen::Index>(i)).data(), w.data(), 384,
                                        1e-5, sentences[i]));
  }
  std::cout << "[ Embed ] worst cosine vs sentence-transformers: " << worst << "\n";
}

TEST(Embed, PoolingModes) {
  std::vector<bertpp::Matrix<double>> hidden(1, bertpp::Matrix<double>(3, 2));
  hidden[0] << 1, 2, 3, -4, 100, 100;
  const std::vector<bertpp::Encoding> batch = {
      bertpp::Encoding::from_ids({1, 2, 0}, {}, {1, 1, 0})};
  using M = bertpp::PoolingMode;
  EXPECT_EQ(bertpp::pool(hidden, batch, M::mean, false),
            (bertpp::Matrix<double>(1, 2) << 2, -1).finished());
  EXPECT_EQ(bertpp::pool(hidden, batch, M::max, false),
            (bertpp::Matrix<double>(1, 2) << 3, 2).finished());
  EXPECT_EQ(bertpp::pool(hidden, batch, M::cls, false),
            (bertpp::Matrix<double>(1, 2) << 1, 2).finished());
  const auto n = bertpp::pool(hidden, batch, M::cls, true);
  EXPECT_NEAR(n.norm(), 1.0, 1e-15);
  EXPECT_THROW(bertpp::pooling_mode_from_name("median"), bertpp::ConfigError);
}

}  // namespace
