// SPDX-License-Identifier: Apache-2.0
// Element-wise activations, exact forms by default.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>

#include "bertpp/core/error.hpp"
#include "bertpp/core/threads.hpp"
#include "bertpp/core/types.hpp"

namespace bertpp::ops {

/// The activations HF's `hidden_act` names.
enum class Activation { gelu, gelu_tanh, relu, silu };

/// @brief Maps HF's `hidden_act` string to an Activation.
/// @throws ConfigError for an unknown name.
inline Activation activation_from_name(const std::string& name) {
  if (name == "gelu") return Activation::gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::gelu_tanh;
  if (name == "relu") return Activation::relu;
  if (name == "silu" || name == "swish") return Activation::silu;
  throw ConfigError("unknown hidden_act '" + name + "'");
}

/// @brief GELU, erf form: 0.5 x (1 + erf(x / sqrt(2))).
template <typename T>
inline T gelu(T x) {
  return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
}

/// @brief GELU, tanh form (HF gelu_new): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
template <typename T>
inline T gelu_tanh(T x) {
  return T(0.5) * x * (T(1) + std::tanh(T(0.79788456080286535588) * (x + T(0.044715) * x * x * x)));
}

/// @brief Applies `act` in place to every element of x [n x m], rows split across the pool.
template <typename T>
void activate(Matrix<T>& x, Activation act, ThreadPool* pool = nullptr) {
  auto rows = [&](std::size_t begin, std::size_t end) {
    T* p = x.data() + begin * static_cast<std::size_t>(x.cols());
    T* const stop = x.data() + end * static_cast<std::size_t>(x.cols());
    switch (act) {
      case Activation::gelu:
        for (; p != stop; ++p) *p = gelu(*p);
        break;
      case Activation::gelu_tanh:
        for (; p != stop; ++p) *p = gelu_tanh(*p);
        break;
      case Activation::relu:
        for (; p != stop; ++p) *p = *p > T(0) ? *p : T(0);
        break;
      case Activation::silu:
        for (; p != stop; ++p) *p = *p / (T(1) + std::exp(-*p));
        break;
    }
  };
  const auto n = static_cast<std::size_t>(x.rows());
  if (pool && pool->size() > 1 && n > 1)
    pool->parallel_for(n, rows);
  else
    rows(0, n);
}

}  // namespace bertpp::ops
