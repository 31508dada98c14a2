// SPDX-License-Identifier: Apache-2.0
// The Unigram model (SentencePiece), as HF's: Viterbi over the pieces of a byte trie with
// their scores (f64), an unknown node of score min_score - 10 for each character no
// single-character piece covers, consecutive unknowns fused into one token, and byte
// fallback (<0xNN> pieces) for unknown tokens when the model has it.
#pragma once

#include <bertpp/core/error.hpp>
#include <bertpp/tokenizer/detail/utf8.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bertpp {

namespace tokenizer_detail {

/// @brief A byte trie over a fixed set of keys: each node's children are a contiguous,
/// label-sorted range of `edges_`. Built from the sorted keys in O(total key bytes).
class ByteTrie {
 public:
  ByteTrie() = default;
  /// @brief Trie of `keys`; the value of a key is `values[i]` (for duplicate keys, the
  /// one of the last occurrence).
  ByteTrie(const std::vector<std::string>& keys, const std::vector<std::int32_t>& values) {
    std::vector<std::uint32_t> order(keys.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
    nodes_.push_back({0, 0, -1});
    // Work list: node, depth, [lo, hi) of `order` (keys sharing the node's prefix).
    struct Item {
      std::uint32_t node, depth, lo, hi;
    };
    std::vector<Item> work{{0, 0, 0, static_cast<std::uint32_t>(order.size())}};
    while (!work.empty()) {
      const Item it = work.back();
      work.pop_back();
      std::uint32_t i = it.lo;
      while (i < it.hi && keys[order[i]].size() == it.depth) {  // keys ending here
        nodes_[it.node].value = values[order[i]];
        ++i;
      }
      nodes_[it.node].first = static_cast<std::uint32_t>(edges_.size());
      std::vector<Item> kids;
      while (i < it.hi) {
        const auto label = static_cast<unsigned char>(keys[order[i]][it.depth]);
        std::uint32_t j = i + 1;
        while (j < it.hi && static_cast<unsigned char>(keys[order[j]][it.depth]) == label) ++j;
        const auto child = static_cast<std::uint32_t>(nodes_.size());
        nodes_.push_back({0, 0, -1});
        edges_.push_back({label, child});
        kids.push_back({child, it.depth + 1, i, j});
        i = j;
      }
      nodes_[it.node].count = static_cast<std::uint32_t>(edges_.size()) - nodes_[it.node].first;
      work.insert(work.end(), kids.rbegin(), kids.rend());
    }
  }

  /// @brief Calls `fn(length, value)` for each key that is a prefix of `s`, shortest first.
  template <typename Fn>
  void prefixes(std::string_view s, Fn&& fn) const {
    if (nodes_.empty()) return;
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const Node& node = nodes_[n];
      if (node.count == 0) return;
      const auto c = static_cast<unsigned char>(s[i]);
      const Edge* b = edges_.data() + node.first;
      const Edge* e = b + node.count;
      const Edge* hit =
          std::lower_bound(b, e, c, [](const Edge& x, unsigned char v) { return x.label < v; });
      if (hit == e || hit->label != c) return;
      n = hit->child;
      if (nodes_[n].value >= 0) fn(i + 1, nodes_[n].value);
    }
  }

  /// @brief Value of key `s`, or -1.
  std::int32_t find(std::string_view s) const {
    std::int32_t v = -1;
    prefixes(s, [&](std::size_t len, std::int32_t id) {
      if (len == s.size()) v = id;
    });
    return v;
  }

 private:
  struct Node {
    std::uint32_t first, count;
    std::int32_t value;
  };
  struct Edge {
    unsigned char label;
    std::uint32_t child;
  };
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
};

}  // namespace tokenizer_detail

/// @brief HF's Unigram model over (piece, score) pairs.
class Unigram {
 public:
  Unigram() = default;

