// SPDX-License-Identifier: Apache-2.0
// Eigen aliases. Activations and weights are row-major, as PyTorch stores them.
#pragma once

#include <Eigen/Core>

namespace bertpp {

/// Row-major dynamic matrix: activations are [tokens x hidden], HF Linear weights [out x in].
template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Column vector (biases, LayerNorm parameters).
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
/// Read-only views of memory owned elsewhere (mapped weights).
template <typename T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;
template <typename T>
using ConstVectorMap = Eigen::Map<const Vector<T>>;

}  // namespace bertpp
