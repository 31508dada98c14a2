// SPDX-License-Identifier: Apache-2.0
// Second of two translation units that include every public header (with odr_a.cpp): a
// function defined in a header without `inline` makes the link fail.
#include <bertpp/bertpp.hpp>

#include <cstddef>

namespace bertpp_odr {

std::size_t use_from_b() {
  const auto enc = bertpp::Encoding::from_ids({101, 7592, 102});
  try {
    throw bertpp::ConfigError("b");
  } catch (const bertpp::Error&) {
    return enc.size();
  }
}

}  // namespace bertpp_odr
