// SPDX-License-Identifier: Apache-2.0
// Sentence-embedding pooling over the encoder's output (sentence-transformers' Pooling and
// Normalize modules): CLS, mean, max or mean/sqrt(len) over the unmasked tokens.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "bertpp/core/encoding.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/core/types.hpp"

namespace bertpp {

/// How token vectors become one sentence vector.
enum class PoolingMode { cls, mean, max, mean_sqrt_len };

/// @brief The mode named as in sentence-transformers' 1_Pooling/config.json keys
/// ("cls", "mean", "max", "mean_sqrt_len_tokens").
/// @throws ConfigError for an unknown name.
inline PoolingMode pooling_mode_from_name(const std::string& name) {
  if (name == "cls") return PoolingMode::cls;
  if (name == "mean") return PoolingMode::mean;
  if (name == "max") return PoolingMode::max;
  if (name == "mean_sqrt_len_tokens" || name == "mean_sqrt_len") return PoolingMode::mean_sqrt_len;
  throw ConfigError("unknown pooling mode '" + name + "' (cls, mean, max, mean_sqrt_len_tokens)");
}

/// @brief hidden[i] [len_i x h] with mask of batch[i] -> [batch x h], one pooled vector per
/// sequence; L2-normalised when `normalize`. An empty mask counts every row.
/// @throws InputError when the counts disagree: outputs and inputs, rows and mask entries,
/// or widths.
template <typename T>
Matrix<T> pool(const std::vector<Matrix<T>>& hidden, const std::vector<Encoding>& batch,
               PoolingMode mode, bool normalize) {
  if (hidden.size() != batch.size())
    throw InputError("pool: " + std::to_string(hidden.size()) + " outputs for " +
                     std::to_string(batch.size()) + " inputs");
  const Eigen::Index h = hidden.empty() ? 0 : hidden[0].cols();
  Matrix<T> out = Matrix<T>::Zero(static_cast<Eigen::Index>(hidden.size()), h);
  for (std::size_t s = 0; s < hidden.size(); ++s) {
    auto row = out.row(static_cast<Eigen::Index>(s));
    const auto& m = hidden[s];
    const auto& mask = batch[s].attention_mask;
    if (m.cols() != h)
      throw InputError("pool: output " + std::to_string(s) + " has " + std::to_string(m.cols()) +
                       " columns, output 0 has " + std::to_string(h));
    if (!mask.empty() && mask.size() != static_cast<std::size_t>(m.rows()))
      throw InputError("pool: output " + std::to_string(s) + " has " + std::to_string(m.rows()) +
                       " rows but input " + std::to_string(s) + " has an attention mask of " +
                       std::to_string(mask.size()));
    auto real = [&](Eigen::Index j) {
      return mask.empty() || mask[static_cast<std::size_t>(j)] != 0;
    };
    Eigen::Index count = 0;
    if (mode == PoolingMode::cls) {
      for (Eigen::Index j = 0; j < m.rows() && count == 0; ++j)
        if (real(j)) {
          row = m.row(j);
          count = 1;
        }
    } else if (mode == PoolingMode::max) {
      row.setConstant(std::numeric_limits<T>::lowest());
      for (Eigen::Index j = 0; j < m.rows(); ++j)
        if (real(j)) {
          row = row.cwiseMax(m.row(j));
          ++count;
        }
    } else {
      for (Eigen::Index j = 0; j < m.rows(); ++j)
        if (real(j)) {
          row += m.row(j);
          ++count;
        }
      if (count > 0)
        row /= mode == PoolingMode::mean ? static_cast<T>(count) : std::sqrt(static_cast<T>(count));
    }
    if (count == 0) row.setZero();
    if (normalize) {
      const T norm = row.norm();
      row /= std::max(norm, T(1e-12));  // torch.nn.functional.normalize's eps
    }
  }
  return out;
}

/// @brief Cosine similarity of two vectors (0 when either is zero).
template <typename A, typename B>
double cosine(const A& a, const B& b) {
  const double na = a.template cast<double>().norm(), nb = b.template cast<double>().norm();
  if (na == 0.0 || nb == 0.0) return 0.0;
  return a.template cast<double>().dot(b.template cast<double>()) / (na * nb);
}

}  // namespace bertpp
