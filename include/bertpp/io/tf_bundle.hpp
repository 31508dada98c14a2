// SPDX-License-Identifier: Apache-2.0
// Reader of TensorFlow's tensor bundle (the V2 checkpoint format): `P.index`, a
// LevelDB-style table of BundleEntryProto by tensor name, and the shards
// `P.data-NNNNN-of-NNNNN`, memory-mapped. No TensorFlow and no protobuf library: the table,
// its checksums and the few messages are read by hand (docs/tf-formats.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bertpp/core/error.hpp"
#include "bertpp/io/detail/crc32c.hpp"
#include "bertpp/io/detail/mapped_file.hpp"
#include "bertpp/io/detail/protobuf.hpp"
#include "bertpp/io/dtype.hpp"
#include "bertpp/io/safetensors.hpp"

namespace bertpp {

/// TensorFlow DataType numbers (types.proto) the reader knows by name.
namespace tf_dtype {
constexpr int kFloat = 1, kDouble = 2, kInt32 = 3, kUint8 = 4, kInt16 = 5, kInt8 = 6, kString = 7,
              kComplex64 = 8, kInt64 = 9, kBool = 10, kBfloat16 = 14, kHalf = 19;
}  // namespace tf_dtype

/// @brief TensorFlow's name of a DataType number ("DT_FLOAT", ...; "DT_<n>" when unknown).
inline std::string tf_dtype_name(int dt) {
  switch (dt) {
    case tf_dtype::kFloat:
      return "DT_FLOAT";
    case tf_dtype::kDouble:
      return "DT_DOUBLE";
    case tf_dtype::kInt32:
      return "DT_INT32";
    case tf_dtype::kUint8:
      return "DT_UINT8";
    case tf_dtype::kInt16:
      return "DT_INT16";
    case tf_dtype::kInt8:
      return "DT_INT8";
    case tf_dtype::kString:
      return "DT_STRING";
    case tf_dtype::kComplex64:
      return "DT_COMPLEX64";
    case tf_dtype::kInt64:
      return "DT_INT64";
    case tf_dtype::kBool:
      return "DT_BOOL";
    case tf_dtype::kBfloat16:
      return "DT_BFLOAT16";
    case tf_dtype::kHalf:
      return "DT_HALF";
    default:
      return "DT_<" + std::to_string(dt) + ">";
  }
}

/// @brief The float dtype of a TF DataType; false for every other type.
inline bool tf_float_dtype(int dt, DType& out) {
  switch (dt) {
    case tf_dtype::kFloat:
      out = DType::F32;
      return true;
    case tf_dtype::kDouble:
      out = DType::F64;
      return true;
    case tf_dtype::kHalf:
      out = DType::F16;
      return true;
    case tf_dtype::kBfloat16:
      out = DType::BF16;
      return true;
    default:
      return false;
  }
}

/// @brief One BundleEntryProto: where a tensor's bytes are and what they hold.
struct TfBundleEntry {
  std::string name;
  int dtype = 0;  ///< TF DataType number
  std::vector<std::int64_t> shape;
  std::int32_t shard_id = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::uint32_t masked_crc32c = 0;  ///< as stored (masked)
  bool sliced = false;              ///< a partitioned tensor (its slices are separate keys)

  /// @brief Number of elements (1 for a scalar).
  std::uint64_t numel() const {
    std::uint64_t n = 1;
    for (auto d : shape) n *= static_cast<std::uint64_t>(d);
    return n;
  }
};

/// @brief An open tensor bundle: every entry of `P.index`, and its shards mapped. Immutable;
/// share it with shared_ptr to keep views of its data alive.
class TfBundle {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  // The libFuzzer target skips the checksums (computed, not enforced), so that mutated
  // inputs reach the parsing behind them; the tests check the checksums.
  static constexpr bool kCheckCrc = false;
#else
  static constexpr bool kCheckCrc = true;
#endif

