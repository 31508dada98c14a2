// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: SentencePiece. The .model protobuf reader and the conversions of
// Tokenizer::load (ALBERT / XLM-R), the Precompiled charsmap, the normalizer Sequence,
// Metaspace and Unigram (with byte fallback) on texts.
//
// Input layout: byte 0 selects the mode, the rest is the payload.
//   mode 0: payload is a .model file: parsed, then (when it parses) loaded from a folder as
//           spiece.model (byte 0 bit 3 clear) or sentencepiece.bpe.model, and a fixed text
//           encoded and decoded (errors are fine: TokenizerError / FormatError).
//   mode 1: payload is a precompiled charsmap followed, after its first 0x00 0x00 pair, by a
//           text normalized with it (errors are fine).
//   mode 2..: payload is text (a pair when it contains a 0x01 byte), encoded with the
//           committed Unigram fixture as ALBERT (mode % 2 == 0) or XLM-R converts it, with
//           truncation and overflow; invariants checked.
#include <bertpp/tokenizer/tokenizer.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <sys/stat.h>

#include "fuzz_common.hpp"

namespace {

using bertpp_fuzz::check;

void check_encoding(const bertpp::Encoding& e) {
  const std::size_t n = e.ids.size();
  check(e.type_ids.size() == n && e.offsets.size() == n && e.tokens.size() == n &&
            e.byte_offsets.size() == n && e.word_ids.size() == n && e.sequence_ids.size() == n,
        "field sizes");
  for (std::size_t i = 0; i < n; ++i) check(e.offsets[i].first <= e.offsets[i].second, "offsets");
  for (const auto& o : e.overflowing) check_encoding(o);
}

void exercise(const bertpp::Tokenizer& t, const std::string& text) {
  const auto sep = text.find('\x01');
  bertpp::EncodeOptions o;
  const auto e = sep == std::string::npos ? t.encode(text, o)
                                          : t.encode(text.substr(0, sep), text.substr(sep + 1), o);
  check_encoding(e);
  for (std::int32_t id : e.ids)
    check(id >= 0 && static_cast<std::size_t>(id) < t.vocab_size(), "id range");
  (void)t.decode(e.ids);
  o.truncation = bertpp::TruncationStrategy::longest_first;
  o.max_length = 9;
  o.stride = 2;
  o.return_overflowing_tokens = true;
  try {  // a window shorter than the stride is a TokenizerError, as in HF
    check_encoding(sep == std::string::npos
                       ? t.encode(text, o)
                       : t.encode(text.substr(0, sep), text.substr(sep + 1), o));
  } catch (const bertpp::TokenizerError&) {
  }
}

const bertpp::Tokenizer& fixture(bool albert) {
  static const auto load = [](const char* file) {
    const std::string dir = bertpp_fuzz::scratch_dir() + "/" + file + ".d";
    mkdir(dir.c_str(), 0700);
    const std::string model = bertpp::tokenizer_detail::read_file(BERTPP_FUZZ_SP_MODEL);
    bertpp_fuzz::write_file(dir + "/" + file, model.data(), model.size());
    return std::make_unique<bertpp::Tokenizer>(bertpp::Tokenizer::load(dir));
  };
  static const auto a = load("spiece.model");
  static const auto x = load("sentencepiece.bpe.model");
  return albert ? *a : *x;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned mode = data[0] % 8;
  const std::string payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 0) {
    try {
      bertpp::tokenizer_detail::parse_sp_model(payload, "fuzz");
      const std::string dir = bertpp_fuzz::scratch_dir() + "/m";
      mkdir(dir.c_str(), 0700);
      const bool albert = !(data[0] & 8);
      bertpp_fuzz::remove_file(dir + "/spiece.model");
      bertpp_fuzz::remove_file(dir + "/sentencepiece.bpe.model");
      bertpp_fuzz::write_file(dir + (albert ? "/spiece.model" : "/sentencepiece.bpe.model"),
                              payload.data(), payload.size());
      exercise(bertpp::Tokenizer::load(dir),
               "Hello w\xC3\xB6rld, \xE4\xBD\xA0\xE5\xA5\xBD ``x'' \x01 second");
    } catch (const bertpp::Error&) {
    }
    return 0;
  }
  if (mode == 1) {
    const auto cut = payload.find(std::string("\0\0", 2));
    try {
      bertpp::SpNormalizerStep s;
      s.kind = bertpp::SpNormalizerStep::precompiled;
      s.charsmap =
          std::make_shared<const bertpp::PrecompiledCharsmap>(payload.substr(0, cut), "fuzz");
      const bertpp::SpNormalizer n({s});
      (void)n.normalize_str(cut == std::string::npos ? std::string("abc \xEF\xBC\xA1")
                                                     : payload.substr(cut + 2));
    } catch (const bertpp::Error&) {
    }
    return 0;
  }
  exercise(fixture(mode % 2 == 0), payload);
  return 0;
}
