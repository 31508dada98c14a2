// SPDX-License-Identifier: Apache-2.0
// Errors. Every failure bertpp reports is an exception derived from bertpp::Error, with a
// message that names the file, tensor, field or input position at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace bertpp {

/// @brief Base of every exception bertpp throws.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// @brief A file cannot be opened or read (missing, unreadable, I/O failure).
class IoError : public Error {
 public:
  using Error::Error;
};

/// @brief A file's contents are malformed (safetensors header, JSON, vocab file).
class FormatError : public Error {
 public:
  using Error::Error;
};

/// @brief A configuration field has a wrong type, an impossible value, or asks for
/// something bertpp does not support.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// @brief A weight tensor is missing, has the wrong shape or dtype, or is left unused in
/// strict mode.
class WeightError : public Error {
 public:
  using Error::Error;
};

/// @brief Model input is invalid: token id out of range, sequence too long, mismatched
/// lengths of ids / type ids / mask.
class InputError : public Error {
 public:
  using Error::Error;
};

/// @brief Tokenizer files or options are invalid (missing special token, bad vocab).
class TokenizerError : public Error {
 public:
  using Error::Error;
};

}  // namespace bertpp
