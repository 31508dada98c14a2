// SPDX-License-Identifier: Apache-2.0
// Scaled dot-product attention of one head over one sequence, and row softmax.
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "bertpp/core/types.hpp"

namespace bertpp::ops {

/// @brief Softmax of each row of s [n x m] (a matrix or a map of one), in place
/// (max-subtracted).
template <typename S>
void softmax_rows(S&& s) {
  using T = typename std::decay_t<S>::Scalar;
  for (Eigen::Index r = 0; r < s.rows(); ++r) {
    auto row = s.row(r);
    const T max = row.maxCoeff();
    T sum = T(0);
    for (Eigen::Index c = 0; c < s.cols(); ++c) {
      const T e = std::exp(row[c] - max);
      row[c] = e;
      sum += e;
    }
    row /= sum;
  }
}

/// @brief q [L x d], k [L x d], v [L x d] -> out [L x d] = softmax(q k^T * scale) v.
/// `scores` is scratch space ([L x L] after the call). The sequence holds no padding
/// (padding is dropped before the model), so no mask is needed.
template <typename T, typename Q, typename K, typename V, typename O>
void attention(const Q& q, const K& k, const V& v, T scale, Matrix<T>& scores, O&& out) {
  scores.noalias() = q * k.transpose();
  scores *= scale;
  softmax_rows(scores);
  out.noalias() = scores * v;
}

}  // namespace bertpp::ops
