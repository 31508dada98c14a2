// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: loading (tokenizer.json / vocab.txt from the input), normalizer,
// pre-tokenizers (Bert, ByteLevel), WordPiece, BPE, added tokens, truncation/padding/stride
// and decode.
//
// Input layout: byte 0 selects the mode and options, the rest is the payload.
//   mode 0: payload is a tokenizer.json; load it (errors are fine), then encode a fixed text.
//   mode 1: payload is a vocab.txt; load it (errors are fine), then encode a fixed text.
//   mode 2..: payload is text (a pair when it contains a 0x01 byte), encoded with a
//            tokenizer picked by the mode (byte-level BPE, WordPiece tokenizer.json,
//            vocab.txt) and configured by the option bits.
#include <bertpp/tokenizer/tokenizer.hpp>

#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

std::size_t count_cps(std::string_view s) {
  bertpp::DecodedText d;
  d.assign(s);
  return d.cps.size();
}

void check_encoding(const bertpp::Encoding& e, std::size_t ncp_a, std::size_t nb_a,
                    std::size_t ncp_b, std::size_t nb_b) {
  const std::size_t n = e.ids.size();
  check(e.type_ids.size() == n && e.attention_mask.size() == n &&
            e.special_tokens_mask.size() == n && e.tokens.size() == n && e.offsets.size() == n &&
            e.byte_offsets.size() == n && e.word_ids.size() == n && e.sequence_ids.size() == n,
        "field sizes");
  std::size_t last_start[2] = {0, 0}, last_end[2] = {0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    const int s = e.sequence_ids[i];
    if (s < 0) continue;
    const auto [b, en] = e.offsets[i];
    const auto [bb, be] = e.byte_offsets[i];
    check(b <= en && en <= (s == 0 ? ncp_a : ncp_b), "offset range");
    check(bb <= be && be <= (s == 0 ? nb_a : nb_b), "byte offset range");
    // HF's trim_offsets can leave an all-space token an empty span past the start of the
    // next token: the space add_prefix_space prepends shares the first character's offsets,
    // so a lone "Ġ" is (1, 1) before a token at (0, 1) (tests/tokenizer/byte_level_edge_test,
    // fuzz/corpus/regress_trim_prefix_space). Monotony holds among the other tokens.
    if (b == en) continue;
    check(b >= last_start[s] && en >= last_end[s], "offsets monotone");
    last_start[s] = b;
    last_end[s] = en;
  }
  for (const auto& o : e.overflowing) check_encoding(o, ncp_a, nb_a, ncp_b, nb_b);
}

std::string temp_dir() {
  char tmpl[] = "/tmp/bertpp_fuzz_XXXXXX";
  const char* d = mkdtemp(tmpl);
  check(d != nullptr, "mkdtemp");
  return d;
}

void write(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

const std::string& workdir() {
  static const std::string d = temp_dir();
  return d;
}

// A small tokenizer.json with added tokens using every flag.
const char* kJson = R"({
 "added_tokens": [
  {"id": 0, "content": "[PAD]", "special": true, "normalized": false},
  {"id": 1, "content": "[UNK]", "special": true, "normalized": false},
  {"id": 2, "content": "[CLS]", "special": true, "normalized": false},
  {"id": 3, "content": "[SEP]", "special": true, "normalized": false},
  {"id": 4, "content": "[MASK]", "special": true, "normalized": false, "lstrip": true},
  {"id": 12, "content": "<ent>", "special": false, "normalized": true, "rstrip": true},
  {"id": 13, "content": "éx", "special": false, "normalized": true, "single_word": true},
  {"id": 14, "content": " <s>", "special": true, "normalized": false, "lstrip": true, "rstrip": true}
 ],
 "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                "strip_accents": null, "lowercase": true},
 "pre_tokenizer": {"type": "BertPreTokenizer"},
 "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
 "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
 "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
           "max_input_chars_per_word": 12,
           "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "a": 5, "##a": 6,
                     "b": 7, "##b": 8, "ab": 9, "##ab": 10, "你": 11, "x": 15, "##x": 16, ".": 17}}
})";

