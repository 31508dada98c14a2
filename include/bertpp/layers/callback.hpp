// SPDX-License-Identifier: Apache-2.0
// The tracing hook: an optional callback that sees each named intermediate.
#pragma once

#include <functional>
#include <string>

#include "bertpp/core/types.hpp"

namespace bertpp {

/// @brief Called with each named intermediate of a forward pass: "embeddings",
/// "layer.<i>.attention" (after the attention block's LayerNorm), "layer.<i>.output" (the
/// layer's output), "pooler". Values are
/// packed activations [tokens x width] (pooler: [batch x hidden]).
template <typename T>
using Callback = std::function<void(const std::string& name, const Matrix<T>& value)>;

}  // namespace bertpp
