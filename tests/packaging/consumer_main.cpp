// SPDX-License-Identifier: Apache-2.0
// The program each packaging consumer builds: it includes the umbrella header, prints the
// version (run_consumer.cmake checks it) and uses a little of the library.
#include <bertpp/bertpp.hpp>

#include <iostream>
#include <string>

int main() {
  std::cout << "bertpp " << BERTPP_VERSION_STRING << '\n';

  // The plain model input: ids only, types and mask implied.
  const bertpp::Encoding enc = bertpp::Encoding::from_ids({101, 7592, 2088, 102});
  if (enc.size() != 4 || !enc.type_ids.empty()) {
    std::cerr << "unexpected Encoding: size " << enc.size() << '\n';
    return 1;
  }

  // Errors are exceptions derived from bertpp::Error, itself a std::runtime_error.
  try {
    throw bertpp::InputError("token id 40000 at position 2 is out of range");
  } catch (const bertpp::Error& e) {
    if (std::string(e.what()).find("position 2") == std::string::npos) return 1;
    std::cout << "caught bertpp::Error: " << e.what() << '\n';
  }
  return 0;
}
