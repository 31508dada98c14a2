// SPDX-License-Identifier: Apache-2.0
// Deterministic full-size BERT weights with no download, bit for bit equal to the ones
// tools/synthetic_weights.py gives HF transformers (see that file for the definition).
// For tests and benchmarks of BERT-base / BERT-large shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/io/weight_store.hpp"

namespace bertpp {
namespace detail {

inline std::uint64_t fnv1a64(const std::string& s) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

inline std::uint64_t splitmix64(std::uint64_t x) {
  std::uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline bool ends_with(const std::string& s, const char* suffix) {
  const std::string t(suffix);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

}  // namespace detail

/// @brief Element values of the synthetic tensor `name` (HF name without prefix).
inline std::vector<float> synthetic_tensor(const std::string& name, std::size_t numel) {
  double center = 0.0, half = 0.035;
  if (detail::ends_with(name, "LayerNorm.weight")) {
    center = 1.0;
    half = 0.1;
  } else if (detail::ends_with(name, "LayerNorm.bias")) {
    half = 0.05;
  }
  const std::uint64_t seed = detail::fnv1a64(name);
  std::vector<float> v(numel);
  for (std::size_t i = 0; i < numel; ++i) {
    const double u = static_cast<double>(detail::splitmix64(seed + i) >> 40) / 16777216.0;
    v[i] = static_cast<float>(center + (2.0 * u - 1.0) * half);
  }
  return v;
}

/// @brief Every tensor of a BertModel with config `c` (with pooler), filled with the
/// synthetic generator.
template <typename Table>
WeightStore synthetic_weights(const Table& table) {
  WeightStore store;
  for (const auto& spec : table) {
    std::size_t n = 1;
    for (auto d : spec.shape) n *= static_cast<std::size_t>(d);
    store.add(spec.name, synthetic_tensor(spec.name, n), spec.shape);
  }
  return store;
}

}  // namespace bertpp
