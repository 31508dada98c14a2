// SPDX-License-Identifier: Apache-2.0
// Links odr_a.cpp and odr_b.cpp (both include bertpp.hpp) into one program and calls both.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

namespace bertpp_odr {
std::size_t use_from_a();
std::size_t use_from_b();
std::size_t tokens_from_a(const std::string& text, bool special);
}  // namespace bertpp_odr

TEST(Packaging, TwoTranslationUnitsIncludingBertppLink) {
  EXPECT_EQ(bertpp_odr::use_from_a(), 2u);
  EXPECT_EQ(bertpp_odr::use_from_b(), 3u);
}

// In compiled mode (packaging_compiled) these calls reach the library's definitions.
TEST(Packaging, TokenizerEntryPointsLink) {
  const std::string text = "Linking works, unaffable.";
  EXPECT_GT(bertpp_odr::tokens_from_a(text, false), 4u);
  EXPECT_EQ(bertpp_odr::tokens_from_a(text, true), bertpp_odr::tokens_from_a(text, false) + 2);
}