// A small byte-level BPE tokenizer.json (RoBERTa's components, <mask> lstrip).
const char* kBpeJson = R"({
 "added_tokens": [
  {"id": 0, "content": "<s>", "special": true, "normalized": false},
  {"id": 1, "content": "<pad>", "special": true, "normalized": false},
  {"id": 2, "content": "</s>", "special": true, "normalized": false},
  {"id": 10, "content": "<mask>", "special": true, "normalized": false, "lstrip": true}
 ],
 "normalizer": null,
 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                   "use_regex": true},
 "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                    "trim_offsets": true, "add_prefix_space": false},
 "decoder": {"type": "ByteLevel"},
 "model": {"type": "BPE", "dropout": null, "unk_token": null, "fuse_unk": false,
           "vocab": {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "a": 4, "b": 5, "\u0120": 6,
                     "\u0120a": 7, "ab": 8, "\u0120ab": 9, "<mask>": 10, "'": 11, "s": 12,
                     "'s": 13, "\u00c3": 14, "\u00a9": 15},
           "merges": [["a", "b"], ["\u0120", "a"], ["\u0120a", "b"], ["'", "s"]]}
})";

struct Tokenizers {
  std::unique_ptr<bertpp::Tokenizer> json, vocab, bpe;
};

const Tokenizers& tokenizers() {
  static const Tokenizers t = [] {
    Tokenizers r;
    write(workdir() + "/fixed.json", kJson);
    r.json = std::make_unique<bertpp::Tokenizer>(
        bertpp::Tokenizer::from_tokenizer_json(workdir() + "/fixed.json"));
    write(workdir() + "/bpe.json", kBpeJson);
    r.bpe = std::make_unique<bertpp::Tokenizer>(
        bertpp::Tokenizer::from_tokenizer_json(workdir() + "/bpe.json"));
    const char* v = std::getenv("BERTPP_FUZZ_VOCAB");
    std::string path = v ? v : BERTPP_FUZZ_VOCAB;
    bertpp::TokenizerOptions o;
    r.vocab = std::make_unique<bertpp::Tokenizer>(bertpp::Tokenizer::from_vocab_file(path, o));
    return r;
  }();
  return t;
}

void exercise(const bertpp::Tokenizer& tok, std::string_view text, unsigned opts) {
  bertpp::EncodeOptions o;
  o.add_special_tokens = opts & 1;
  const auto split = text.find('\x01');
  if (opts & 2) {
    o.truncation = static_cast<bertpp::TruncationStrategy>((opts >> 2) & 3);
    o.max_length = 3 + (opts >> 4) % 13;
    o.stride = (opts >> 8) % 4;
    o.return_overflowing_tokens = true;
    o.truncation_side = (opts & 0x1000) ? bertpp::Side::left : bertpp::Side::right;
  }
  o.padding = static_cast<bertpp::Padding>((opts >> 13) % 3);
  o.padding_side = (opts & 0x8000) ? bertpp::Side::left : bertpp::Side::right;
  o.pad_to_multiple_of = (opts >> 16) % 5;
  if (o.padding == bertpp::Padding::max_length && o.max_length == 0) o.max_length = 16;
  try {
    bertpp::Encoding e;
    if (split != std::string_view::npos) {
      const auto a = text.substr(0, split), b = text.substr(split + 1);
      e = tok.encode(a, b, o);
      check_encoding(e, count_cps(a), a.size(), count_cps(b), b.size());
    } else {
      e = tok.encode(text, o);
      check_encoding(e, count_cps(text), text.size(), 0, 0);
    }
    (void)tok.decode(e.ids, opts & 0x20000, opts & 0x40000);
    (void)tok.tokenize(text);
  } catch (const bertpp::TokenizerError&) {
    // impossible truncation settings are reported, not crashed on
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const unsigned mode = data[0] % 8;
  const unsigned opts = data[1] | (data[2] << 8) | (data[3] << 16);
  const std::string payload(reinterpret_cast<const char*>(data) + 4, size - 4);
  if (mode == 0 || mode == 1) {
    const std::string path = workdir() + (mode == 0 ? "/in.json" : "/in.txt");
    write(path, payload);
    try {
      const auto tok = mode == 0 ? bertpp::Tokenizer::from_tokenizer_json(path)
                                 : bertpp::Tokenizer::from_vocab_file(path);
      exercise(tok, "Hello [MASK] wörld, 你好! ab ##a x\x01second [SEP] text", opts);
    } catch (const bertpp::Error&) {
    }
    return 0;
  }
  const auto& t = tokenizers();
  exercise(mode % 3 == 0 ? *t.bpe : mode % 3 == 1 ? *t.json : *t.vocab, payload, opts);
  return 0;
}
