// SPDX-License-Identifier: Apache-2.0
// Links odr_a.cpp and odr_b.cpp (both include bertpp.hpp) into one program and calls both.
#include <gtest/gtest.h>

#include <cstddef>

namespace bertpp_odr {
std::size_t use_from_a();
std::size_t use_from_b();
}  // namespace bertpp_odr

TEST(Packaging, TwoTranslationUnitsIncludingBertppLink) {
  EXPECT_EQ(bertpp_odr::use_from_a(), 2u);
  EXPECT_EQ(bertpp_odr::use_from_b(), 3u);
}
