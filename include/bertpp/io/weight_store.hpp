// SPDX-License-Identifier: Apache-2.0
// WeightStore: every tensor of a checkpoint by name (one or more safetensors files, or
// tensors made in memory), and Tensor<T>: one weight as the model's scalar, mapped with no
// copy when the stored dtype already is T, converted otherwise.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertpp/core/detail/json_error.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/core/types.hpp"
#include "bertpp/io/dtype.hpp"
#include "bertpp/io/safetensors.hpp"
#include "bertpp/io/tf_saved_model.hpp"

namespace bertpp {

/// @brief A read-only tensor of T: a view of mapped memory or an owned buffer.
template <typename T>
class Tensor {
 public:
  Tensor() = default;
  /// @brief A tensor owning `values` with the given shape.
  Tensor(std::vector<T> values, std::vector<std::int64_t> shape) : shape_(std::move(shape)) {
    auto buffer = std::make_shared<std::vector<T>>(std::move(values));
    data_ = buffer->data();
    owner_ = std::move(buffer);
  }
  /// @brief A view of `data`, kept alive by `owner`; `mapping`, when given, is the file
  /// mapping (owned by `owner`) that `data` lies in.
  Tensor(const T* data, std::vector<std::int64_t> shape, std::shared_ptr<const void> owner,
         const detail::MappedFile* mapping = nullptr)
      : owner_(std::move(owner)),
        data_(data),
        shape_(std::move(shape)),
        view_(true),
        mapping_(mapping) {}

  const T* data() const noexcept { return data_; }
  const std::vector<std::int64_t>& shape() const noexcept { return shape_; }
  bool empty() const noexcept { return data_ == nullptr; }
  /// @brief Whether this tensor shares the stored data (no copy was made at load).
  bool is_view() const noexcept { return view_; }
  /// @brief Number of elements.
  std::size_t numel() const noexcept {
    std::size_t n = data_ ? 1 : 0;
    for (const auto d : shape_) n *= static_cast<std::size_t>(d);
    return n;
  }
  /// @brief A hint that the caller keeps its own copy (a packed weight): a view of a mapped
  /// file gives its pages back to the OS, which reads them again from the file if the
  /// tensor (or a tied one) is touched later. The values stay the same; nothing else changes.
  void release_pages() const noexcept {
    if (mapping_) mapping_->release(data_, numel() * sizeof(T));
  }

  /// @brief The tensor as a [rows x cols] row-major matrix (2-D tensors).
  ConstMatrixMap<T> matrix() const {
    return ConstMatrixMap<T>(data_, static_cast<Eigen::Index>(shape_.at(0)),
                             static_cast<Eigen::Index>(shape_.at(1)));
  }
  /// @brief The tensor as a vector (1-D tensors).
  ConstVectorMap<T> vector() const {
    return ConstVectorMap<T>(data_, static_cast<Eigen::Index>(shape_.at(0)));
  }

 private:
  std::shared_ptr<const void> owner_;
  const T* data_ = nullptr;
  std::vector<std::int64_t> shape_;
  bool view_ = false;
  const detail::MappedFile* mapping_ = nullptr;
};

namespace detail {

/// @brief The path of `name` (a file or folder named by a file of the model folder `dir`,
/// e.g. a shard of model.safetensors.index.json), checked to stay inside the folder: a
/// relative name with no `..` component, whose resolved path (symlinks followed,
/// std::filesystem::weakly_canonical) lies under the resolved folder. `what` says who named
/// it, e.g. "<dir>/model.safetensors.index.json: weight_map shard".
/// @throws FormatError naming `what` and `name` otherwise.
inline std::string path_inside(const std::string& dir, const std::string& name,
                               const std::string& what) {
  namespace fs = std::filesystem;
  auto refuse = [&](const std::string& why) -> std::string {
    throw FormatError(what + " '" + name + "' " + why +
                      "; it must name a file inside the model folder");
  };
  const fs::path rel(name);
  if (name.empty() || name.find('\0') != std::string::npos) return refuse("is not a file name");
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    return refuse("is an absolute path");
  for (const auto& part : rel)
    if (part == "..") return refuse("has a '..' component");
  const fs::path full = fs::path(dir) / rel;
  std::error_code ec1, ec2;
  const fs::path base = fs::weakly_canonical(fs::path(dir), ec1);
  const fs::path real = fs::weakly_canonical(full, ec2);
  if (ec1 || ec2) return refuse("cannot be resolved");
  auto b = base.begin();
  auto r = real.begin();
  for (; b != base.end() && !b->empty(); ++b, ++r)
    if (r == real.end() || *r != *b)
      return refuse("resolves (through a symbolic link) outside the folder");
  if (r == real.end() || r->empty()) return refuse("is the model folder itself");
  return full.string();
}

}  // namespace detail

/// @brief All tensors of a checkpoint, by name. Cheap to copy (shares the mappings).
class WeightStore {
 public:
  WeightStore() = default;

