// SPDX-License-Identifier: Apache-2.0
// A reader of sentencepiece's ModelProto (spiece.model, sentencepiece.bpe.model): the
// protobuf wire format read directly (no protobuf library), only the fields the
// tokenizer needs; every other field is skipped. Every error names the file and field.
#pragma once

#include <bertpp/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace bertpp::tokenizer_detail {

/// @brief One SentencePiece of the model.
struct SpPiece {
  enum Type { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };
  std::string piece;
  float score = 0.0f;
  int type = normal;
};

/// @brief The fields of ModelProto (with TrainerSpec and NormalizerSpec) bertpp uses, with
/// the proto's defaults.
struct SpModel {
  std::vector<SpPiece> pieces;
  int model_type = 1;  ///< TrainerSpec.model_type: 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR
  std::int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  bool byte_fallback = false;
  std::string normalizer_name;
  std::string precompiled_charsmap;
  bool add_dummy_prefix = true, remove_extra_whitespaces = true, escape_whitespaces = true;
};

namespace sp_proto {

/// A bounded reader over one message.
class Reader {
 public:
  Reader(std::string_view data, const std::string& where) : d_(data), where_(where) {}
  bool done() const { return pos_ >= d_.size(); }

  std::uint64_t varint(const char* what) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= d_.size()) fail(std::string("truncated varint in ") + what);
      const auto b = static_cast<unsigned char>(d_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    fail(std::string("varint longer than 10 bytes in ") + what);
  }
  std::string_view bytes(const char* what) {
    const std::uint64_t n = varint(what);
    if (n > d_.size() - pos_)
      fail(std::string("length ") + std::to_string(n) + " of " + what + " runs past the end (" +
           std::to_string(d_.size() - pos_) + " bytes left)");
    const std::string_view s = d_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  float fixed32_float(const char* what) {
    if (d_.size() - pos_ < 4) fail(std::string("truncated fixed32 in ") + what);
    std::uint32_t u = 0;
    for (int k = 0; k < 4; ++k)
      u |= static_cast<std::uint32_t>(
               static_cast<unsigned char>(d_[pos_ + static_cast<std::size_t>(k)]))
           << (8 * k);
    pos_ += 4;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  /// Skips a field of wire type `wt`.
  void skip(unsigned wt, std::uint64_t field) {
    switch (wt) {
      case 0:
        varint("a skipped field");
        return;
      case 1:
        if (d_.size() - pos_ < 8) fail("truncated fixed64 field " + std::to_string(field));
        pos_ += 8;
        return;
      case 2:
        bytes("a skipped field");
        return;
      case 5:
        if (d_.size() - pos_ < 4) fail("truncated fixed32 field " + std::to_string(field));
        pos_ += 4;
        return;
      default:
        fail("field " + std::to_string(field) + " has unsupported wire type " + std::to_string(wt));
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw TokenizerError(where_ + ": malformed SentencePiece model at byte " +
                         std::to_string(pos_) + ": " + what);
  }
  /// Checks that field `field` of `msg` has wire type `want`.
  void expect(unsigned wt, unsigned want, std::uint64_t field, const char* msg) const {
    if (wt != want)
      fail(std::string(msg) + " field " + std::to_string(field) + " has wire type " +
           std::to_string(wt) + ", expected " + std::to_string(want));
  }

 private:
  std::string_view d_;
  std::size_t pos_ = 0;
  const std::string& where_;
};

inline std::int32_t as_int32(std::uint64_t v) {  // proto int32: two's complement, 64-bit varint
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(v & 0xFFFFFFFFu));
}

}  // namespace sp_proto

/// @brief Parses a serialized ModelProto. `where` names the file in errors.
/// @throws TokenizerError (truncated or garbled data, wrong wire types, no pieces).
inline SpModel parse_sp_model(std::string_view data, const std::string& where) {
  using sp_proto::Reader;
  SpModel m;
  Reader r(data, where);
  while (!r.done()) {
    const std::uint64_t key = r.varint("a field key");
    const auto wt = static_cast<unsigned>(key & 7);
    const std::uint64_t field = key >> 3;
    if (field == 1) {  // repeated SentencePiece pieces
      r.expect(wt, 2, field, "ModelProto");
      Reader p(r.bytes("a piece"), where);
      SpPiece sp;
      while (!p.done()) {
        const std::uint64_t k = p.varint("a piece field key");
        const auto w = static_cast<unsigned>(k & 7);
        const std::uint64_t f = k >> 3;
        if (f == 1) {
          p.expect(w, 2, f, "SentencePiece");
          sp.piece = std::string(p.bytes("a piece string"));
        } else if (f == 2) {
          p.expect(w, 5, f, "SentencePiece");
          sp.score = p.fixed32_float("a piece score");
        } else if (f == 3) {
          p.expect(w, 0, f, "SentencePiece");
          const std::uint64_t t = p.varint("a piece type");
          if (t < 1 || t > 6)
            p.fail("piece " + std::to_string(m.pieces.size()) + " has unknown type " +
                   std::to_string(t));
          sp.type = static_cast<int>(t);
        } else {
          p.skip(w, f);
        }
      }
      m.pieces.push_back(std::move(sp));
    } else if (field == 2) {  // TrainerSpec
      r.expect(wt, 2, field, "ModelProto");
      Reader t(r.bytes("trainer_spec"), where);
      while (!t.done()) {
        const std::uint64_t k = t.varint("a trainer_spec field key");
        const auto w = static_cast<unsigned>(k & 7);
        const std::uint64_t f = k >> 3;
        if (f == 3 || f == 35 || (f >= 40 && f <= 43)) {
          t.expect(w, 0, f, "TrainerSpec");
          const std::uint64_t v = t.varint("a trainer_spec field");
          if (f == 3) m.model_type = static_cast<int>(v > 100 ? 0 : v);
          if (f == 35) m.byte_fallback = v != 0;
          if (f == 40) m.unk_id = sp_proto::as_int32(v);
          if (f == 41) m.bos_id = sp_proto::as_int32(v);
          if (f == 42) m.eos_id = sp_proto::as_int32(v);
          if (f == 43) m.pad_id = sp_proto::as_int32(v);
        } else {
          t.skip(w, f);
        }
      }
    } else if (field == 3) {  // NormalizerSpec
      r.expect(wt, 2, field, "ModelProto");
      Reader n(r.bytes("normalizer_spec"), where);
      while (!n.done()) {
        const std::uint64_t k = n.varint("a normalizer_spec field key");
        const auto w = static_cast<unsigned>(k & 7);
        const std::uint64_t f = k >> 3;
        if (f == 1 || f == 2) {
          n.expect(w, 2, f, "NormalizerSpec");
          (f == 1 ? m.normalizer_name : m.precompiled_charsmap) =
              std::string(n.bytes("a normalizer_spec field"));
        } else if (f >= 3 && f <= 5) {
          n.expect(w, 0, f, "NormalizerSpec");
          const bool v = n.varint("a normalizer_spec flag") != 0;
          (f == 3   ? m.add_dummy_prefix
           : f == 4 ? m.remove_extra_whitespaces
                    : m.escape_whitespaces) = v;
        } else {
          n.skip(w, f);
        }
      }
    } else {
      r.skip(wt, field);
    }
  }
  if (m.pieces.empty()) throw TokenizerError(where + ": the SentencePiece model has no pieces");
  return m;
}

}  // namespace bertpp::tokenizer_detail
