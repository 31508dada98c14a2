// SPDX-License-Identifier: Apache-2.0
// Parity of bertpp's tokenizer with HF BertTokenizerFast on the committed corpus
// (tests/tokenizer/data/corpus.jsonl), five settings. The expected outputs are written at
// test time into the build tree by tools/make_tokenizer_fixtures.py (the ctest fixture
// `tokenizer_parity`, see parity.cmake); their format is described in that script.
// Each setting reports the number of mismatching cases per kind and prints the first few
// mismatches in detail; any mismatch fails the test.
#include <gtest/gtest.h>
#include <bertpp/tokenizer/tokenizer.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifndef BERTPP_PARITY_DIR
#define BERTPP_PARITY_DIR ""
#endif

namespace {

using nlohmann::json;
// Mismatches printed in detail per kind and setting (BERTPP_PARITY_SHOW overrides).
std::size_t shown() {
  const char* env = std::getenv("BERTPP_PARITY_SHOW");
  return env ? static_cast<std::size_t>(std::strtoul(env, nullptr, 10)) : 5;
}

// BERTPP_PARITY_EVERY=N checks only every N-th case of the expected outputs (and the
// lines of those single-text cases in the threaded batch check): the sanitizer build sets
// it (parity.cmake) to keep CI short. Default 1: everything.
std::size_t every() {
  const char* env = std::getenv("BERTPP_PARITY_EVERY");
  const auto n = env ? std::strtoul(env, nullptr, 10) : 1ul;
  return n > 0 ? static_cast<std::size_t>(n) : 1;
}

std::string parity_dir() {
  if (const char* env = std::getenv("BERTPP_PARITY_DIR")) return env;
  return BERTPP_PARITY_DIR;
}

// Escapes a UTF-8 string for the report: printable ASCII as is, everything else as \xNN
// (control bytes) or \u{XXXX} (code points), so invisible characters show.
std::string escaped(const std::string& s, std::size_t max_chars = 240) {
  std::ostringstream os;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size() && chars < max_chars; ++chars) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      os << s[i++];
      continue;
    }
    char buf[24];
    if (c < 0x80) {
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      ++i;
    } else {
      const int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      unsigned cp = len == 1 ? c : (c & (0x7Fu >> len));
      for (int k = 1; k < len && i + static_cast<std::size_t>(k) < s.size(); ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3Fu);
      std::snprintf(buf, sizeof buf, "\\u{%04X}", cp);
      i += static_cast<std::size_t>(len);
    }
    os << buf;
  }
  if (chars >= max_chars) os << "...";
  return os.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) out.push_back(line);
  return out;
}

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> out;
    for (const auto& l :
         read_lines(std::string(BERTPP_SOURCE_DIR) + "/tests/tokenizer/data/corpus.jsonl"))
      out.push_back(json::parse(l).get<std::string>());
    return out;
  }();
  return lines;
}

template <typename T>
std::vector<T> vec(const json& j) {
  return j.get<std::vector<T>>();
}

std::vector<std::int32_t> or_fill(const std::vector<std::int32_t>& v, std::size_t n, int fill) {
  return v.empty() ? std::vector<std::int32_t>(n, fill) : v;
}

// The first field where `got` differs from HF's `want` (a record's ENC), or "".
std::string diff(const json& want, const bertpp::Encoding& got) {
  const std::size_t n = got.ids.size();
  std::vector<std::pair<std::size_t, std::size_t>> off;
  for (const auto& o : want.at("off"))
    off.emplace_back(o[0].get<std::size_t>(), o[1].get<std::size_t>());
  const std::pair<const char*, bool> checks[] = {
      {"ids", vec<std::int32_t>(want.at("ids")) == got.ids},
      {"type_ids", vec<std::int32_t>(want.at("tt")) == or_fill(got.type_ids, n, 0)},
      {"attention_mask", vec<std::int32_t>(want.at("am")) == or_fill(got.attention_mask, n, 1)},
      {"special_tokens_mask", vec<std::int32_t>(want.at("stm")) == got.special_tokens_mask},
      {"offsets", off == got.offsets},
      {"word_ids", vec<std::int32_t>(want.at("w")) == got.word_ids},
      {"sequence_ids", vec<std::int32_t>(want.at("q")) == got.sequence_ids}};
  for (const auto& c : checks)
    if (!c.second) return c.first;
  return "";
}

