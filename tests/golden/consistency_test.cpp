// SPDX-License-Identifier: Apache-2.0
// Batching, threading and tracing: a sequence gives the same output alone and inside a
// batch of other lengths; 8 threads calling forward on one model agree with serial calls;
// the callback sees every named intermediate.
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "testutil.hpp"

namespace {

using bertpp::test::all_close;
using bertpp::test::fixture;

std::vector<bertpp::Encoding> random_batch(std::mt19937& rng, int n, int vocab, int max_len) {
  std::vector<bertpp::Encoding> batch;
  std::uniform_int_distribution<int> len(1, max_len), id(0, vocab - 1), type(0, 1);
  for (int i = 0; i < n; ++i) {
    bertpp::Encoding e;
    const int L = len(rng);
    for (int j = 0; j < L; ++j) {
      e.ids.push_back(id(rng));
      e.type_ids.push_back(j < L / 2 ? 0 : type(rng));
    }
    batch.push_back(std::move(e));
  }
  return batch;
}

// In double the only difference batching can make is rounding (~1e-15): any leak between
// sequences or a position shift would show far above 1e-12. The float version of this check
// runs on the real MiniLM (minilm_test.cpp): Eigen's GEMM kernels round a row differently
// depending on where it falls in a panel, so float results agree to ~1e-7, not bit for bit.
TEST(Consistency, SequenceAloneEqualsSequenceInBatch) {
  const auto model = bertpp::BertModel<double>::load(fixture("tiny-bert"));
  std::mt19937 rng(42);
  const auto batch = random_batch(rng, 6, 99, 40);
  bertpp::ForwardOptions two;
  two.num_threads = 2;
  const auto together = model.forward(batch, two);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto alone = model.forward({batch[i]});
    const auto& a = alone.last_hidden_state[0];
    const auto& b = together.last_hidden_state[i];
    ASSERT_EQ(a.rows(), b.rows());
    EXPECT_TRUE(all_close(b.data(), a.data(), static_cast<std::size_t>(a.size()), 1e-12,
                          "sequence " + std::to_string(i)));
    EXPECT_TRUE(all_close(together.pooler_output.row(static_cast<Eigen::Index>(i)).data(),
                          alone.pooler_output.data(),
                          static_cast<std::size_t>(alone.pooler_output.size()), 1e-12,
                          "pooler " + std::to_string(i)));
  }
}

TEST(Consistency, PaddingIsDroppedAndRestoredAsZeros) {
  const auto model = bertpp::BertModel<double>::load(fixture("tiny-bert"));
  bertpp::Encoding plain = bertpp::Encoding::from_ids({2, 10, 11, 12, 3});
  bertpp::Encoding padded =
      bertpp::Encoding::from_ids({2, 10, 11, 12, 3, 0, 0}, {}, {1, 1, 1, 1, 1, 0, 0});
  const auto out = model.forward({plain, padded});
  ASSERT_EQ(out.last_hidden_state[1].rows(), 7);
  EXPECT_TRUE(
      all_close(out.last_hidden_state[1].data(), out.last_hidden_state[0].data(), 5 * 36, 1e-12));
  EXPECT_EQ(out.last_hidden_state[1].bottomRows(2).cwiseAbs().maxCoeff(), 0.0);
}

TEST(Consistency, EightThreadsAgreeWithSerialCalls) {
  const auto model = bertpp::BertModel<float>::load(fixture("tiny-bert"));
  std::mt19937 rng(7);
  std::vector<std::vector<bertpp::Encoding>> inputs;
  for (int t = 0; t < 8; ++t) inputs.push_back(random_batch(rng, 3, 99, 40));
  std::vector<bertpp::BertOutput<float>> serial, parallel(8);
  for (const auto& in : inputs) serial.push_back(model.forward(in));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      bertpp::ForwardOptions opts;
      opts.num_threads = 1 + t % 2;  // half of them run their own pool of two
      for (int rep = 0; rep < 5; ++rep)
        parallel[static_cast<std::size_t>(t)] =
            model.forward(inputs[static_cast<std::size_t>(t)], opts);
    });
  for (auto& th : threads) th.join();
  for (std::size_t t = 0; t < 8; ++t)
    for (std::size_t s = 0; s < inputs[t].size(); ++s) {
      const auto& a = serial[t].last_hidden_state[s];
      const auto& b = parallel[t].last_hidden_state[s];
      ASSERT_EQ(a.rows(), b.rows());
      EXPECT_TRUE(all_close(b.data(), a.data(), static_cast<std::size_t>(a.size()), 1e-6,
                            "thread " + std::to_string(t) + " sequence " + std::to_string(s)));
    }
}

TEST(Consistency, CallbackSeesEveryNamedIntermediate) {
  const auto model = bertpp::BertModel<float>::load(fixture("tiny-bert"));
  std::vector<std::string> names;
  bertpp::Matrix<float> last;
  const auto out = model.forward({bertpp::Encoding::from_ids({2, 5, 6, 3})}, {},
                                 [&](const std::string& name, const bertpp::Matrix<float>& v) {
                                   names.push_back(name);
                                   if (name == "layer.1.output") last = v;
                                 });
  const std::vector<std::string> expected = {"embeddings",     "layer.0.attention",
                                             "layer.0.output", "layer.1.attention",
                                             "layer.1.output", "pooler"};
  EXPECT_EQ(names, expected);
  EXPECT_TRUE(all_close(last.data(), out.last_hidden_state[0].data(), 4 * 36, 0.0));
}

}  // namespace
