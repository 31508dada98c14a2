// SPDX-License-Identifier: Apache-2.0
// The protobuf wire format, read by hand (varints, fixed32/64, length-delimited fields),
// for the few TensorFlow messages bertpp reads. Every read is bounds-checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "bertpp/core/error.hpp"

namespace bertpp::detail {

/// @brief Reads a varint (at most 64 bits) at `p`, advancing it; false when it runs past
/// `end` or is longer than 10 bytes.
inline bool read_varint(const unsigned char*& p, const unsigned char* end, std::uint64_t& out) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const unsigned char b = *p++;
    v |= static_cast<std::uint64_t>(b & 0x7Fu) << shift;
    if ((b & 0x80u) == 0) {
      out = v;
      return true;
    }
  }
  return false;
}

/// @brief Little-endian fixed32 at `p` (any alignment).
inline std::uint32_t load_le32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

/// @brief A cursor over one serialized protobuf message. Errors name `where`.
class ProtoReader {
 public:
  enum Wire { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

  ProtoReader(const unsigned char* p, std::size_t n, std::string where)
      : p_(p), end_(p + n), where_(std::move(where)) {}

  /// @brief Moves to the next field; false at the end of the message.
  /// @throws FormatError on a malformed tag or an unsupported wire type.
  bool next() {
    if (p_ == end_) return false;
    const std::uint64_t tag = varint();
    field_ = tag >> 3;
    wire_ = static_cast<int>(tag & 7u);
    if (field_ == 0 ||
        (wire_ != kVarint && wire_ != kFixed64 && wire_ != kBytes && wire_ != kFixed32))
      fail("bad field tag " + std::to_string(tag));
    return true;
  }
  std::uint64_t field() const noexcept { return field_; }
  int wire() const noexcept { return wire_; }

  /// @brief The current field as a varint. @throws FormatError on another wire type.
  std::uint64_t varint_field() {
    expect(kVarint);
    return varint();
  }
  /// @brief The current field as fixed32. @throws FormatError on another wire type.
  std::uint32_t fixed32_field() {
    expect(kFixed32);
    need(4);
    const std::uint32_t v = load_le32(p_);
    p_ += 4;
    return v;
  }
  /// @brief The current length-delimited field: sets `data` and returns its length.
  /// @throws FormatError on another wire type or a length past the message.
  std::size_t bytes_field(const unsigned char*& data) {
    expect(kBytes);
    const std::uint64_t n = varint();
    need(n);
    data = p_;
    p_ += n;
    return static_cast<std::size_t>(n);
  }
  /// @brief Skips the current field.
  void skip() {
    switch (wire_) {
      case kVarint:
        (void)varint();
        break;
      case kFixed64:
        need(8);
        p_ += 8;
        break;
      case kFixed32:
        need(4);
        p_ += 4;
        break;
      default: {
        const unsigned char* d = nullptr;
        (void)bytes_field(d);
      }
    }
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw FormatError(where_ + ": malformed protobuf: " + why);
  }

 private:
  std::uint64_t varint() {
    std::uint64_t v = 0;
    if (!read_varint(p_, end_, v)) fail("truncated varint");
    return v;
  }
  void need(std::uint64_t n) const {
    if (n > static_cast<std::uint64_t>(end_ - p_)) fail("field runs past the end of the message");
  }
  void expect(int wire) const {
    if (wire_ != wire)
      fail("field " + std::to_string(field_) + " has wire type " + std::to_string(wire_) +
           ", expected " + std::to_string(wire));
  }

  const unsigned char* p_;
  const unsigned char* end_;
  std::string where_;
  std::uint64_t field_ = 0;
  int wire_ = 0;
};

}  // namespace bertpp::detail
