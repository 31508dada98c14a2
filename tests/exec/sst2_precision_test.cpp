// SPDX-License-Identifier: Apache-2.0
// bf16 and int8 against fp32 on real work: all-MiniLM-L6-v2 sentence embeddings of the 872
// SST-2 dev sentences (worst cosine) and the default SST-2 classifier's dev accuracy
// (examples/models/sst2-minilm-head: within 0.5 point of fp32 for bf16, 1 point for int8).
// The engine issue's cosine targets are 0.999 (bf16: 0.99997 measured) and 0.99 (int8:
// 0.9938 measured with per-row asymmetric activations, 0.983 with the symmetric ones they
// replaced; bench/RESULTS.md).
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "testutil.hpp"

namespace {

struct Dev {
  std::vector<std::string> texts;
  std::vector<int> labels;
};

Dev sst2_dev() {
  std::ifstream in(bertpp::test::fixture("sst2/dev.tsv"));
  Dev d;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto tab = line.rfind('\t');
    d.texts.push_back(line.substr(0, tab));
    d.labels.push_back(std::stoi(line.substr(tab + 1)));
  }
  return d;
}

std::string minilm() { return bertpp::test::cache_dir() + "/models/all-MiniLM-L6-v2"; }

bertpp::BertModel<float> encoder(bertpp::Precision p) {
  bertpp::LoadOptions o;
  o.exec.precision = p;
  return bertpp::BertModel<float>::load(minilm(), o);
}

double accuracy(const bertpp::TextClassifier& clf, const Dev& dev) {
  const auto results = clf.classify(dev.texts);
  std::size_t right = 0;
  for (std::size_t i = 0; i < results.size(); ++i)
    right += (results[i].front().label == "positive") == (dev.labels[i] == 1);
  return static_cast<double>(right) / static_cast<double>(results.size());
}

TEST(Sst2Precision, EmbeddingsAndClassifierStayCloseToF32) {
  const Dev dev = sst2_dev();
  ASSERT_EQ(dev.texts.size(), 872u);
  const auto reference = bertpp::Embedder::load(minilm());
  auto options = reference.options();
  options.num_threads = 2;
  const bertpp::Embedder f32(bertpp::Tokenizer::load(minilm()), encoder(bertpp::Precision::f32),
                             options);
  const auto want = f32.embed(dev.texts);
  const std::string head = std::string(BERTPP_SOURCE_DIR) + "/examples/models/sst2-minilm-head";
  bertpp::PipelineOptions popts;
  popts.num_threads = 2;
  const double acc_f32 = accuracy(
      bertpp::TextClassifier(bertpp::Tokenizer::load(minilm()), encoder(bertpp::Precision::f32),
                             bertpp::LinearHead::load(head), popts),
      dev);
  for (auto [precision, cos_target, acc_points] :
       {std::tuple{bertpp::Precision::bf16, 0.999, 0.5},
        std::tuple{bertpp::Precision::int8, 0.99, 1.0}}) {
    const bertpp::Embedder e(bertpp::Tokenizer::load(minilm()), encoder(precision), options);
    const auto got = e.embed(dev.texts);
    double worst = 1.0;
    for (Eigen::Index i = 0; i < got.rows(); ++i)
      worst = std::min(worst, static_cast<double>(
                                  bertpp::cosine(got.row(i).transpose(), want.row(i).transpose())));
    const double acc =
        accuracy(bertpp::TextClassifier(bertpp::Tokenizer::load(minilm()), encoder(precision),
                                        bertpp::LinearHead::load(head), popts),
                 dev);
    std::printf(
        "[ %s vs f32 ] SST-2 dev: worst embedding cosine %.6f; classifier accuracy %.4f (f32 "
        "%.4f)\n",
        bertpp::precision_name(precision), worst, acc, acc_f32);
    EXPECT_GE(worst, cos_target) << bertpp::precision_name(precision);
    EXPECT_LE(std::abs(acc - acc_f32) * 100, acc_points) << bertpp::precision_name(precision);
  }
}

}  // namespace
