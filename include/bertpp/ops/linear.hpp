// SPDX-License-Identifier: Apache-2.0
// Linear layer as HF stores it: y = x W^T + b with W [out x in], row-major.
#pragma once

#include <cstddef>

#include "bertpp/core/threads.hpp"
#include "bertpp/core/types.hpp"

namespace bertpp::ops {

/// @brief x [n x in], w [out x in], b [out] -> y [n x out]. With a pool, the output
/// columns (rows of w) are split across its threads; each thread runs one GEMM.
template <typename T, typename X, typename W, typename B>
void linear(const X& x, const W& w, const B& b, Matrix<T>& y, ThreadPool* pool = nullptr) {
  const Eigen::Index n = x.rows();
  const Eigen::Index out = w.rows();
  y.resize(n, out);
  auto chunk = [&](std::size_t begin, std::size_t end) {
    const auto c0 = static_cast<Eigen::Index>(begin);
    const auto cn = static_cast<Eigen::Index>(end - begin);
    y.middleCols(c0, cn).noalias() = x * w.middleRows(c0, cn).transpose();
    y.middleCols(c0, cn).rowwise() += b.segment(c0, cn).transpose();
  };
  if (pool && pool->size() > 1 && n * out >= 4096) {
    // Split on multiples of 16 columns so each GEMM keeps whole SIMD panels.
    const std::size_t blocks = static_cast<std::size_t>((out + 15) / 16);
    pool->parallel_for(blocks, [&](std::size_t b0, std::size_t b1) {
      chunk(b0 * 16, std::min<std::size_t>(b1 * 16, static_cast<std::size_t>(out)));
    });
  } else {
    chunk(0, static_cast<std::size_t>(out));
  }
}

}  // namespace bertpp::ops
