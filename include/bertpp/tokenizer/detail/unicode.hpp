// SPDX-License-Identifier: Apache-2.0
// Lookups into the generated tables: per-code-point flags, lowercase, NFD and combining classes.
#pragma once

#include <bertpp/tokenizer/detail/sp_tables.hpp>
#include <bertpp/tokenizer/detail/unicode_tables.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

namespace bertpp::tokenizer_detail {

/// @brief Flags of the Basic Multilingual Plane, expanded once from the ranges.
inline const std::array<std::uint8_t, 0x10000>& bmp_flags() {
  static const std::array<std::uint8_t, 0x10000> table = [] {
    std::array<std::uint8_t, 0x10000> t{};
    for (const auto& r : tables::kFlags) {
      if (r.lo > 0xFFFF) break;
      const std::uint32_t hi = std::min<std::uint32_t>(r.hi, 0xFFFF);
      for (std::uint32_t c = r.lo; c <= hi; ++c) t[c] = r.flags;
    }
    return t;
  }();
  return table;
}

/// @brief The tables:: property bits of `cp`.
inline std::uint8_t flags_of(std::uint32_t cp) {
  if (cp < 0x10000) return bmp_flags()[cp];
  const auto* end = std::end(tables::kFlags);
  const auto* it =
      std::upper_bound(std::begin(tables::kFlags), end, cp,
                       [](std::uint32_t c, const tables::FlagRange& r) { return c < r.lo; });
  if (it == std::begin(tables::kFlags)) return 0;
  --it;
  return cp <= it->hi ? it->flags : 0;
}

/// @brief Applies a generated mapping to `cp`, calling `emit(c)` for each output code point.
template <std::size_t ND, std::size_t NR, std::size_t NM, std::size_t NP, typename Emit>
void apply_mapping(std::uint32_t cp, const tables::Range (&del)[ND],
                   const tables::DeltaRange (&delta)[NR], const tables::MultiMap (&multi)[NM],
                   const std::uint32_t (&pool)[NP], Emit&& emit) {
  {
    const auto* it =
        std::upper_bound(std::begin(del), std::end(del), cp,
                         [](std::uint32_t c, const tables::Range& r) { return c < r.lo; });
    if (it != std::begin(del) && cp <= std::prev(it)->hi) return;
  }
  {
    const auto* it =
        std::upper_bound(std::begin(delta), std::end(delta), cp,
                         [](std::uint32_t c, const tables::DeltaRange& r) { return c < r.lo; });
    if (it != std::begin(delta)) {
      const auto& r = *std::prev(it);
      if (cp <= r.hi && (cp - r.lo) % r.stride == 0) {
        emit(static_cast<std::uint32_t>(static_cast<std::int64_t>(cp) + r.delta));
        return;
      }
    }
  }
  const auto* it =
      std::lower_bound(std::begin(multi), std::end(multi), cp,
                       [](const tables::MultiMap& m, std::uint32_t c) { return m.cp < c; });
  if (it != std::end(multi) && it->cp == cp && it->len > 0) {
    for (std::uint32_t i = 0; i < it->len; ++i) emit(pool[it->offset + i]);
    return;
  }
  emit(cp);
}

/// @brief Rust's `char::to_lowercase` as HF's reference build has it.
template <typename Emit>
void lowercase(std::uint32_t cp, Emit&& emit) {
  apply_mapping(cp, tables::kLowerDelete, tables::kLowerDelta, tables::kLowerMulti,
                tables::kLowerPool, emit);
}

/// @brief Canonical decomposition (NFD) of one code point as HF's reference build has it,
/// calling `emit(c)` for each output code point (`cp` itself when it does not decompose).
template <typename Emit>
void nfd(std::uint32_t cp, Emit&& emit) {
  if (cp >= 0xAC00 && cp <= 0xD7A3) {  // Hangul syllable: algorithmic decomposition
    const std::uint32_t s = cp - 0xAC00;
    emit(0x1100 + s / 588);
    emit(0x1161 + (s % 588) / 28);
    if (s % 28) emit(0x11A7 + s % 28);
    return;
  }
  apply_mapping(cp, tables::kNfdDelete, tables::kNfdDelta, tables::kNfdMulti, tables::kNfdPool,
                emit);
}

/// @brief Does `cp` have a compatibility decomposition other than its NFD (HF's NFKD)?
inline bool has_compat(std::uint32_t cp) {
  static const std::vector<bool> bits = [] {
    std::vector<bool> b(0x110000);
    for (const auto& m : tables::kNfkdMulti) b[m.cp] = true;
    return b;
  }();
  return cp < 0x110000 && bits[cp];
}

/// @brief HF's NFKD of one code point (its NFD when it has no compatibility mapping).
template <typename Emit>
void nfkd(std::uint32_t cp, Emit&& emit) {
  if (has_compat(cp)) {
    const auto* it =
        std::lower_bound(std::begin(tables::kNfkdMulti), std::end(tables::kNfkdMulti), cp,
                         [](const tables::MultiMap& m, std::uint32_t c) { return m.cp < c; });
    for (std::uint32_t i = 0; i < it->len; ++i) emit(tables::kNfkdPool[it->offset + i]);
    return;
  }
  nfd(cp, emit);
}

/// @brief Does HF's StripAccents remove `cp` (a mark, General_Category M*)?
inline bool is_mark(std::uint32_t cp) {
  if (cp < 0x300) return false;
  const auto* it =
      std::upper_bound(std::begin(tables::kMarks), std::end(tables::kMarks), cp,
                       [](std::uint32_t c, const tables::Range& r) { return c < r.lo; });
  return it != std::begin(tables::kMarks) && cp <= std::prev(it)->hi;
}

/// @brief Grapheme-cluster class of `cp` (0: other; see tools/gen_sp_tables.py).
inline std::uint8_t grapheme_class(std::uint32_t cp) {
  if (cp < 0x20) return cp == '\r' ? tables::kGCr : cp == '\n' ? tables::kGLf : tables::kGControl;
  if (cp < 0x7F) return 0;
  const auto* it =
      std::upper_bound(std::begin(tables::kGrapheme), std::end(tables::kGrapheme), cp,
                       [](std::uint32_t c, const tables::ClassRange& r) { return c < r.lo; });
  if (it == std::begin(tables::kGrapheme)) return 0;
  --it;
  return cp <= it->hi ? it->cls : 0;
}

/// @brief Canonical combining class of `cp` (0 for starters), as HF's NFD orders marks.
inline std::uint8_t combining_class(std::uint32_t cp) {
  const auto* it =
      std::upper_bound(std::begin(tables::kCcc), std::end(tables::kCcc), cp,
                       [](std::uint32_t c, const tables::CccRange& r) { return c < r.lo; });
  if (it == std::begin(tables::kCcc)) return 0;
  --it;
  return cp <= it->hi ? it->ccc : 0;
}

}  // namespace bertpp::tokenizer_detail