 public:
  /// @brief Opens the bundle with prefix `prefix` (the path without `.index`).
  /// @throws IoError naming the file when the index or a shard is missing or unreadable;
  /// FormatError naming the file (and tensor) for a truncated or corrupt index (bad magic,
  /// block checksum, compressed block, malformed entry), a big-endian bundle, an entry
  /// whose bytes lie outside its shard or disagree with its shape and dtype.
  static std::shared_ptr<const TfBundle> open(const std::string& prefix) {
    return std::shared_ptr<const TfBundle>(new TfBundle(prefix));
  }

  /// @brief The prefix the bundle was opened with.
  const std::string& prefix() const noexcept { return prefix_; }
  /// @brief The `.index` path, for messages.
  std::string index_path() const { return prefix_ + ".index"; }
  /// @brief Every tensor entry by name (the header's empty key excluded).
  const std::map<std::string, TfBundleEntry>& entries() const noexcept { return entries_; }
  /// @brief The entry called `name`, or nullptr.
  const TfBundleEntry* find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }

  /// @brief The bytes of `e`, checked against its crc32c.
  /// @throws FormatError naming the tensor and shard on a checksum mismatch or a sliced tensor.
  const unsigned char* bytes(const TfBundleEntry& e) const {
    if (e.sliced)
      throw FormatError(index_path() + ": tensor '" + e.name +
                        "' is partitioned (saved in slices); bertpp does not read sliced tensors");
    const unsigned char* p =
        e.size ? shards_[static_cast<std::size_t>(e.shard_id)]->data() + e.offset : nullptr;
    const std::uint32_t crc = e.dtype == tf_dtype::kString
                                  ? string_crc32c(e, p)
                                  : detail::crc32c(p, static_cast<std::size_t>(e.size));
    if (crc != detail::crc32c_unmask(e.masked_crc32c) && kCheckCrc)
      throw FormatError(shard_path(e.shard_id) + ": tensor '" + e.name +
                        "': crc32c mismatch (data corrupt)");
    return p;
  }

  /// @brief Float tensor `name` as a view into the mapped shard (checksum checked).
  /// @throws WeightError when it is missing; FormatError for another dtype (named), a sliced
  /// tensor or a checksum mismatch.
  TensorInfo tensor(const std::string& name) const {
    const TfBundleEntry* e = find(name);
    if (!e) throw WeightError(index_path() + ": no tensor '" + name + "'");
    TensorInfo t;
    if (!tf_float_dtype(e->dtype, t.dtype))
      throw FormatError(index_path() + ": tensor '" + name + "' has dtype " +
                        tf_dtype_name(e->dtype) +
                        "; bertpp reads DT_FLOAT, DT_DOUBLE, DT_HALF and DT_BFLOAT16");
    t.name = name;
    t.shape = e->shape;
    t.data = bytes(*e);
    t.nbytes = static_cast<std::size_t>(e->size);
    t.file = index_path();
    return t;
  }

  /// @brief The elements of DT_STRING tensor `name` (checksums checked).
  /// @throws WeightError when missing; FormatError for another dtype or malformed bytes.
  std::vector<std::string> strings(const std::string& name) const {
    const TfBundleEntry* e = find(name);
    if (!e) throw WeightError(index_path() + ": no tensor '" + name + "'");
    if (e->dtype != tf_dtype::kString)
      throw FormatError(index_path() + ": tensor '" + name + "' is " + tf_dtype_name(e->dtype) +
                        ", expected DT_STRING");
    const unsigned char* p = bytes(*e);
    std::vector<std::uint64_t> lengths;
    p = string_lengths(*e, p, lengths);
    std::vector<std::string> out;
    for (auto len : lengths) {
      out.emplace_back(reinterpret_cast<const char*>(p), static_cast<std::size_t>(len));
      p += len;
    }
    return out;
  }

  /// @brief The path of shard `id`.
  std::string shard_path(std::int32_t id) const {
    char buf[32];
    std::snprintf(buf, sizeof buf, ".data-%05d-of-%05d", static_cast<int>(id),
                  static_cast<int>(num_shards_));
    return prefix_ + buf;
  }

