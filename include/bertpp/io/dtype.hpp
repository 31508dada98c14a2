// SPDX-License-Identifier: Apache-2.0
// Element types of stored tensors and their conversion to the model's scalar.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace bertpp {

/// Element types safetensors files may hold.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

/// @brief Bytes per element.
inline std::size_t dtype_size(DType d) {
  switch (d) {
    case DType::F64:
    case DType::I64:
      return 8;
    case DType::F32:
    case DType::I32:
      return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16:
      return 2;
    case DType::I8:
    case DType::U8:
    case DType::BOOL:
      return 1;
  }
  return 0;
}

/// @brief The safetensors spelling of a dtype ("F32", ...).
inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::F64:
      return "F64";
    case DType::F32:
      return "F32";
    case DType::F16:
      return "F16";
    case DType::BF16:
      return "BF16";
    case DType::I64:
      return "I64";
    case DType::I32:
      return "I32";
    case DType::I16:
      return "I16";
    case DType::I8:
      return "I8";
    case DType::U8:
      return "U8";
    case DType::BOOL:
      return "BOOL";
  }
  return "?";
}

/// @brief Parses a safetensors dtype string; returns false when unknown.
inline bool parse_dtype(const std::string& s, DType& out) {
  static const DType all[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                              DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};
  for (DType d : all)
    if (s == dtype_name(d)) {
      out = d;
      return true;
    }
  return false;
}

/// @brief Whether a dtype holds floating-point values (usable as weights).
inline bool is_float_dtype(DType d) {
  return d == DType::F64 || d == DType::F32 || d == DType::F16 || d == DType::BF16;
}

namespace detail {

/// IEEE half (binary16) bits to float, exact for every value (subnormals, inf, NaN).
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t mant = h & 0x3FFu;
  std::uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    exp = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// bfloat16 bits to float (exact: bf16 is the top half of a float32).
inline float bf16_to_float(std::uint16_t b) {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// Converts `n` float elements of dtype `d` at `src` (any alignment) to T.
template <typename T>
void convert_floats(DType d, const unsigned char* src, std::size_t n, T* dst) {
  for (std::size_t i = 0; i < n; ++i) {
    switch (d) {
      case DType::F64: {
        double v;
        std::memcpy(&v, src + 8 * i, 8);
        dst[i] = static_cast<T>(v);
        break;
      }
      case DType::F32: {
        float v;
        std::memcpy(&v, src + 4 * i, 4);
        dst[i] = static_cast<T>(v);
        break;
      }
      case DType::F16:
      case DType::BF16: {
        std::uint16_t v;
        std::memcpy(&v, src + 2 * i, 2);
        dst[i] = static_cast<T>(d == DType::F16 ? half_to_float(v) : bf16_to_float(v));
        break;
      }
      default:
        break;  // callers check is_float_dtype first
    }
  }
}

}  // namespace detail
}  // namespace bertpp
