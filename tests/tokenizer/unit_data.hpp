// SPDX-License-Identifier: Apache-2.0
// The tokenizer unit-test files (tests/tokenizer/data/unit): one definition for the tests of
// the area, which are compiled as one translation unit.
#pragma once

#include <string>

namespace bertpp_test {

inline const std::string kUnitData = std::string(BERTPP_SOURCE_DIR) + "/tests/tokenizer/data/unit/";

}  // namespace bertpp_test
