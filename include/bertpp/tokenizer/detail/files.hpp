// SPDX-License-Identifier: Apache-2.0
// File and JSON helpers for the tokenizer loaders; every error names the file and field.
#pragma once

#include <bertpp/core/error.hpp>
#include <bertpp/tokenizer/detail/utf8.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace bertpp::tokenizer_detail {

/// @brief Whole file as bytes. @throws IoError when it cannot be opened or read.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("cannot read '" + path + "'");
  return ss.str();
}

/// @brief True when `path` can be opened for reading.
inline bool file_exists(const std::string& path) { return static_cast<bool>(std::ifstream(path)); }

/// @brief Whether the folder's name asks for lower-casing: false when it says `cased` but
/// not `uncased`, true otherwise.
inline bool name_says_lower_case(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(dir, ec).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  const std::string name = p.filename().string();
  return name.find("uncased") != std::string::npos || name.find("cased") == std::string::npos;
}

/// @brief do_lower_case when tokenizer_config.json does not give it: for a folder laid out
/// as Google released BERT (`bert_config.json`), false when the folder's name says `cased`
/// but not `uncased` (cased_L-12_H-768_A-12, multi_cased_..., wwm_cased_...); otherwise
/// true, HF's default (docs/tf-formats.md).
inline bool default_do_lower_case(const std::string& dir) {
  if (!file_exists(dir + "/bert_config.json")) return true;
  return name_says_lower_case(dir);
}

/// @brief Parses a JSON file. @throws IoError, FormatError (with the parser's position).
inline nlohmann::json read_json(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError("'" + path + "': malformed JSON: " + e.what());
  }
}

/// @brief Is `s` valid UTF-8? Sets `bad_at` to the first invalid byte.
inline bool valid_utf8(const std::string& s, std::size_t& bad_at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 1;
    const std::uint32_t c = decode_utf8(p + i, s.size() - i, len);
    if (c == kReplacement && !(len == 3 && p[i] == 0xEF && p[i + 1] == 0xBF && p[i + 2] == 0xBD)) {
      bad_at = i;
      return false;
    }
    i += len;
  }
  return true;
}

/// @brief Reads vocab.txt as HF's `load_vocab`: one token per line (line i = id i), lines
/// split on "\n", "\r\n" or "\r" (Python's universal newlines), nothing else stripped.
/// @throws IoError, FormatError (invalid UTF-8, with the line number; empty file).
inline std::vector<std::string> read_vocab_txt(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<std::string> vocab;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || text[i] == '\r') {
      vocab.emplace_back(text, start, i - start);
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < text.size()) vocab.emplace_back(text, start, std::string::npos);
  if (vocab.empty()) throw FormatError("'" + path + "': empty vocabulary");
  for (std::size_t i = 0; i < vocab.size(); ++i) {
    std::size_t bad = 0;
    if (!valid_utf8(vocab[i], bad))
      throw FormatError("'" + path + "': line " + std::to_string(i + 1) +
                        ": invalid UTF-8 at byte " + std::to_string(bad));
  }
  return vocab;
}

/// @brief `j[key]` as T, or `fallback` when absent or null.
/// @throws FormatError naming the file and field when present with the wrong type.
template <typename T>
T get_or(const nlohmann::json& j, const char* key, const T& fallback, const std::string& where) {
  if (!j.is_object()) throw FormatError(where + ": expected a JSON object");
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw FormatError(where + ": field '" + key + "' has the wrong type (" + it->type_name() + ")");
  }
}

/// @brief The integer `v` if it lies in [lo, hi]. `what` names the field for the error.
/// @throws FormatError when `v` is not a JSON integer (a float such as 1e300 is not) or is
/// out of range.
inline std::int64_t int_in(const nlohmann::json& v, std::int64_t lo, std::int64_t hi,
                           const std::string& what) {
  const bool too_big =
      v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi);
  if (!v.is_number_integer() || too_big || v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi)
    throw FormatError(what + ": expected an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "], got " + (v.is_number() ? v.dump() : v.type_name()));
  return v.get<std::int64_t>();
}

/// @brief `j[key]` as an integer in [lo, hi], or `fallback` when absent or null.
/// @throws FormatError naming the field (wrong JSON type, or out of range).
inline std::int64_t get_int(const nlohmann::json& j, const char* key, std::int64_t fallback,
                            std::int64_t lo, std::int64_t hi, const std::string& where) {
  if (!j.is_object()) throw FormatError(where + ": expected a JSON object");
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return int_in(*it, lo, hi, where + ": field '" + key + "'");
}

/// @brief `j[key]` as an array of integers in [lo, hi] (empty when absent or null).
/// @throws FormatError naming the field.
inline std::vector<std::int32_t> get_ids(const nlohmann::json& j, const char* key, std::int64_t hi,
                                         const std::string& where) {
  if (!j.is_object()) throw FormatError(where + ": expected a JSON object");
  std::vector<std::int32_t> out;
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) throw FormatError(where + ": field '" + key + "' must be an array");
  for (std::size_t k = 0; k < it->size(); ++k)
    out.push_back(static_cast<std::int32_t>(
        int_in((*it)[k], 0, hi, where + ": " + key + "[" + std::to_string(k) + "]")));
  return out;
}

/// @brief A special-token field: a string, or an object with "content" (HF's AddedToken).
/// Returns `fallback` when absent or null. @throws FormatError on another type.
inline std::string token_field(const nlohmann::json& j, const char* key,
                               const std::string& fallback, const std::string& where) {
  if (!j.is_object()) throw FormatError(where + ": expected a JSON object");
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  throw FormatError(where + ": field '" + key + "' must be a string or {\"content\": ...}");
}

}  // namespace bertpp::tokenizer_detail