 private:
  explicit TfBundle(const std::string& prefix) : prefix_(prefix), index_(prefix + ".index") {
    parse_index();
    for (std::int32_t i = 0; i < num_shards_; ++i)
      shards_.push_back(std::make_unique<detail::MappedFile>(shard_path(i)));
    check_entries();
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw FormatError(index_path() + ": invalid tensor bundle index: " + why);
  }

  // A DT_STRING tensor's layout: varint64 lengths, a 4-byte masked crc32c of the lengths,
  // then the bytes. Reads the lengths into `lengths` and returns the first string byte.
  // @throws FormatError when the lengths run past the tensor's bytes.
  const unsigned char* string_lengths(const TfBundleEntry& e, const unsigned char* p,
                                      std::vector<std::uint64_t>& lengths) const {
    const unsigned char* end = p + e.size;
    auto bad = [&](const std::string& why) {
      return FormatError(shard_path(e.shard_id) + ": string tensor '" + e.name + "': " + why);
    };
    const std::uint64_t n = e.numel();
    if (n > e.size) throw bad("more elements than bytes");
    lengths.assign(static_cast<std::size_t>(n), 0);
    for (auto& len : lengths)
      if (!detail::read_varint(p, end, len)) throw bad("truncated length");
    if (end - p < 4) throw bad("truncated length checksum");
    p += 4;
    std::uint64_t total = 0;
    for (auto len : lengths) {
      if (len > static_cast<std::uint64_t>(end - p) - total)
        throw bad("element runs past the tensor's bytes");
      total += len;
    }
    return p;
  }

  // The crc32c TF's BundleWriter records for a string tensor: over each length as a
  // little-endian uint32 (uint64 when larger), the 4 length-checksum bytes, then the bytes.
  std::uint32_t string_crc32c(const TfBundleEntry& e, const unsigned char* p) const {
    std::vector<std::uint64_t> lengths;
    const unsigned char* data = string_lengths(e, p, lengths);
    std::uint32_t crc = 0;
    for (auto len : lengths) {
      unsigned char le[8];
      for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>((len >> (8 * i)) & 0xFFu);
      crc = detail::crc32c_extend(crc, le, len <= 0xFFFFFFFFu ? 4 : 8);
    }
    crc = detail::crc32c_extend(crc, data - 4, 4);
    return detail::crc32c_extend(crc, data, static_cast<std::size_t>(p + e.size - data));
  }

  struct Handle {
    std::uint64_t offset = 0, size = 0;
  };

  Handle read_handle(const unsigned char*& p, const unsigned char* end, const char* what) const {
    Handle h;
    if (!detail::read_varint(p, end, h.offset) || !detail::read_varint(p, end, h.size))
      fail(std::string("truncated ") + what + " block handle");
    return h;
  }

  // The contents of the block at `h`, after checking its trailer (type 0, masked crc32c).
  std::pair<const unsigned char*, std::size_t> read_block(const Handle& h, const char* what) const {
    const std::size_t file = index_.size();
    if (h.offset > file || h.size > file - h.offset || file - h.offset - h.size < 5)
      fail(std::string(what) + " block [" + std::to_string(h.offset) + ", +" +
           std::to_string(h.size) + ") lies outside the " + std::to_string(file) + "-byte file");
    const unsigned char* p = index_.data() + h.offset;
    const unsigned char type = p[h.size];
    const std::uint32_t stored = detail::load_le32(p + h.size + 1);
    if (detail::crc32c_unmask(stored) != detail::crc32c(p, static_cast<std::size_t>(h.size) + 1) &&
        kCheckCrc)
      fail(std::string(what) + " block at byte " + std::to_string(h.offset) + ": crc32c mismatch");
    if (type != 0)
      fail(std::string(what) + " block at byte " + std::to_string(h.offset) +
           " is compressed (type " + std::to_string(type) + (type == 1 ? ", snappy" : "") +
           "); bertpp reads uncompressed bundles only, as TensorFlow writes them");
    return {p, static_cast<std::size_t>(h.size)};
  }

