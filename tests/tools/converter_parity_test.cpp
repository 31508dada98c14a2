// SPDX-License-Identifier: Apache-2.0
// The converter's output runs in bertpp exactly as HF's own safetensors of the same model.
#include <bertpp/models/bert.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "testutil.hpp"

namespace {

bertpp::LoadOptions strict_loading() {
  bertpp::LoadOptions o;
  o.strict = true;
  return o;
}

using bertpp::BertModel;
using bertpp::Encoding;

std::string converted(const std::string& dtype) {
  return std::string(BERTPP_CONVERTED_DIR) + "/tiny-converted-" + dtype;
}

// Three sequences: different lengths, both token types, one right-padded.
std::vector<Encoding> batch() {
  return {Encoding::from_ids({96, 5, 17, 42, 97}),
          Encoding::from_ids({96, 1, 2, 3, 97, 60, 61, 97}, {0, 0, 0, 0, 0, 1, 1, 1}),
          Encoding::from_ids({96, 88, 7, 97, 0, 0}, {}, {1, 1, 1, 1, 0, 0})};
}

double max_diff(const bertpp::BertOutput<float>& a, const bertpp::BertOutput<float>& b) {
  EXPECT_EQ(a.last_hidden_state.size(), b.last_hidden_state.size());
  double m = 0.0;
  for (std::size_t i = 0; i < a.last_hidden_state.size(); ++i) {
    const auto& x = a.last_hidden_state[i];
    const auto& y = b.last_hidden_state[i];
    EXPECT_EQ(x.rows(), y.rows());
    EXPECT_EQ(x.cols(), y.cols());
    m = std::max(
        m, bertpp::test::max_abs_diff(x.data(), y.data(), static_cast<std::size_t>(x.size())));
  }
  EXPECT_EQ(a.pooler_output.size(), b.pooler_output.size());
  return std::max(m, bertpp::test::max_abs_diff(a.pooler_output.data(), b.pooler_output.data(),
                                                static_cast<std::size_t>(a.pooler_output.size())));
}

TEST(ConverterParity, ConvertedFloat32GivesExactlyHfSafetensorsOutputs) {
  const auto reference =
      BertModel<float>::load(bertpp::test::fixture("converter/tiny-safetensors"));
  const auto model = BertModel<float>::load(converted("keep"), strict_loading());
  EXPECT_TRUE(model.has_pooler());
  const auto want = reference.forward(batch());
  const auto got = model.forward(batch());
  ASSERT_EQ(got.last_hidden_state.size(), 3u);
  EXPECT_EQ(got.last_hidden_state[1].rows(), 8);
  EXPECT_EQ(got.last_hidden_state[1].cols(), 36);
  EXPECT_EQ(max_diff(got, want), 0.0);
}

TEST(ConverterParity, HalfPrecisionOutputsLoadAndStayClose) {
  const auto reference =
      BertModel<float>::load(bertpp::test::fixture("converter/tiny-safetensors"));
  const auto want = reference.forward(batch());
  // f16 keeps 11 significant bits, bf16 8: the tolerances are a few units of each.
  for (const auto& [dtype, tol] : {std::pair<std::string, double>{"f16", 0.01}, {"bf16", 0.05}}) {
    const auto model = BertModel<float>::load(converted(dtype), strict_loading());
    const double d = max_diff(model.forward(batch()), want);
    EXPECT_GT(d, 0.0) << dtype << ": weights were not rounded";
    EXPECT_LE(d, tol) << dtype;
    std::cout << dtype << " max abs diff vs float32: " << d << "\n";
  }
}

}  // namespace