  /// @brief Builds the model. `unk_id` < 0: none (an unknown character then fails).
  /// @throws TokenizerError (empty vocabulary, unk_id out of range, a piece that is empty
  /// or not valid UTF-8, a score that is not finite).
  Unigram(const std::vector<std::string>& pieces, const std::vector<double>& scores,
          std::int32_t unk_id, bool byte_fallback, const std::string& where = "Unigram")
      : unk_(unk_id), byte_fallback_(byte_fallback) {
    if (pieces.empty()) throw TokenizerError(where + ": the vocabulary is empty");
    if (pieces.size() != scores.size())
      throw TokenizerError(where + ": pieces and scores differ in number");
    if (unk_id >= static_cast<std::int64_t>(pieces.size()))
      throw TokenizerError(where + ": unk_id " + std::to_string(unk_id) +
                           " is not below the vocabulary size " + std::to_string(pieces.size()));
    scores_ = scores;
    std::vector<std::int32_t> ids(pieces.size());
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      const std::string& p = pieces[i];
      if (p.empty()) throw TokenizerError(where + ": piece " + std::to_string(i) + " is empty");
      if (!(scores[i] == scores[i]) || scores[i] == std::numeric_limits<double>::infinity() ||
          scores[i] == -std::numeric_limits<double>::infinity())
        throw TokenizerError(where + ": the score of piece " + std::to_string(i) +
                             " is not finite");
      std::size_t at = 0;
      for (; at < p.size();) {
        std::size_t len = 1;
        const auto* b = reinterpret_cast<const unsigned char*>(p.data()) + at;
        const std::uint32_t c = tokenizer_detail::decode_utf8(b, p.size() - at, len);
        if (c == tokenizer_detail::kReplacement &&
            !(len == 3 && b[0] == 0xEF && b[1] == 0xBF && b[2] == 0xBD))
          throw TokenizerError(where + ": piece " + std::to_string(i) + " is not valid UTF-8");
        at += len;
      }
      ids[i] = static_cast<std::int32_t>(i);  // the trie keeps the last id of a duplicate, as HF
      min_score_ = std::min(min_score_, scores[i]);
    }
    trie_ = tokenizer_detail::ByteTrie(pieces, ids);
    for (int b = 0; b < 256; ++b) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", b);
      byte_ids_[static_cast<std::size_t>(b)] = trie_.find(buf);
    }
  }

  bool byte_fallback() const { return byte_fallback_; }
  std::int32_t unk_id() const { return unk_; }

  /// @brief Tokenizes `word` (valid UTF-8), calling `emit(id, byte_begin, byte_end)` per
  /// token (byte-fallback tokens of one piece share its range).
  /// @throws TokenizerError when a character is unknown and the model has no unk_id.
  template <typename Emit>
  void tokenize_word(std::string_view word, Emit&& emit) const {
    const std::size_t n = word.size();
    if (n == 0) return;
    struct Best {
      double score;
      std::int32_t id;
      std::int32_t start;  // -1: not reached yet
    };
    thread_local std::vector<Best> best;
    best.assign(n + 1, Best{0.0, 0, -1});
    const double unk_score = min_score_ - 10.0;
    const auto* p = reinterpret_cast<const unsigned char*>(word.data());
    for (std::size_t s = 0; s < n;) {
      const double here = best[s].score;
      std::size_t mblen = 1;
      if (p[s] >= 0x80) tokenizer_detail::decode_utf8(p + s, n - s, mblen);
      bool single = false;
      trie_.prefixes(word.substr(s), [&](std::size_t len, std::int32_t id) {
        Best& t = best[s + len];
        const double cand = here + scores_[static_cast<std::size_t>(id)];
        if (t.start < 0 || cand > t.score) t = {cand, id, static_cast<std::int32_t>(s)};
        if (len == mblen) single = true;
      });
      if (!single) {
        if (unk_ < 0)
          throw TokenizerError("Unigram: unknown character at byte " + std::to_string(s) +
                               " and the model has no unk_id");
        Best& t = best[s + mblen];
        const double cand = here + unk_score;
        if (t.start < 0 || cand > t.score) t = {cand, unk_, static_cast<std::int32_t>(s)};
      }
      s += mblen;
    }
    // Backtrack; runs of unknown nodes become one token.
    struct Piece {
      std::size_t s, e;
      std::int32_t id;  // -1: a run of unknown characters
    };
    thread_local std::vector<Piece> pieces;
    pieces.clear();
    for (std::size_t e = n; e > 0;) {
      const Best& b = best[e];
      const auto s = static_cast<std::size_t>(b.start);
      const bool unk = unk_ >= 0 && b.id == unk_;
      if (unk && !pieces.empty() && pieces.back().id < 0) {
        pieces.back().s = s;
      } else {
        pieces.push_back({s, e, unk ? -1 : b.id});
      }
      e = s;
    }
    for (std::size_t k = pieces.size(); k-- > 0;) {
      const auto [s, e, pid] = pieces[k];
      if (pid >= 0) {
        emit(pid, s, e);
        continue;
      }
      const std::int32_t found = trie_.find(word.substr(s, e - s));
      if (found >= 0) {
        emit(found, s, e);
        continue;
      }
      if (byte_fallback_) {
        bool all = true;
        for (std::size_t i = s; i < e && all; ++i) all = byte_ids_[p[i]] >= 0;
        if (all) {
          for (std::size_t i = s; i < e; ++i) emit(byte_ids_[p[i]], s, e);
          continue;
        }
      }
      if (unk_ < 0) throw TokenizerError("Unigram: unknown token and the model has no unk_id");
      emit(unk_, s, e);
    }
  }

 private:
  std::vector<double> scores_;
  tokenizer_detail::ByteTrie trie_;
  double min_score_ = std::numeric_limits<double>::infinity();
  std::int32_t unk_ = -1;
  bool byte_fallback_ = false;
  std::int32_t byte_ids_[256] = {};
};

}  // namespace bertpp
