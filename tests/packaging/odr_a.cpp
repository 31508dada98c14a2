// SPDX-License-Identifier: Apache-2.0
// First of two translation units that include every public header (with odr_b.cpp): a
// function defined in a header without `inline` makes the link fail.
#include <bertpp/bertpp.hpp>

#include <cstddef>

namespace bertpp_odr {

std::size_t use_from_a() {
  const auto enc = bertpp::Encoding::from_ids({101, 102});
  try {
    throw bertpp::FormatError("a");
  } catch (const bertpp::Error&) {
    return enc.size();
  }
}

}  // namespace bertpp_odr
