// SPDX-License-Identifier: Apache-2.0
// Row-wise LayerNorm and softmax on the context's threads, with the SIMD kernels of the
// layer's family (fp32) or the scalar reference (double, or the generic family).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "bertpp/core/context.hpp"
#include "bertpp/core/types.hpp"
#include "bertpp/exec/detail/kernels_f32.hpp"
#include "bertpp/ops/attention.hpp"
#include "bertpp/ops/layer_norm.hpp"

namespace bertpp::exec {

/// @brief y [n x h] <- LayerNorm(x [n x h]) with gamma [h], beta [h], rows split over the
/// context (x == y: in place). `kernels` null (or without SIMD) selects the scalar path
/// (statistics in double).
template <typename T>
void layer_norm(const T* x, T* y, std::int64_t n, std::int64_t h, const T* gamma, const T* beta,
                double eps, const F32Kernels* kernels, Context& ctx) {
  const ScopedOpTimer timer(ctx, "layer norm");
  auto rows = [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      T* row = y + static_cast<std::int64_t>(r) * h;
      if (x != y)
        std::copy(x + static_cast<std::int64_t>(r) * h, x + (static_cast<std::int64_t>(r) + 1) * h,
                  row);
      if constexpr (std::is_same_v<T, float>) {
        if (kernels && kernels->simd()) {
          kernels->layer_norm(row, h, gamma, beta, static_cast<float>(eps));
          continue;
        }
      }
      ops::layer_norm_row(row, h, gamma, beta, eps);
    }
  };
  const auto rows_n = static_cast<std::size_t>(n);
  if (ctx.num_threads() > 1 && rows_n > 1)
    ctx.parallel_for(rows_n, rows);
  else
    rows(0, rows_n);
}

/// @brief x [n x h] <- LayerNorm(x), in place (as above).
template <typename T>
void layer_norm(Matrix<T>& x, const T* gamma, const T* beta, double eps, const F32Kernels* kernels,
                Context& ctx) {
  layer_norm(x.data(), x.data(), x.rows(), x.cols(), gamma, beta, eps, kernels, ctx);
}

/// @brief softmax(scale * row) of each row of s [n x m], in place (one thread).
template <typename T, typename S>
void softmax_rows(S&& s, T scale, const F32Kernels* kernels) {
  if constexpr (std::is_same_v<T, float>) {
    if (kernels && kernels->simd()) {
      for (Eigen::Index r = 0; r < s.rows(); ++r) kernels->softmax(&s(r, 0), s.cols(), scale);
      return;
    }
  }
  s *= scale;
  ops::softmax_rows(s);
}

}  // namespace bertpp::exec
