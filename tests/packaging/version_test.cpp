// SPDX-License-Identifier: Apache-2.0
// The header's version macros equal CMake's project version (passed in by
// tests/packaging/CMakeLists.txt).
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <string>

static_assert(BERTPP_VERSION_MAJOR == BERTPP_PROJECT_VERSION_MAJOR, "major version differs");
static_assert(BERTPP_VERSION_MINOR == BERTPP_PROJECT_VERSION_MINOR, "minor version differs");
static_assert(BERTPP_VERSION_PATCH == BERTPP_PROJECT_VERSION_PATCH, "patch version differs");

TEST(Packaging, HeaderVersionEqualsProjectVersion) {
  EXPECT_EQ(std::string(BERTPP_VERSION_STRING), std::string(BERTPP_PROJECT_VERSION));
}