// Checks the tokenizer's own consistency: tokens are the vocabulary entries of the ids,
// and byte offsets point at the same characters as the code-point offsets.
std::string self_check(const std::string& text, const bertpp::Encoding& e,
                       const std::vector<std::string>& vocab) {
  if (e.tokens.size() != e.ids.size()) return "tokens size";
  for (std::size_t k = 0; k < e.ids.size(); ++k)
    if (e.ids[k] < 0 || static_cast<std::size_t>(e.ids[k]) >= vocab.size() ||
        vocab[static_cast<std::size_t>(e.ids[k])] != e.tokens[k])
      return "tokens[" + std::to_string(k) + "] is not vocab[id]";
  std::vector<std::size_t> cp_to_byte;
  for (std::size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) cp_to_byte.push_back(i);
  cp_to_byte.push_back(text.size());
  if (e.byte_offsets.size() != e.offsets.size()) return "byte_offsets size";
  for (std::size_t k = 0; k < e.offsets.size(); ++k) {
    const auto [a, b] = e.offsets[k];
    if (b >= cp_to_byte.size() || a > b ||
        e.byte_offsets[k] != std::make_pair(cp_to_byte[a], cp_to_byte[b]))
      return "byte_offsets[" + std::to_string(k) + "] do not match offsets";
  }
  return "";
}

std::string show_hf(const json& want, const std::vector<std::string>& vocab) {
  std::ostringstream os;
  const auto& ids = want.at("ids");
  for (std::size_t k = 0; k < ids.size(); ++k) {
    const auto id = ids[k].get<std::size_t>();
    os << (id < vocab.size() ? escaped(vocab[id], 40) : "?") << '(' << id << ")["
       << want["off"][k][0] << ',' << want["off"][k][1] << "] ";
  }
  return os.str();
}

std::string show_ours(const bertpp::Encoding& e, const std::vector<std::string>& vocab) {
  std::ostringstream os;
  for (std::size_t k = 0; k < e.ids.size(); ++k) {
    const auto id = static_cast<std::size_t>(e.ids[k]);
    os << (id < vocab.size() ? escaped(vocab[id], 40) : "?") << '(' << e.ids[k] << ")[";
    if (k < e.offsets.size()) os << e.offsets[k].first << ',' << e.offsets[k].second;
    os << "] ";
  }
  return os.str();
}

bertpp::TruncationStrategy strategy(const json& s) {
  if (s.is_null()) return bertpp::TruncationStrategy::do_not_truncate;
  const auto v = s.get<std::string>();
  if (v == "longest_first") return bertpp::TruncationStrategy::longest_first;
  if (v == "only_first") return bertpp::TruncationStrategy::only_first;
  if (v == "only_second") return bertpp::TruncationStrategy::only_second;
  throw std::runtime_error("unknown truncation strategy " + v);
}

bertpp::Side side(const json& s) {
  return s.get<std::string>() == "left" ? bertpp::Side::left : bertpp::Side::right;
}

// Tallies per kind of case: how many, how many mismatch, and the first few in detail.
struct Tally {
  std::map<std::string, std::pair<std::size_t, std::size_t>> counts;  // kind -> (cases, bad)
  std::ostringstream details;
  void ok(const std::string& kind) { ++counts[kind].first; }
  bool bad(const std::string& kind) {
    auto& c = counts[kind];
    ++c.first;
    return ++c.second <= shown();
  }
  std::size_t total_bad() const {
    std::size_t n = 0;
    for (const auto& kv : counts) n += kv.second.second;
    return n;
  }
};

class Parity : public ::testing::TestWithParam<const char*> {};

