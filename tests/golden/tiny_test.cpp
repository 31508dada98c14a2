// SPDX-License-Identifier: Apache-2.0
// The tiny random checkpoints against HF transformers' outputs, in float and double.
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include "reference.hpp"
#include "testutil.hpp"

namespace {

using bertpp::test::all_close;
using bertpp::test::fixture;
using bertpp::test::Reference;

struct Case {
  const char* model;  // fixture folder
  const char* name;   // input case in reference.safetensors
};

// Compares the unmasked rows of HF's [B, L, H] `expected` with bertpp's per-sequence
// matrices (masked rows must be zero).
template <typename T>
void expect_hidden(const std::vector<bertpp::Matrix<T>>& actual, const std::vector<T>& expected,
                   const std::vector<bertpp::Encoding>& batch, double tol,
                   const std::string& what) {
  ASSERT_EQ(actual.size(), batch.size());
  double worst = 0.0;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto L = static_cast<std::size_t>(batch[b].ids.size());
    const auto H = static_cast<std::size_t>(actual[b].cols());
    ASSERT_EQ(static_cast<std::size_t>(actual[b].rows()), L);
    for (std::size_t j = 0; j < L; ++j) {
      const T* got = actual[b].data() + j * H;
      if (batch[b].attention_mask[j] == 0) {
        std::vector<T> zeros(H, T(0));
        EXPECT_TRUE(all_close(got, zeros.data(), H, 0.0, what + " padding row"));
        continue;
      }
      const T* want = expected.data() + (b * L + j) * H;
      worst = std::max(worst, bertpp::test::max_abs_diff(got, want, H));
      EXPECT_TRUE(all_close(got, want, H, tol,
                            what + " sequence " + std::to_string(b) + " row " + std::to_string(j)));
    }
  }
  if (what.find("hidden_states[") == std::string::npos)
    std::cout << "[ max abs diff ] " << what << " (" << (sizeof(T) == 4 ? "float" : "double")
              << "): " << worst << "\n";
}

template <typename T>
void check_case(const Case& c, const char* tag, double tol) {
  const std::string dir = fixture(c.model);
  const Reference ref(dir + "/reference.safetensors");
  const auto model = bertpp::BertModel<T>::load(dir);
  const auto batch = ref.batch(std::string(c.name) + ".");
  bertpp::ForwardOptions opts;
  opts.output_hidden_states = true;
  const auto out = model.forward(batch, opts);
  const std::string key = std::string(c.name) + "." + tag + ".";
  expect_hidden(out.last_hidden_state, ref.floats<T>(key + "last_hidden_state"), batch, tol,
                std::string(c.model) + "/" + c.name + " last_hidden_state");
  const auto pooled = ref.floats<T>(key + "pooler_output");
  ASSERT_EQ(static_cast<std::size_t>(out.pooler_output.size()), pooled.size());
  EXPECT_TRUE(all_close(out.pooler_output.data(), pooled.data(), pooled.size(), tol,
                        std::string(c.model) + "/" + c.name + " pooler_output"));
  // Every layer's hidden states.
  const auto all = ref.floats<T>(key + "hidden_states");
  ASSERT_EQ(out.hidden_states.size(),
            static_cast<std::size_t>(model.config().num_hidden_layers + 1));
  const std::size_t per_layer = all.size() / out.hidden_states.size();
  for (std::size_t l = 0; l < out.hidden_states.size(); ++l) {
    std::vector<T> layer(all.begin() + static_cast<std::ptrdiff_t>(l * per_layer),
                         all.begin() + static_cast<std::ptrdiff_t>((l + 1) * per_layer));
    expect_hidden(
        out.hidden_states[l], layer, batch, tol,
        std::string(c.model) + "/" + c.name + " hidden_states[" + std::to_string(l) + "]");
  }
}

class TinyTest : public ::testing::TestWithParam<Case> {};

TEST_P(TinyTest, FloatMatchesHfFloat32) { check_case<float>(GetParam(), "f32", 1e-5); }
TEST_P(TinyTest, DoubleMatchesHfFloat64) { check_case<double>(GetParam(), "f64", 1e-9); }

INSTANTIATE_TEST_SUITE_P(
    Tiny, TinyTest,
    ::testing::Values(Case{"tiny-bert", "single"}, Case{"tiny-bert", "pair"},
                      Case{"tiny-bert", "batch"}, Case{"tiny-bert", "long"},
                      Case{"tiny-bert-tanh", "single"}, Case{"tiny-bert-tanh", "pair"},
                      Case{"tiny-bert-tanh", "batch"}, Case{"tiny-bert-tanh", "long"}),
    [](const ::testing::TestParamInfo<Case>& i) {
      return std::string(i.param.model[9] == '-' ? "tanh_" : "erf_") + i.param.name;
    });

TEST(Tiny, TaskCheckpointLoadsWithPrefixLegacyNamesAndReportsHeadTensors) {
  const auto model = bertpp::BertModel<float>::load(fixture("tiny-bert-tanh"));
  EXPECT_EQ(model.prefix(), "bert.");
  const std::vector<std::string> unused = {"classifier.bias", "classifier.weight"};
  EXPECT_EQ(model.unused_tensors(), unused);
  bertpp::LoadOptions strict;
  strict.strict = true;
  try {
    bertpp::BertModel<float>::load(fixture("tiny-bert-tanh"), strict);
    FAIL() << "strict load accepted unused tensors";
  } catch (const bertpp::WeightError& e) {
    EXPECT_NE(std::string(e.what()).find("classifier.weight"), std::string::npos) << e.what();
  }
}

TEST(Tiny, BareModelHasNothingUnusedAndMapsWeightsInPlace) {
  const auto model = bertpp::BertModel<float>::load(fixture("tiny-bert"));
  EXPECT_TRUE(model.unused_tensors().empty());
  EXPECT_EQ(model.prefix(), "");
  EXPECT_TRUE(model.embeddings().word_embeddings().is_view());
  const auto as_double = bertpp::BertModel<double>::load(fixture("tiny-bert"));
  EXPECT_FALSE(as_double.embeddings().word_embeddings().is_view());
}

}  // namespace
