// SPDX-License-Identifier: Apache-2.0
// The real all-MiniLM-L6-v2 (fetched by the test setup into the cache) against HF's
// last_hidden_state for 24 sentences.
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include "reference.hpp"
#include "testutil.hpp"

namespace {

using bertpp::test::all_close;

std::string model_dir() { return bertpp::test::cache_dir() + "/models/all-MiniLM-L6-v2"; }

TEST(MiniLM, LastHiddenStateMatchesHf) {
  const bertpp::test::Reference ref(bertpp::test::fixture("minilm/reference.safetensors"));
  const auto model = bertpp::BertModel<float>::load(model_dir());
  EXPECT_TRUE(model.unused_tensors().empty());
  const auto batch = ref.batch("", /*with_types=*/false);
  ASSERT_GE(batch.size(), 20u);
  bertpp::ForwardOptions opts;
  opts.num_threads = 2;
  const auto out = model.forward(batch, opts);
  const auto want = ref.floats<float>("last_hidden_state");  // real tokens, packed
  const std::size_t H = 384;
  std::size_t row = 0;
  double worst = 0.0;
  for (std::size_t b = 0; b < batch.size(); ++b)
    for (std::size_t j = 0; j < batch[b].ids.size(); ++j) {
      if (!batch[b].attention_mask[j]) continue;
      const float* got = out.last_hidden_state[b].row(static_cast<Eigen::Index>(j)).data();
      ASSERT_LT((row + 1) * H, want.size() + 1);
      EXPECT_TRUE(all_close(got, want.data() + row * H, H, 1e-4,
                            "sentence " + std::to_string(b) + " token " + std::to_string(j)));
      worst = std::max(worst, bertpp::test::max_abs_diff(got, want.data() + row * H, H));
      ++row;
    }
  EXPECT_EQ(row * H, want.size());
  const auto pooled = ref.floats<float>("pooler_output");
  EXPECT_TRUE(
      all_close(out.pooler_output.data(), pooled.data(), pooled.size(), 1e-4, "pooler_output"));
  std::cout << "[ MiniLM ] max abs diff of last_hidden_state vs HF float32: " << worst << "\n";
}

TEST(MiniLM, SequenceAloneEqualsSequenceInBatchOfOtherLengths) {
  const bertpp::test::Reference ref(bertpp::test::fixture("minilm/reference.safetensors"));
  const auto model = bertpp::BertModel<float>::load(model_dir());
  const auto batch = ref.batch("", /*with_types=*/false);
  const auto together = model.forward(batch);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto alone = model.forward({batch[i]});
    const auto& a = alone.last_hidden_state[0];
    EXPECT_TRUE(all_close(together.last_hidden_state[i].data(), a.data(),
                          static_cast<std::size_t>(a.size()), 1e-6,
                          "sentence " + std::to_string(i)));
    EXPECT_TRUE(all_close(together.pooler_output.row(static_cast<Eigen::Index>(i)).data(),
                          alone.pooler_output.data(),
                          static_cast<std::size_t>(alone.pooler_output.size()), 1e-6,
                          "pooler of sentence " + std::to_string(i)));
  }
}

}  // namespace
