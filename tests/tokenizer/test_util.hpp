// SPDX-License-Identifier: Apache-2.0
// Helpers of the tokenizer tests: temporary files and "throws E mentioning X".
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace bertpp_test {

/// @brief A path in the test's temporary folder, `prefix` + `name`.
inline std::string temp_path(const std::string& prefix, const std::string& name) {
  return ::testing::TempDir() + prefix + name;
}

/// @brief Writes `content` to temp_path(prefix, name) and returns the path.
inline std::string write_temp(const std::string& prefix, const std::string& name,
                              const std::string& content) {
  const std::string p = temp_path(prefix, name);
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

/// @brief Expects `f()` to throw an `E` whose message contains `must_contain`.
template <typename E, typename F>
void expect_error(F&& f, const std::string& must_contain) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << must_contain;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(must_contain), std::string::npos) << e.what();
  }
}

}  // namespace bertpp_test
