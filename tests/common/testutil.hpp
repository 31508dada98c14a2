// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the tests: paths, and element-wise comparison that reports the first
// index beyond the tolerance with both values.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <sstream>
#include <string>

namespace bertpp::test {

/// @brief Path of a file under tests/fixtures.
inline std::string fixture(const std::string& relative) {
  return std::string(BERTPP_FIXTURES_DIR) + "/" + relative;
}

/// @brief The cache directory where the test setup puts downloaded models.
inline std::string cache_dir() {
  if (const char* env = std::getenv("BERTPP_CACHE")) return env;
  return BERTPP_CACHE_DIR;
}

/// @brief Expects `f()` to throw E whose message contains `needle`.
template <typename E, typename F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

/// @brief Compares `n` values; succeeds when max |a - b| <= tol. On failure the message
/// names the first index beyond the tolerance, both values and the max difference.
template <typename A, typename B>
::testing::AssertionResult all_close(const A* actual, const B* expected, std::size_t n, double tol,
                                     const std::string& what = "") {
  double max_diff = 0.0;
  std::size_t first_bad = n;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = static_cast<double>(actual[i]);
    const double e = static_cast<double>(expected[i]);
    const double d = std::fabs(a - e);
    if (!(d <= tol) && first_bad == n) first_bad = i;  // also catches NaN
    if (d > max_diff || std::isnan(d)) max_diff = d;
  }
  if (first_bad == n) return ::testing::AssertionSuccess() << what << " max abs diff " << max_diff;
  std::ostringstream os;
  os.precision(10);
  os << what << ": first index " << first_bad << " actual "
     << static_cast<double>(actual[first_bad]) << " expected "
     << static_cast<double>(expected[first_bad]) << "; max abs diff " << max_diff << " > tol "
     << tol << " over " << n << " values";
  return ::testing::AssertionFailure() << os.str();
}

/// @brief Max |a - b| over `n` values.
template <typename A, typename B>
double max_abs_diff(const A* actual, const B* expected, std::size_t n) {
  double m = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    m = std::fmax(m, std::fabs(static_cast<double>(actual[i]) - static_cast<double>(expected[i])));
  return m;
}

}  // namespace bertpp::test