  // Calls f(key, value, value_len) for each entry of a block.
  template <typename F>
  void each_entry(std::pair<const unsigned char*, std::size_t> block, const char* what,
                  F&& f) const {
    const unsigned char* p = block.first;
    const std::size_t n = block.second;
    if (n < 4) fail(std::string(what) + " block shorter than its restart count");
    const std::uint32_t restarts = detail::load_le32(p + n - 4);
    if (restarts == 0 || restarts > (n - 4) / 4)
      fail(std::string(what) + " block has a bad restart count");
    const unsigned char* end = p + n - 4 - 4 * static_cast<std::size_t>(restarts);
    std::string key;
    while (p < end) {
      std::uint64_t shared = 0, non_shared = 0, value_len = 0;
      if (!detail::read_varint(p, end, shared) || !detail::read_varint(p, end, non_shared) ||
          !detail::read_varint(p, end, value_len))
        fail(std::string("truncated entry in a ") + what + " block");
      if (shared > key.size())
        fail(std::string("an entry of a ") + what + " block shares more than the previous key");
      if (non_shared > static_cast<std::uint64_t>(end - p) ||
          value_len > static_cast<std::uint64_t>(end - p) - non_shared)
        fail(std::string("an entry of a ") + what + " block runs past the block");
      key.resize(static_cast<std::size_t>(shared));
      key.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(non_shared));
      p += non_shared;
      f(key, p, static_cast<std::size_t>(value_len));
      p += value_len;
    }
  }

  void parse_index() {
    const std::size_t size = index_.size();
    if (size < 48)
      fail("file is " + std::to_string(size) + " bytes, shorter than the 48-byte footer");
    const unsigned char* footer = index_.data() + size - 48;
    static const unsigned char magic[8] = {0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb};
    for (int i = 0; i < 8; ++i)
      if (footer[40 + i] != magic[i])
        fail("bad magic number in the footer (not a TensorFlow checkpoint index)");
    const unsigned char* p = footer;
    (void)read_handle(p, footer + 40, "metaindex");
    const Handle index = read_handle(p, footer + 40, "index");
    bool header_seen = false;
    each_entry(read_block(index, "index"), "index",
               [&](const std::string&, const unsigned char* v, std::size_t n) {
                 const unsigned char* q = v;
                 const Handle data = read_handle(q, v + n, "data");
                 each_entry(read_block(data, "data"), "data",
                            [&](const std::string& key, const unsigned char* e, std::size_t len) {
                              if (key.empty()) {
                                parse_header(e, len);
                                header_seen = true;
                              } else {
                                if (entries_.count(key)) fail("tensor '" + key + "' appears twice");
                                entries_[key] = parse_entry(key, e, len);
                              }
                            });
               });
    if (!header_seen) fail("no BundleHeaderProto (empty key)");
  }

  void parse_header(const unsigned char* p, std::size_t n) {
    detail::ProtoReader r(p, n, index_path() + ": BundleHeaderProto");
    num_shards_ = 0;
    while (r.next()) {
      if (r.field() == 1) {
        num_shards_ = static_cast<std::int32_t>(r.varint_field());
      } else if (r.field() == 2) {
        if (r.varint_field() != 0)
          fail("the bundle is big-endian; bertpp reads little-endian bundles only");
      } else if (r.field() == 3) {
        const unsigned char* v = nullptr;
        const std::size_t len = r.bytes_field(v);
        detail::ProtoReader ver(v, len, index_path() + ": VersionDef");
        while (ver.next()) {
          if (ver.field() == 2 && ver.varint_field() > 1)
            fail("bundle format version needs a newer reader (min_consumer > 1)");
          else if (ver.field() != 2)
            ver.skip();
        }
      } else {
        r.skip();
      }
    }
    if (num_shards_ < 1 || num_shards_ > 100000)
      fail("num_shards is " + std::to_string(num_shards_));
  }

  TfBundleEntry parse_entry(const std::string& key, const unsigned char* p, std::size_t n) const {
    detail::ProtoReader r(p, n, index_path() + ": entry of tensor '" + key + "'");
    TfBundleEntry e;
    e.name = key;
    while (r.next()) {
      switch (r.field()) {
        case 1:
          e.dtype = static_cast<int>(r.varint_field());
          break;
        case 2: {
          const unsigned char* s = nullptr;
          const std::size_t len = r.bytes_field(s);
          e.shape = parse_shape(key, s, len);
          break;
        }
        case 3:
          e.shard_id = static_cast<std::int32_t>(r.varint_field());
          break;
        case 4:
          e.offset = r.varint_field();
          break;
        case 5:
          e.size = r.varint_field();
          break;
        case 6:
          e.masked_crc32c = r.fixed32_field();
          break;
        case 7:
          e.sliced = true;
          r.skip();
          break;
        default:
          r.skip();
      }
    }
    return e;
  }

  std::vector<std::int64_t> parse_shape(const std::string& key, const unsigned char* p,
                                        std::size_t n) const {
    detail::ProtoReader r(p, n, index_path() + ": shape of tensor '" + key + "'");
    std::vector<std::int64_t> shape;
    while (r.next()) {
      if (r.field() == 2) {
        const unsigned char* d = nullptr;
        const std::size_t len = r.bytes_field(d);
        detail::ProtoReader dim(d, len, index_path() + ": shape of tensor '" + key + "'");
        std::int64_t size = 0;
        while (dim.next()) {
          if (dim.field() == 1)
            size = static_cast<std::int64_t>(dim.varint_field());
          else
            dim.skip();
        }
        if (size < 0 || size > (std::int64_t{1} << 48)) r.fail("dimension " + std::to_string(size));
        shape.push_back(size);
      } else if (r.field() == 3) {
        if (r.varint_field() != 0) r.fail("unknown rank");
      } else {
        r.skip();
      }
    }
    return shape;
  }

  // Every entry's bytes lie in its shard and, for fixed-size dtypes, match its shape.
  void check_entries() const {
    for (const auto& [name, e] : entries_) {
      if (e.sliced) continue;
      const std::string where = index_path() + ": tensor '" + name + "' ";
      if (e.shard_id < 0 || e.shard_id >= num_shards_)
        throw FormatError(where + "is in shard " + std::to_string(e.shard_id) + " of " +
                          std::to_string(num_shards_));
      const std::size_t shard = shards_[static_cast<std::size_t>(e.shard_id)]->size();
      if (e.offset > shard || e.size > shard - e.offset)
        throw FormatError(where + "has bytes [" + std::to_string(e.offset) + ", " +
                          std::to_string(e.offset + e.size) + ") past the end of " +
                          shard_path(e.shard_id) + " (" + std::to_string(shard) + " bytes)");
      std::uint64_t elems = 1;  // bounded by the shard size, so the product cannot overflow
      for (auto d : e.shape) {
        if (d != 0 && elems > shard / static_cast<std::uint64_t>(d))
          throw FormatError(where + "has shape " + shape_string(e.shape) + ", more elements than " +
                            shard_path(e.shard_id) + " has bytes");
        elems *= static_cast<std::uint64_t>(d);
      }
      DType dt;
      if (tf_float_dtype(e.dtype, dt) && elems * dtype_size(dt) != e.size)
        throw FormatError(where + "has " + std::to_string(e.size) + " bytes, but shape " +
                          shape_string(e.shape) + " of " + tf_dtype_name(e.dtype) + " needs " +
                          std::to_string(elems * dtype_size(dt)));
    }
  }

  std::string prefix_;
  detail::MappedFile index_;
  std::int32_t num_shards_ = 0;
  std::map<std::string, TfBundleEntry> entries_;
  std::vector<std::unique_ptr<detail::MappedFile>> shards_;
};

}  // namespace bertpp
