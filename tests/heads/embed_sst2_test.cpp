// SPDX-License-Identifier: Apache-2.0
// all-MiniLM-L6-v2 sentence embeddings of the 872 SST-2 dev sentences against
// sentence-transformers (tests/fixtures/sst2): cosine >= 0.99999 for every sentence.
#include <gtest/gtest.h>

#include <fstream>
#include <iomanip>
#include <iostream>

#include "heads_common.hpp"
#include "reference.hpp"

namespace {

std::vector<std::string> sst2_dev() {
  std::ifstream in(bertpp::test::fixture("sst2/dev.tsv"));
  std::vector<std::string> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) out.push_back(line.substr(0, line.find('\t')));
  return out;
}

TEST(EmbedSst2, EverySentenceMatchesSentenceTransformers) {
  const auto sentences = sst2_dev();
  ASSERT_EQ(sentences.size(), 872u);
  const bertpp::test::Reference ref(bertpp::test::fixture("sst2/minilm_embeddings.safetensors"));
  const auto want = ref.floats<float>("embeddings");
  ASSERT_EQ(want.size(), 872u * 384u);
  auto embedder = bertpp::Embedder::load(bertpp::test::cache_dir() + "/models/all-MiniLM-L6-v2");
  embedder.options().num_threads = 2;
  const auto got = embedder.embed(sentences);
  double worst = 1.0;
  std::size_t worst_i = 0;
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    const auto w = Eigen::Map<const Eigen::VectorXf>(want.data() + i * 384, 384);
    const double cos = bertpp::cosine(got.row(static_cast<Eigen::Index>(i)).transpose(), w);
    EXPECT_GE(cos, 0.99999) << "sentence " << i << ": " << sentences[i];
    if (cos < worst) {
      worst = cos;
      worst_i = i;
    }
  }
  std::cout << "[ EmbedSst2 ] worst cosine over 872 sentences: 1 - " << std::scientific
            << std::setprecision(2) << 1.0 - worst << " (sentence " << worst_i << ")\n";
  // similarity() is the cosine of two embeddings.
  EXPECT_NEAR(embedder.similarity(sentences[0], sentences[1]),
              bertpp::cosine(got.row(0).transpose(), got.row(1).transpose()), 1e-6);
  const auto sims = embedder.similarity({sentences[0]}, {sentences[0], sentences[1]});
  EXPECT_NEAR(sims(0, 0), 1.0, 1e-6);
  EXPECT_NEAR(sims(0, 1), embedder.similarity(sentences[0], sentences[1]), 1e-6);
}

}  // namespace
