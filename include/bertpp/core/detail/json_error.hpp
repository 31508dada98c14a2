// SPDX-License-Identifier: Apache-2.0
// The text of a JSON error without the file's bytes: nlohmann's parse errors quote what they
// read last ("last read: '...'"), which would echo the contents of whatever file was opened.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace bertpp::detail {

/// @brief A message for `e` that names the position of a parse error (byte offset) but
/// never quotes the input; other JSON errors (type, range) name types only and pass as is.
inline std::string json_error_text(const nlohmann::json::exception& e) {
  if (const auto* p = dynamic_cast<const nlohmann::json::parse_error*>(&e))
    return "syntax error at byte " + std::to_string(p->byte);
  return e.what();
}

}  // namespace bertpp::detail
