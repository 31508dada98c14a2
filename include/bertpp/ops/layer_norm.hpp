// SPDX-License-Identifier: Apache-2.0
// LayerNorm over the last dimension, with the residual add BERT always puts before it.
#pragma once

#include <cmath>
#include <cstddef>

#include "bertpp/core/threads.hpp"
#include "bertpp/core/types.hpp"

namespace bertpp::ops {

/// @brief v [h] <- LayerNorm(v) with gamma [h], beta [h] (indexable); biased variance, two
/// passes, statistics accumulated in double.
template <typename T, typename G, typename B>
void layer_norm_row(T* v, Eigen::Index h, const G& gamma, const B& beta, double eps) {
  double mean = 0.0;
  for (Eigen::Index i = 0; i < h; ++i) mean += static_cast<double>(v[i]);
  mean /= static_cast<double>(h);
  double var = 0.0;
  for (Eigen::Index i = 0; i < h; ++i) {
    const double d = static_cast<double>(v[i]) - mean;
    var += d * d;
  }
  var /= static_cast<double>(h);
  const double inv = 1.0 / std::sqrt(var + eps);
  for (Eigen::Index i = 0; i < h; ++i)
    v[i] = static_cast<T>((static_cast<double>(v[i]) - mean) * inv) * gamma[i] + beta[i];
}

/// @brief x [n x h] <- LayerNorm(x + residual) with gamma [h], beta [h]; biased variance,
/// two passes, statistics accumulated in double. `residual` may be null (plain LayerNorm).
template <typename T, typename G, typename B>
void add_layer_norm(Matrix<T>& x, const Matrix<T>* residual, const G& gamma, const B& beta,
                    double eps, ThreadPool* pool = nullptr) {
  const Eigen::Index h = x.cols();
  auto rows = [&](std::size_t begin, std::size_t end) {
    for (auto r = static_cast<Eigen::Index>(begin); r < static_cast<Eigen::Index>(end); ++r) {
      T* v = x.data() + r * h;
      if (residual) {
        const T* s = residual->data() + r * h;
        for (Eigen::Index i = 0; i < h; ++i) v[i] += s[i];
      }
      layer_norm_row(v, h, gamma, beta, eps);
    }
  };
  const auto n = static_cast<std::size_t>(x.rows());
  if (pool && pool->size() > 1 && n > 1)
    pool->parallel_for(n, rows);
  else
    rows(0, n);
}

}  // namespace bertpp::ops
