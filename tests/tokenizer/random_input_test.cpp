// SPDX-License-Identifier: Apache-2.0
// Deterministic random input (bytes, code points, mixes with special tokens): no crash, every
// field the same length, offsets in range and monotone. Runs under ASan/UBSan in CI.
#include <bertpp/tokenizer/tokenizer.hpp>

#include <gtest/gtest.h>

#include "unit_data.hpp"

#include <algorithm>
#include <random>
#include <string>

namespace {

using bertpp_test::kUnitData;

void check(const bertpp::Encoding& e, std::size_t ncp, std::size_t nbytes) {
  const std::size_t n = e.ids.size();
  ASSERT_EQ(e.type_ids.size(), n);
  ASSERT_EQ(e.attention_mask.size(), n);
  ASSERT_EQ(e.special_tokens_mask.size(), n);
  ASSERT_EQ(e.tokens.size(), n);
  ASSERT_EQ(e.offsets.size(), n);
  ASSERT_EQ(e.byte_offsets.size(), n);
  ASSERT_EQ(e.word_ids.size(), n);
  std::size_t ls = 0, le = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (e.sequence_ids[i] < 0) continue;
    const auto [b, en] = e.offsets[i];
    ASSERT_LE(b, en);
    ASSERT_LE(en, ncp);
    ASSERT_LE(e.byte_offsets[i].second, nbytes);
    ASSERT_LE(e.byte_offsets[i].first, e.byte_offsets[i].second);
    ASSERT_GE(b, ls);
    ASSERT_GE(en, le);
    ls = b;
    le = en;
  }
}

TEST(RandomInput, BytesAndCodePoints) {
  const auto uncased = bertpp::Tokenizer::from_vocab_file(kUnitData + "vocab.txt");
  const auto json = bertpp::Tokenizer::load(kUnitData + "json_dir");
  bertpp::TokenizerOptions co;
  co.do_lower_case = false;
  co.tokenize_chinese_chars = false;
  co.clean_text = false;
  const auto raw = bertpp::Tokenizer::from_vocab_file(kUnitData + "vocab.txt", co);
  // Byte-level BPE (RoBERTa): every byte sequence, split characters, trimmed offsets.
  const auto roberta = bertpp::Tokenizer::load(std::string(BERTPP_SOURCE_DIR) +
                                               "/tests/tokenizer/data/vocab/roberta-base");
  std::mt19937 rng(12345);
  const char* pieces[] = {"[MASK]",       "[SEP]",   " <ent> ", "[E1]",  "  ",   "##",        "ab",
                          "\xE2\x80\x8D", " <mask>", "'s",      "\t \n", "</s>", "\xC2\xA0 x"};
  const std::size_t n_pieces = sizeof pieces / sizeof pieces[0];
  for (int iter = 0; iter < 600; ++iter) {
    std::string s;
    const int len = static_cast<int>(rng() % 64);
    const int kind = iter % 3;
    for (int i = 0; i < len; ++i) {
      if (kind == 0) {
        s.push_back(static_cast<char>(rng() & 0xFF));
      } else if (kind == 1) {
        std::uint32_t cp = rng() % 0x110000;
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0x41;
        bertpp::tokenizer_detail::append_utf8(s, cp);
      } else {
        s += pieces[rng() % n_pieces];
        bertpp::tokenizer_detail::append_utf8(s, rng() % 0x3000);
      }
    }
    bertpp::DecodedText d;
    d.assign(s);
    for (const bertpp::Tokenizer* t : {&uncased, &json, &raw, &roberta}) {
      const auto e = t->encode(s);
      check(e, d.cps.size(), s.size());
      bertpp::EncodeOptions o;
      o.truncation = bertpp::TruncationStrategy::longest_first;
      o.max_length = 11;
      o.stride = 1;
      o.return_overflowing_tokens = true;
      o.padding = bertpp::Padding::max_length;
      // (byte-level BPE gives up to 4 tokens per character: a shorter pair keeps the
      // number of overflowing window combinations small)
      const std::string ps = t == &roberta ? s.substr(0, 16) : s;
      const auto p = t->encode(ps, ps, o);
      for (const auto& w : p.overflowing) EXPECT_EQ(w.size(), 11u);
      bertpp::EncodeOptions cut;  // bounded truncation: the start of the full encoding
      cut.truncation = bertpp::TruncationStrategy::longest_first;
      cut.max_length = 7;
      const auto c = t->encode(s, cut);
      const std::size_t k = std::min<std::size_t>(e.size(), 7);
      if (e.size() <= 7) {
        EXPECT_EQ(c.ids, e.ids);
      } else {
        ASSERT_EQ(c.size(), k);
        EXPECT_TRUE(std::equal(c.ids.begin() + 1, c.ids.end() - 1, e.ids.begin() + 1));
      }
      (void)t->decode(e.ids);
    }
  }
}

}  // namespace
