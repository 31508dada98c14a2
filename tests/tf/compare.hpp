// SPDX-License-Identifier: Apache-2.0
// Comparing bertpp's per-sequence outputs with a reference laid out [B, L, cols].
#pragma once

#include <bertpp/core/encoding.hpp>
#include <bertpp/core/types.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "testutil.hpp"

namespace bertpp::test {

/// @brief Max |actual - expected| over the unmasked rows; `expected` is [B, L, cols] row-major.
template <typename T>
double masked_diff(const std::vector<bertpp::Matrix<T>>& actual, const std::vector<T>& expected,
                   const std::vector<bertpp::Encoding>& batch) {
  double worst = 0.0;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto L = batch[b].ids.size();
    const auto C = static_cast<std::size_t>(actual.at(b).cols());
    EXPECT_EQ(static_cast<std::size_t>(actual[b].rows()), L);
    for (std::size_t j = 0; j < L; ++j)
      if (batch[b].attention_mask[j])
        worst = std::max(worst, bertpp::test::max_abs_diff(actual[b].data() + j * C,
                                                           expected.data() + (b * L + j) * C, C));
  }
  return worst;
}

/// @brief Max |actual - expected| over a whole matrix.
template <typename T>
double dense_diff(const bertpp::Matrix<T>& actual, const std::vector<T>& expected) {
  EXPECT_EQ(static_cast<std::size_t>(actual.size()), expected.size());
  return bertpp::test::max_abs_diff(actual.data(), expected.data(), expected.size());
}

}  // namespace bertpp::test
