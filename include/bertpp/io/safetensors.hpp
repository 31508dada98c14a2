// SPDX-License-Identifier: Apache-2.0
// Reader of the safetensors format: 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}}, then the data area. The file is memory-mapped and
// every header entry is checked before any byte of data is read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertpp/core/detail/json_error.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/io/detail/mapped_file.hpp"
#include "bertpp/io/dtype.hpp"

namespace bertpp {

/// @brief One tensor's entry in a safetensors file: a view into the mapped data.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  const unsigned char* data = nullptr;  ///< first byte (alignment not guaranteed)
  std::size_t nbytes = 0;
  std::string file;  ///< the file it lives in, for error messages

  /// @brief Number of elements (product of the shape; 1 for a scalar).
  std::size_t numel() const {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    return n;
  }
};

/// @brief Formats a shape as "[a, b]".
inline std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// @brief A memory-mapped, validated safetensors file. Immutable; share it with shared_ptr
/// to keep mapped tensors alive.
class SafeTensorsFile {
 public:
  /// @brief Maps and validates `path`.
  /// @throws IoError if the file cannot be opened; FormatError naming the file (and tensor)
  /// when the header is truncated, not JSON, points outside the file, has overlapping
  /// ranges, an unknown dtype, or a byte length that disagrees with shape x dtype size.
  static std::shared_ptr<const SafeTensorsFile> open(const std::string& path) {
    return std::shared_ptr<const SafeTensorsFile>(new SafeTensorsFile(path));
  }

  /// @brief The file's path.
  const std::string& path() const noexcept { return path_; }
  /// @brief All tensors by name.
  const std::map<std::string, TensorInfo>& tensors() const noexcept { return tensors_; }
  /// @brief The optional `__metadata__` string map.
  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  /// @brief The file's bytes (a read-only mapping where the OS has one).
  const detail::MappedFile& mapping() const noexcept { return map_; }
  /// @brief The tensor called `name`, or nullptr.
  const TensorInfo* find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
  }

 private:
  explicit SafeTensorsFile(const std::string& path) : path_(path), map_(path) { parse(); }

  [[noreturn]] void fail(const std::string& why) const {
    throw FormatError(path_ + ": invalid safetensors file: " + why);
  }

  void parse() {
    const std::size_t size = map_.size();
    const unsigned char* bytes = map_.data();
    if (size < 8)
      fail("file is " + std::to_string(size) + " bytes, too short for the header length");
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
    // The length itself is not printed: for a file that is not safetensors it is 8 bytes of
    // the file's contents.
    if (header_len > size - 8)
      fail("the declared header length exceeds the file size of " + std::to_string(size) +
           " bytes");
    const std::size_t data_start = 8 + static_cast<std::size_t>(header_len);
    const std::size_t data_size = size - data_start;
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(bytes + 8, bytes + data_start);
    } catch (const nlohmann::json::exception& e) {
      fail("header is not valid JSON (" + detail::json_error_text(e) + ")");
    }
    if (!header.is_object()) fail("header is not a JSON object");
    std::vector<std::pair<std::size_t, std::size_t>> ranges;  // (begin, end) of non-empty tensors
    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) fail("__metadata__ is not an object");
        for (const auto& [k, v] : entry.items())
          if (v.is_string()) metadata_[k] = v.get<std::string>();
        continue;
      }
      std::size_t offset = 0;
      TensorInfo t = parse_entry(name, entry, data_size, offset);
      t.data = bytes + data_start + offset;
      if (t.nbytes > 0) ranges.emplace_back(offset, offset + t.nbytes);
      tensors_.emplace(name, std::move(t));
    }
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i)
      if (ranges[i].first < ranges[i - 1].second)
        fail("tensor data ranges overlap at byte " + std::to_string(ranges[i].first) +
             " of the data area");
  }

  // Checks one header entry; `offset` receives its begin offset within the data area.
  TensorInfo parse_entry(const std::string& name, const nlohmann::json& e, std::size_t data_size,
                         std::size_t& offset) const {
    const std::string where = "tensor '" + name + "': ";
    if (!e.is_object()) fail(where + "entry is not an object");
    auto dt = e.find("dtype");
    auto sh = e.find("shape");
    auto off = e.find("data_offsets");
    if (dt == e.end() || !dt->is_string()) fail(where + "missing or non-string 'dtype'");
    if (sh == e.end() || !sh->is_array()) fail(where + "missing or non-list 'shape'");
    if (off == e.end() || !off->is_array() || off->size() != 2)
      fail(where + "'data_offsets' must be a list of two integers");
    TensorInfo t;
    t.name = name;
    t.file = path_;
    if (!parse_dtype(dt->get<std::string>(), t.dtype))
      fail(where + "unsupported dtype '" + dt->get<std::string>() + "'");
    std::size_t numel = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) fail(where + "shape holds a non-integer or negative dimension");
      const auto dim = d.get<std::uint64_t>();
      if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
          (dim != 0 && numel > std::numeric_limits<std::size_t>::max() / dim))
        fail(where + "shape " + sh->dump() + " is too large");
      numel *= static_cast<std::size_t>(dim);
      t.shape.push_back(static_cast<std::int64_t>(dim));
    }
    for (const auto& o : *off)
      if (!o.is_number_unsigned()) fail(where + "data_offsets must be non-negative integers");
    const auto begin = (*off)[0].get<std::uint64_t>();
    const auto end = (*off)[1].get<std::uint64_t>();
    if (begin > end)
      fail(where + "data_offsets begin " + std::to_string(begin) + " > end " + std::to_string(end));
    if (end > data_size)
      fail(where + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
           ") point outside the data area of " + std::to_string(data_size) + " bytes");
    const std::size_t esize = dtype_size(t.dtype);
    if (numel > std::numeric_limits<std::size_t>::max() / esize || numel * esize != end - begin)
      fail(where + "byte length " + std::to_string(end - begin) + " does not match shape " +
           shape_string(t.shape) + " x " + std::to_string(esize) + " bytes (" +
           dtype_name(t.dtype) + ")");
    t.nbytes = static_cast<std::size_t>(end - begin);
    offset = static_cast<std::size_t>(begin);
    return t;
  }

  std::string path_;
  detail::MappedFile map_;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// @brief One float32 tensor to write: name, shape and row-major values.
struct F32Tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  const float* data = nullptr;
};

/// @brief Writes `tensors` as a safetensors file (dtype F32, little-endian hosts).
/// @throws IoError when the file cannot be written.
inline void write_safetensors(const std::string& path, const std::vector<F32Tensor>& tensors) {
  nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
  std::size_t offset = 0;
  for (const auto& t : tensors) {
    std::size_t n = 1;
    for (auto d : t.shape) n *= static_cast<std::size_t>(d);
    header[t.name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + n * 4}}};
    offset += n * 4;
  }
  std::string text = header.dump();
  while (text.size() % 8) text += ' ';
  std::ofstream out(path, std::ios::binary);
  const std::uint64_t len = text.size();
  unsigned char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(len >> (8 * i));
  out.write(reinterpret_cast<const char*>(le), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& t : tensors) {
    std::size_t n = 1;
    for (auto d : t.shape) n *= static_cast<std::size_t>(d);
    out.write(reinterpret_cast<const char*>(t.data), static_cast<std::streamsize>(n * 4));
  }
  if (!out) throw IoError(path + ": cannot write");
}

}  // namespace bertpp
