// SPDX-License-Identifier: Apache-2.0
// First of two translation units that include every public header (with odr_b.cpp): a
// function defined in a header without `inline` makes the link fail.
#include <bertpp/bertpp.hpp>

#include <cstddef>
#include <string>

namespace bertpp_odr {

std::size_t use_from_a() {
  const auto enc = bertpp::Encoding::from_ids({101, 102});
  try {
    throw bertpp::FormatError("a");
  } catch (const bertpp::Error&) {
    return enc.size();
  }
}

// Entry points that the compiled library defines (declared only in compiled mode): the
// tokens of `text` with and without the special tokens, by the real uncased vocabulary.
std::size_t tokens_from_a(const std::string& text, bool special) {
  const auto tok =
      bertpp::Tokenizer::from_vocab_file(BERTPP_FIXTURES_DIR "/vocab/bert-base-uncased/vocab.txt");
  return special ? tok.encode(text).size() : tok.tokenize(text).size();
}

}  // namespace bertpp_odr
