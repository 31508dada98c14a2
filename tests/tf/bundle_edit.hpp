// SPDX-License-Identifier: Apache-2.0
// Byte-level edits of a tensor bundle for the bad-input tests: find each entry of a good
// `.index` file (key, where its value and its block lie), change bytes, and re-seal the
// block's checksum so the edit reaches the check under test; and the error expectation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <bertpp/io/detail/crc32c.hpp>
#include <bertpp/io/detail/protobuf.hpp>

namespace bertpp::test {

/// @brief Expects `f` to throw E whose message contains each of `parts` (testutil.hpp's
/// expect_error checks one).
template <typename E>
void expect_error_naming(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning " << parts.at(0);
  } catch (const E& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

/// @brief The bytes of file `path`.
inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// @brief A `.index` file image with the position of every entry.
class IndexImage {
 public:
  struct Entry {
    std::string key;
    std::size_t value_at = 0, value_len = 0;  // the serialized BundleEntryProto
    std::size_t block_at = 0, block_size = 0;
  };

  explicit IndexImage(std::string bytes) : bytes_(std::move(bytes)) {
    const auto* base = reinterpret_cast<const unsigned char*>(bytes_.data());
    const unsigned char* p = base + bytes_.size() - 48;
    std::uint64_t off = 0, size = 0;
    detail::read_varint(p, base + bytes_.size(), off);  // metaindex
    detail::read_varint(p, base + bytes_.size(), size);
    detail::read_varint(p, base + bytes_.size(), off);  // index
    detail::read_varint(p, base + bytes_.size(), size);
    for (const auto& ie : walk(off, size)) {
      const unsigned char* q = base + ie.value_at;
      std::uint64_t doff = 0, dsize = 0;
      detail::read_varint(q, base + bytes_.size(), doff);
      detail::read_varint(q, base + bytes_.size(), dsize);
      for (const auto& e : walk(doff, dsize)) entries_.push_back(e);
    }
  }

  /// @brief The entry of `key`.
  const Entry& entry(const std::string& key) const {
    for (const auto& e : entries_)
      if (e.key == key) return e;
    throw std::runtime_error("no entry " + key);
  }
  /// @brief The mutable bytes.
  std::string& bytes() { return bytes_; }
  /// @brief Recomputes the masked crc32c of the block holding `e`.
  void reseal(const Entry& e) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes_.data()) + e.block_at;
    const std::uint32_t m = detail::crc32c_mask(detail::crc32c(p, e.block_size + 1));
    for (int i = 0; i < 4; ++i)
      bytes_[e.block_at + e.block_size + 1 + static_cast<std::size_t>(i)] =
          static_cast<char>((m >> (8 * i)) & 0xFF);
  }
  /// @brief Byte position of the first byte of field `tag` (e.g. 0x20: offset) in `e`'s value.
  std::size_t field(const Entry& e, unsigned char tag) const {
    for (std::size_t i = e.value_at; i < e.value_at + e.value_len; ++i)
      if (static_cast<unsigned char>(bytes_[i]) == tag) return i + 1;
    throw std::runtime_error("no field in " + e.key);
  }

 private:
  std::vector<Entry> walk(std::uint64_t off, std::uint64_t size) const {
    const auto* base = reinterpret_cast<const unsigned char*>(bytes_.data());
    const unsigned char* p = base + off;
    const std::uint32_t restarts = detail::load_le32(p + size - 4);
    const unsigned char* end = p + size - 4 - 4 * restarts;
    std::vector<Entry> out;
    std::string key;
    while (p < end) {
      std::uint64_t shared = 0, non_shared = 0, len = 0;
      detail::read_varint(p, end, shared);
      detail::read_varint(p, end, non_shared);
      detail::read_varint(p, end, len);
      key.resize(shared);
      key.append(reinterpret_cast<const char*>(p), non_shared);
      p += non_shared;
      out.push_back({key, static_cast<std::size_t>(p - base), static_cast<std::size_t>(len),
                     static_cast<std::size_t>(off), static_cast<std::size_t>(size)});
      p += len;
    }
    return out;
  }

  std::string bytes_;
  std::vector<Entry> entries_;
};

}  // namespace bertpp::test
