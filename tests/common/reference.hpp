// SPDX-License-Identifier: Apache-2.0
// Reading reference fixtures (safetensors files written by tools/make_fixtures.py) with
// bertpp's own reader.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <bertpp/core/encoding.hpp>
#include <bertpp/io/safetensors.hpp>

namespace bertpp::test {

/// @brief A reference file: typed access to its tensors by name.
class Reference {
 public:
  explicit Reference(const std::string& path) : file_(SafeTensorsFile::open(path)) {}

  const TensorInfo& info(const std::string& name) const {
    const TensorInfo* t = file_->find(name);
    if (!t) throw std::runtime_error(file_->path() + ": no tensor " + name);
    return *t;
  }
  std::vector<std::int64_t> shape(const std::string& name) const { return info(name).shape; }

  /// Values of a float tensor (F32 or F64) as T.
  template <typename T>
  std::vector<T> floats(const std::string& name) const {
    const TensorInfo& t = info(name);
    std::vector<T> out(t.numel());
    detail::convert_floats<T>(t.dtype, t.data, out.size(), out.data());
    return out;
  }

  /// Values of an I64 tensor.
  std::vector<std::int64_t> ints(const std::string& name) const {
    const TensorInfo& t = info(name);
    if (t.dtype != DType::I64) throw std::runtime_error(name + " is not I64");
    std::vector<std::int64_t> out(t.numel());
    std::memcpy(out.data(), t.data, t.nbytes);
    return out;
  }

  /// The batch `<prefix>.input_ids` / token_type_ids / attention_mask [B, L] as Encodings.
  std::vector<Encoding> batch(const std::string& prefix, bool with_types = true) const {
    const auto ids = ints(prefix + "input_ids");
    const auto mask = ints(prefix + "attention_mask");
    const auto dims = shape(prefix + "input_ids");
    std::vector<std::int64_t> types(ids.size(), 0);
    if (with_types) types = ints(prefix + "token_type_ids");
    std::vector<Encoding> out;
    for (std::int64_t b = 0; b < dims[0]; ++b) {
      Encoding e;
      for (std::int64_t j = 0; j < dims[1]; ++j) {
        const auto k = static_cast<std::size_t>(b * dims[1] + j);
        e.ids.push_back(static_cast<std::int32_t>(ids[k]));
        e.type_ids.push_back(static_cast<std::int32_t>(types[k]));
        e.attention_mask.push_back(static_cast<std::int32_t>(mask[k]));
      }
      out.push_back(std::move(e));
    }
    return out;
  }

 private:
  std::shared_ptr<const SafeTensorsFile> file_;
};

}  // namespace bertpp::test
