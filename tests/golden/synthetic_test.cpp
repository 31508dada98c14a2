// SPDX-License-Identifier: Apache-2.0
// BERT-base and BERT-large at full size, with weights from the counter-based generator
// that tools/synthetic_weights.py also implements, against HF's outputs for them.
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <cmath>

#include "reference.hpp"
#include "testutil.hpp"

namespace {

using bertpp::test::all_close;
using bertpp::test::Reference;

template <typename Model>
void check(const char* tag, const bertpp::BertConfig& config) {
  const Reference ref(bertpp::test::fixture("synthetic/reference.safetensors"));
  const Model model(bertpp::synthetic_bert_weights(config));
  const auto batch = ref.batch(std::string(tag) + ".");
  bertpp::ForwardOptions opts;
  opts.num_threads = 2;
  const auto out = model.forward(batch, opts);
  const double tol = 1e-4;
  const auto H = static_cast<std::size_t>(config.hidden_size);
  // Full rows of sequence 0.
  const auto rows = ref.ints(std::string(tag) + ".row_index");
  const auto want_rows = ref.floats<float>(std::string(tag) + ".rows");
  for (std::size_t k = 0; k < rows.size(); ++k)
    EXPECT_TRUE(all_close(out.last_hidden_state[0].row(rows[k]).data(), want_rows.data() + k * H, H,
                          tol, std::string(tag) + " row " + std::to_string(rows[k])));
  // Mean and standard deviation of every real row of every sequence.
  const auto mean = ref.floats<float>(std::string(tag) + ".row_mean");
  const auto sd = ref.floats<float>(std::string(tag) + ".row_std");
  const std::size_t L = batch[0].ids.size();
  for (std::size_t b = 0; b < batch.size(); ++b)
    for (std::size_t j = 0; j < L; ++j) {
      if (!batch[b].attention_mask[j]) continue;
      const auto row =
          out.last_hidden_state[b].row(static_cast<Eigen::Index>(j)).template cast<double>();
      const double m = row.mean();
      const double s = std::sqrt((row.array() - m).square().mean());
      EXPECT_NEAR(m, mean[b * L + j], tol) << tag << " mean of sequence " << b << " row " << j;
      EXPECT_NEAR(s, sd[b * L + j], tol) << tag << " std of sequence " << b << " row " << j;
    }
  double worst = 0.0;
  for (std::size_t k = 0; k < rows.size(); ++k)
    worst = std::max(worst, bertpp::test::max_abs_diff(out.last_hidden_state[0].row(rows[k]).data(),
                                                       want_rows.data() + k * H, H));
  const auto pooled = ref.floats<float>(std::string(tag) + ".pooler_output");
  worst = std::max(
      worst, bertpp::test::max_abs_diff(out.pooler_output.data(), pooled.data(), pooled.size()));
  std::cout << "[ max abs diff ] " << tag << " rows + pooler (float): " << worst << "\n";
  EXPECT_TRUE(all_close(out.pooler_output.data(), pooled.data(), pooled.size(), tol,
                        std::string(tag) + " pooler_output"));
}

TEST(Synthetic, BertBaseMatchesHf) {
  check<bertpp::BertBase<float>>("base", bertpp::BertConfig::base());
}
TEST(Synthetic, BertLargeMatchesHf) {
  check<bertpp::BertLarge<float>>("large", bertpp::BertConfig::large());
}

TEST(Synthetic, PresetsEqualHfConfigs) {
  const auto base = bertpp::BertConfig::base();
  EXPECT_EQ(base.hidden_size, 768);
  EXPECT_EQ(base.num_hidden_layers, 12);
  EXPECT_EQ(base.num_attention_heads, 12);
  EXPECT_EQ(base.intermediate_size, 3072);
  EXPECT_EQ(base.vocab_size, 30522);
  const auto large = bertpp::BertConfig::large();
  EXPECT_EQ(large.hidden_size, 1024);
  EXPECT_EQ(large.num_hidden_layers, 24);
  EXPECT_EQ(large.num_attention_heads, 16);
  EXPECT_EQ(large.intermediate_size, 4096);
  EXPECT_EQ(large.max_position_embeddings, 512);
}

TEST(Synthetic, PresetRefusesOtherSizes) {
  bertpp::BertConfig small = bertpp::BertConfig::base();
  small.num_hidden_layers = 2;
  EXPECT_THROW(bertpp::BertBase<float>(small, bertpp::synthetic_bert_weights(small)),
               bertpp::ConfigError);
}

TEST(Synthetic, GeneratorMatchesPythonDefinitionBitForBit) {
  const Reference ref(bertpp::test::fixture("synthetic/reference.safetensors"));
  for (const char* name :
       {"pooler.dense.bias", "embeddings.LayerNorm.weight", "encoder.layer.0.output.LayerNorm.bias",
        "embeddings.word_embeddings.weight"}) {
    const auto want = ref.floats<float>(std::string("generator.") + name);
    const auto got = bertpp::synthetic_tensor(name, want.size());
    EXPECT_TRUE(all_close(got.data(), want.data(), want.size(), 0.0, name));
  }
}

}  // namespace
