// SPDX-License-Identifier: Apache-2.0
// Byte-level BPE on a vocabulary that lacks most bytes (dropped, or <unk>, fused or not),
// against HF (tools/gen_byte_level_edge_data.py -> tests/tokenizer/data/byte_level_edge):
// ids, tokens, offsets and sequence ids, singles and pairs, with truncation and overflow.
#include <bertpp/tokenizer/tokenizer.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace {

const std::string kEdgeData =
    std::string(BERTPP_SOURCE_DIR) + "/tests/tokenizer/data/byte_level_edge/";

void expect_rows(const bertpp::Encoding& got, const nlohmann::json& rows, const std::string& at) {
  std::vector<const bertpp::Encoding*> all{&got};
  for (const auto& o : got.overflowing) all.push_back(&o);
  ASSERT_EQ(all.size(), rows.size()) << at;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& e = *all[r];
    const auto& want = rows[r];
    const std::string where = at + " row " + std::to_string(r);
    EXPECT_EQ(e.ids, want["ids"].get<std::vector<std::int32_t>>()) << where;
    EXPECT_EQ(e.tokens, want["tokens"].get<std::vector<std::string>>()) << where;
    std::vector<std::pair<std::size_t, std::size_t>> offsets;
    for (const auto& o : want["offsets"]) offsets.emplace_back(o[0], o[1]);
    EXPECT_EQ(e.offsets, offsets) << where;
    EXPECT_EQ(e.sequence_ids, want["sequence_ids"].get<std::vector<int>>()) << where;
  }
}

TEST(ByteLevelEdge, MatchesHf) {
  std::ifstream in(kEdgeData + "expected.json");
  ASSERT_TRUE(in) << kEdgeData << "expected.json";
  const auto expected = nlohmann::json::parse(in);
  ASSERT_EQ(expected.size(), 4u);
  std::size_t cases = 0;
  for (const auto& [name, list] : expected.items()) {
    const auto tok = bertpp::Tokenizer::from_tokenizer_json(kEdgeData + name + "/tokenizer.json");
    for (const auto& c : list) {
      bertpp::EncodeOptions o;
      o.add_special_tokens = c["add_special_tokens"].get<bool>();
      const auto max_length = c["max_length"].get<std::size_t>();
      if (max_length) {
        o.truncation = bertpp::TruncationStrategy::longest_first;
        o.max_length = max_length;
        o.stride = c["stride"].get<std::size_t>();
        o.return_overflowing_tokens = true;
      }
      const auto text = c["text"].get<std::string>();
      const std::string at = name + ": '" + text + "'";
      if (c["pair"].is_null()) {
        expect_rows(tok.encode(text, o), c["rows"], at);
      } else {
        expect_rows(tok.encode(text, c["pair"].get<std::string>(), o), c["rows"], at + " pair");
      }
      ++cases;
    }
  }
  EXPECT_GE(cases, 4u * 30);
}

}  // namespace
