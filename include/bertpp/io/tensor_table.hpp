// SPDX-License-Identifier: Apache-2.0
// One table of tensors: a model lists the tensors it expects (name, shape, required) in one
// place; WeightSet loads the whole table from a WeightStore, checking each entry, and
// remembers which stored tensors it used so the rest can be reported.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bertpp/core/error.hpp"
#include "bertpp/io/weight_store.hpp"

namespace bertpp {

/// @brief One entry of a model's tensor table (HF name relative to the model's prefix).
struct TensorSpec {
  std::string name;
  std::vector<std::int64_t> shape;
  bool required = true;
};

/// @brief The stored names that may hold the tensor HF calls `name`: the name itself and,
/// for LayerNorm parameters, the legacy TF-era `gamma` / `beta`.
inline std::vector<std::string> stored_name_candidates(const std::string& name) {
  std::vector<std::string> out{name};
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("LayerNorm.weight"))
    out.push_back(name.substr(0, name.size() - 6) + "gamma");
  else if (ends_with("LayerNorm.bias"))
    out.push_back(name.substr(0, name.size() - 4) + "beta");
  return out;
}

/// @brief The loaded, checked tensors of one table, as T.
template <typename T>
class WeightSet {
 public:
  WeightSet() = default;

  /// @brief Loads every entry of `table` from `store`, each under `prefix` + name.
  /// @throws WeightError naming the first missing required tensor, or a tensor whose shape
  /// or dtype is wrong (with both shapes).
  WeightSet(const WeightStore& store, const std::vector<TensorSpec>& table,
            const std::string& prefix = "") {
    for (const auto& spec : table) {
      const std::string* found = nullptr;
      std::vector<std::string> candidates = stored_name_candidates(prefix + spec.name);
      for (const auto& c : candidates)
        if (store.find(c)) {
          found = &c;
          break;
        }
      if (!found) {
        if (spec.required)
          throw WeightError("missing tensor '" + prefix + spec.name + "' (shape " +
                            shape_string(spec.shape) + ")");
        continue;
      }
      tensors_[spec.name] = store.get<T>(*found, spec.shape);
      consumed_.insert(*found);
    }
  }

  /// @brief Whether the table entry `name` was found.
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }

  /// @brief The tensor of table entry `name`.
  /// @throws WeightError if it was optional and absent.
  const Tensor<T>& at(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw WeightError("tensor '" + name + "' was not loaded");
    return it->second;
  }

  /// @brief The stored names this set used.
  const std::set<std::string>& consumed() const noexcept { return consumed_; }

 private:
  std::map<std::string, Tensor<T>> tensors_;
  std::set<std::string> consumed_;
};

/// @brief The stored tensors not in `consumed` and not in `ignorable`, sorted.
inline std::vector<std::string> unused_tensors(const WeightStore& store,
                                               const std::set<std::string>& consumed,
                                               const std::set<std::string>& ignorable = {}) {
  std::vector<std::string> out;
  for (const auto& name : store.names())
    if (!consumed.count(name) && !ignorable.count(name)) out.push_back(name);
  return out;
}

}  // namespace bertpp