TEST_P(Parity, MatchesHuggingFace) {
  const std::string setting = GetParam();
  const std::string path = parity_dir() + "/" + setting + ".jsonl";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "no expected outputs at " << path
                  << "; run `ctest -R tokenizer_parity` (its setup test writes them), or "
                     "tools/setup_python.sh tools/make_tokenizer_fixtures.py --out <dir> and set "
                     "BERTPP_PARITY_DIR=<dir>";
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const json header = json::parse(line);
  // A setting whose files could not be fetched (make_tokenizer_fixtures.py: SKIPPED).
  if (header.contains("skip"))
    GTEST_SKIP() << "[" << setting
                 << "] SKIPPED, not compared: " << header["skip"].get<std::string>();
  const auto& text = corpus();
  ASSERT_EQ(header.at("corpus_lines").get<std::size_t>(), text.size())
      << "expected outputs are stale: rerun the tokenizer_parity setup test";
  // BERT settings: a vocab.txt and BertTokenizerFast options; folder settings ("load_dir"):
  // the folder HF's tokenizer was loaded from, with HF's id -> token list.
  const bool folder = header.contains("load_dir");
  const std::string vocab_name = header.at("vocab").get<std::string>();
  const std::string vocab_path =
      std::string(BERTPP_FIXTURES_DIR) + "/vocab/" + vocab_name + "/vocab.txt";
  const auto vocab =
      folder ? header.at("vocab_list").get<std::vector<std::string>>() : read_lines(vocab_path);
  const auto tok = [&] {
    if (folder) return bertpp::Tokenizer::load(header["load_dir"].get<std::string>());
    bertpp::TokenizerOptions topt;
    topt.do_lower_case = header["options"]["do_lower_case"].get<bool>();
    topt.tokenize_chinese_chars = header["options"]["tokenize_chinese_chars"].get<bool>();
    topt.model_max_length =
        bertpp::TokenizerOptions::no_max_length;  // HF: no limit without a config
    return bertpp::Tokenizer::from_vocab_file(vocab_path, topt);
  }();

  Tally t;
  auto report = [&](const std::string& kind, const std::string& what, const std::string& where,
                    const json* want, const bertpp::Encoding* got) {
    if (!t.bad(kind)) return;
    t.details << "[" << setting << "] " << kind << " mismatch (" << what << ") " << where << "\n";
    if (want) t.details << "    HF:     " << show_hf(*want, vocab) << "\n";
    if (got) t.details << "    bertpp: " << show_ours(*got, vocab) << "\n";
  };
  auto where_of = [&](const json& rec) {
    std::ostringstream os;
    const auto i = rec.at("i").get<std::size_t>();
    os << "line " << i << ": \"" << escaped(text[i]) << "\"";
    if (rec.contains("j") && rec["j"].get<long>() >= 0)
      os << " / line " << rec["j"] << ": \"" << escaped(text[rec["j"].get<std::size_t>()]) << "\"";
    for (const char* k : {"strategy", "max_length", "stride", "side", "ast"})
      if (rec.contains(k)) os << ' ' << k << '=' << rec[k];
    return os.str();
  };
  // One case: run `fn` (which returns the encodings), compare with rec["e"] or rec["err"].
  auto check = [&](const std::string& kind, const json& rec, const std::string& where, auto fn) {
    std::vector<bertpp::Encoding> got;
    std::string error;
    try {
      got = fn();
    } catch (const std::exception& ex) {
      error = ex.what();
    }
    if (rec.contains("err")) {
      if (error.empty())
        report(kind, "HF fails with: " + rec["err"].get<std::string>() + "; bertpp does not throw",
               where, nullptr, got.empty() ? nullptr : &got[0]);
      else
        t.ok(kind);
      return;
    }
    const json& want = rec.at("e");
    if (!error.empty()) return report(kind, "bertpp throws: " + error, where, &want[0], nullptr);
    if (got.size() != want.size())
      return report(kind,
                    std::to_string(got.size()) + " encodings, HF " + std::to_string(want.size()),
                    where, &want[0], &got[0]);
    for (std::size_t k = 0; k < got.size(); ++k) {
      const std::string d = diff(want[k], got[k]);
      if (!d.empty())
        return report(kind, d + " of encoding " + std::to_string(k), where, &want[k], &got[k]);
    }
    t.ok(kind);
  };
  auto with_overflow = [](bertpp::Encoding e) {
    std::vector<bertpp::Encoding> all{e};
    for (auto& o : e.overflowing) all.push_back(std::move(o));
    return all;
  };

  std::vector<bertpp::Encoding> singles(text.size());
  std::vector<std::size_t> checked_lines;  // lines whose single-text case ran
  const std::size_t step = every();
  for (std::size_t n_rec = 0; std::getline(in, line); ++n_rec) {
    if (n_rec % step) continue;
    const json rec = json::parse(line);
    const std::string k = rec.at("k").get<std::string>();
    if (k == "s") {
      const auto i = rec.at("i").get<std::size_t>();
      const json want = json::array({rec.at("e")});
      check("single", {{"e", want}}, where_of(rec), [&] {
        singles[i] = tok.encode(text[i]);
        checked_lines.push_back(i);
        return std::vector<bertpp::Encoding>{singles[i]};
      });
      const std::string s = self_check(text[i], singles[i], vocab);
      if (s.empty())
        t.ok("self-consistency");
      else
        report("self-consistency", s, where_of(rec), nullptr, &singles[i]);
      std::vector<std::string> expect;
      const auto& e = rec["e"];
      for (std::size_t p = 0; p < e["ids"].size(); ++p)
        if (e["stm"][p].get<int>() == 0) expect.push_back(vocab[e["ids"][p].get<std::size_t>()]);
      std::vector<std::string> got;
      try {
        got = tok.tokenize(text[i]);
      } catch (const std::exception& ex) {
        got = {std::string("<throws: ") + ex.what() + ">"};
      }
      if (got == expect)
        t.ok("tokenize");
      else
        report("tokenize", "tokenize() differs from the HF tokens", where_of(rec), &e, nullptr);
    } else if (k == "p") {
      check("pair", {{"e", json::array({rec.at("e")})}}, where_of(rec), [&] {
        return std::vector<bertpp::Encoding>{
            tok.encode(text[rec["i"].get<std::size_t>()], text[rec["j"].get<std::size_t>()])};
      });
    } else if (k == "t" || k == "o") {
      bertpp::EncodeOptions o;
      o.truncation = strategy(rec["strategy"]);
      o.max_length = rec["max_length"].get<std::size_t>();
      o.truncation_side = side(rec["side"]);
      if (rec.contains("stride")) o.stride = rec["stride"].get<std::size_t>();
      if (rec.contains("ast")) o.add_special_tokens = rec["ast"].get<bool>();
      if (k == "o") o.return_overflowing_tokens = true;
      json r = rec;
      if (k == "t" && rec.contains("e")) r["e"] = json::array({rec["e"]});
      const auto a = text[rec["i"].get<std::size_t>()];
      const long j = rec["j"].get<long>();
      check(k == "t" ? "truncation" : "overflow", r, where_of(rec), [&] {
        auto e = j < 0 ? tok.encode(a, o) : tok.encode(a, text[static_cast<std::size_t>(j)], o);
        return k == "o" ? with_overflow(std::move(e)) : std::vector<bertpp::Encoding>{e};
      });
    } else if (k == "b") {
      bertpp::EncodeOptions o;
      const auto padding = rec["padding"].get<std::string>();
      o.padding = padding == "longest" ? bertpp::Padding::longest : bertpp::Padding::max_length;
      o.max_length = rec["max_length"].get<std::size_t>();
      o.padding_side = side(rec["side"]);
      o.pad_to_multiple_of = rec["multiple"].get<std::size_t>();
      o.truncation = strategy(rec["truncation"]);
      std::vector<std::string> singles_in;
      std::vector<std::pair<std::string, std::string>> pairs_in;
      std::ostringstream where;
      where << "batch of lines";
      for (const auto& it : rec["items"]) {
        const auto a = it[0].get<std::size_t>();
        const long b = it[1].get<long>();
        where << ' ' << a;
        if (b >= 0)
          pairs_in.emplace_back(text[a], text[static_cast<std::size_t>(b)]);
        else
          singles_in.push_back(text[a]);
      }
      where << " padding=" << padding << " max_length=" << o.max_length << " side=" << rec["side"]
            << " multiple=" << o.pad_to_multiple_of << " truncation=" << rec["truncation"]
            << (pairs_in.empty() ? "" : " (pairs)");
      check("padded-batch", rec, where.str(), [&] {
        return pairs_in.empty() ? tok.encode_batch(singles_in, o, 2)
                                : tok.encode_batch(pairs_in, o, 2);
      });
    } else if (k == "d") {
      const auto ids = vec<std::int32_t>(rec["ids"]);
      const std::pair<bool, bool> flags[] = {
          {true, true}, {true, false}, {false, true}, {false, false}};
      for (std::size_t f = 0; f < 4; ++f) {
        std::string got;
        try {
          got = tok.decode(ids, flags[f].first, flags[f].second);
        } catch (const std::exception& ex) {
          got = std::string("<throws: ") + ex.what() + ">";
        }
        const auto want = rec["out"][f].get<std::string>();
        if (got == want) {
          t.ok("decode");
        } else if (t.bad("decode")) {
          t.details << "[" << setting << "] decode mismatch (skip_special_tokens=" << flags[f].first
                    << " clean_up_tokenization_spaces=" << flags[f].second << ") " << where_of(rec)
                    << "\n    HF:     \"" << escaped(want) << "\"\n    bertpp: \"" << escaped(got)
                    << "\"\n";
        }
      }
    } else {
      FAIL() << "unknown record kind " << k << " in " << path;
    }
  }
  // Batches of all lines over threads must give the same as one by one.
  std::vector<std::string> batch_in;
  for (std::size_t i : checked_lines) batch_in.push_back(text[i]);
  const auto batch = tok.encode_batch(batch_in, {}, 4);
  for (std::size_t k = 0; k < checked_lines.size(); ++k) {
    const std::size_t i = checked_lines[k];
    if (batch[k].ids == singles[i].ids && batch[k].offsets == singles[i].offsets)
      t.ok("batch-4-threads");
    else
      report("batch-4-threads", "encode_batch(4 threads) differs from encode",
             "line " + std::to_string(i), nullptr, &batch[k]);
  }

  std::ostringstream summary;
  summary << "[" << setting << "]"
          << (step > 1 ? " (every " + std::to_string(step) + "th case only)" : "") << " vocab "
          << vocab_name << ", HF transformers " << header["transformers"].get<std::string>()
          << " / tokenizers " << header["tokenizers"].get<std::string>() << "; mismatches:";
  for (const auto& kv : t.counts)
    summary << ' ' << kv.first << ' ' << kv.second.second << '/' << kv.second.first << ';';
  std::cout << summary.str() << "\n" << t.details.str() << std::flush;
  RecordProperty("mismatches", static_cast<int>(t.total_bad()));
  EXPECT_EQ(t.total_bad(), 0u) << summary.str() << " (details above)";
}

INSTANTIATE_TEST_SUITE_P(
    Settings, Parity,
    ::testing::Values("uncased", "cased", "multilingual", "chinese", "uncased_nocjk", "roberta",
                      "roberta_json", "ernie1", "ernie3", "albert", "albert_json", "sp_unigram",
                      "sp_bytefallback", "sp_bpe", "sp_bpe_char", "sp_bpe_json",
                      "sp_bpe_bytefallback", "mpnet", "xlmr", "e5"),
    [](const ::testing::TestParamInfo<const char*>& p) { return std::string(p.param); });

}  // namespace