  /// @brief The weights of a checkpoint folder: `model.safetensors`, or the shards
  /// listed in `model.safetensors.index.json`, or a TensorFlow checkpoint as Google released
  /// BERT (`bert_model.ckpt.index` + `.data-*`), or a TF2 SavedModel's `variables/`
  /// (io/tf_checkpoint.hpp, io/tf_saved_model.hpp).
  /// @throws IoError when neither exists; FormatError for a malformed file.
  static WeightStore from_dir(const std::string& dir) {
    WeightStore store;
    const std::string single = dir + "/model.safetensors";
    const std::string index = dir + "/model.safetensors.index.json";
    if (std::ifstream(single).good()) {
      store.add_file(single);
    } else if (std::ifstream(index).good()) {
      std::ifstream in(index);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(in);
      } catch (const nlohmann::json::exception& e) {
        throw FormatError(index + ": not valid JSON (" + detail::json_error_text(e) + ")");
      }
      auto map = j.find("weight_map");
      if (map == j.end() || !map->is_object())
        throw FormatError(index + ": missing object 'weight_map'");
      std::set<std::string> shards;
      for (const auto& [name, file] : map->items()) {
        if (!file.is_string())
          throw FormatError(index + ": weight_map['" + name + "'] is not a string");
        shards.insert(file.get<std::string>());
      }
      for (const auto& shard : shards)
        store.add_file(detail::path_inside(dir, shard, index + ": weight_map shard"));
    } else if (std::vector<OwnedTensor> tf; tf_folder_tensors(dir, tf)) {
      for (auto& t : tf) store.add_view(std::move(t.info), std::move(t.owner));
    } else {
      throw IoError(dir +
                    ": no model.safetensors, model.safetensors.index.json, *.ckpt.index or "
                    "variables/ (convert other formats with tools/convert_checkpoint.py)");
    }
    return store;
  }

  /// @brief Adds every tensor of one safetensors file.
  /// @throws FormatError for a malformed file or a name already present.
  void add_file(const std::string& path) {
    auto file = SafeTensorsFile::open(path);
    for (const auto& [name, info] : file->tensors()) {
      if (entries_.count(name))
        throw FormatError(path + ": tensor '" + name + "' is also in " + entries_[name].info.file);
      entries_[name] = Entry{info, file, &file->mapping()};
    }
  }

  /// @brief Adds a tensor whose bytes `info.data` stay valid while `owner` lives (no copy).
  /// @throws FormatError when a tensor of that name is already present.
  void add_view(TensorInfo info, std::shared_ptr<const void> owner) {
    if (entries_.count(info.name))
      throw FormatError(info.file + ": tensor '" + info.name + "' is also in " +
                        entries_[info.name].info.file);
    const std::string name = info.name;
    entries_[name] = Entry{std::move(info), std::move(owner)};
  }

  /// @brief Adds a tensor held in memory (float32 values), e.g. generated weights.
  void add(const std::string& name, std::vector<float> values, std::vector<std::int64_t> shape) {
    auto buffer = std::make_shared<std::vector<float>>(std::move(values));
    TensorInfo info;
    info.name = name;
    info.dtype = DType::F32;
    info.shape = std::move(shape);
    info.data = reinterpret_cast<const unsigned char*>(buffer->data());
    info.nbytes = buffer->size() * sizeof(float);
    info.file = "<memory>";
    if (info.numel() != buffer->size())
      throw WeightError("tensor '" + name + "': " + std::to_string(buffer->size()) +
                        " values do not fill shape " + shape_string(info.shape));
    entries_[name] = Entry{std::move(info), std::move(buffer)};
  }

  /// @brief The tensor called `name`, or nullptr.
  const TensorInfo* find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second.info;
  }

  /// @brief Every tensor name, sorted.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.push_back(e.first);
    return out;
  }

  /// @brief Tensor `name` as T, checked against `shape`: mapped in place when the stored
  /// dtype is T and the data is aligned, converted otherwise.
  /// @throws WeightError naming the tensor and file on a missing tensor, a non-float dtype
  /// or a shape mismatch (with both shapes).
  template <typename T>
  Tensor<T> get(const std::string& name, const std::vector<std::int64_t>& shape) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) throw WeightError("missing tensor '" + name + "'");
    const TensorInfo& info = it->second.info;
    if (!is_float_dtype(info.dtype))
      throw WeightError(info.file + ": tensor '" + name + "' has dtype " + dtype_name(info.dtype) +
                        "; expected F32, F16, BF16 or F64");
    if (info.shape != shape)
      throw WeightError(info.file + ": tensor '" + name + "' has shape " +
                        shape_string(info.shape) + ", expected " + shape_string(shape));
    const bool same = (std::is_same<T, float>::value && info.dtype == DType::F32) ||
                      (std::is_same<T, double>::value && info.dtype == DType::F64);
    if (same && reinterpret_cast<std::uintptr_t>(info.data) % alignof(T) == 0)
      return Tensor<T>(reinterpret_cast<const T*>(info.data), info.shape, it->second.owner,
                       it->second.mapping);
    std::vector<T> values(info.numel());
    detail::convert_floats<T>(info.dtype, info.data, values.size(), values.data());
    return Tensor<T>(std::move(values), info.shape);
  }

 private:
  struct Entry {
    TensorInfo info;
    std::shared_ptr<const void> owner;            // keeps the mapping or buffer alive
    const detail::MappedFile* mapping = nullptr;  // the file mapping the data lies in, if any
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace bertpp
