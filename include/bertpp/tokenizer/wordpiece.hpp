// SPDX-License-Identifier: Apache-2.0
// Stage 3: WordPiece, greedy longest-match-first, as HF's WordPiece model.
//
// The vocabulary is stored as a byte trie with an open-addressing child table: matching a
// word walks the trie once per sub-token (the longest match is the last terminal node seen
// on the walk), with no allocation per word or token.
#pragma once

#include <bertpp/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertpp {

/// @brief HF's WordPiece model over a fixed vocabulary (token -> id).
class WordPiece {
 public:
  WordPiece() = default;

  /// @brief Builds the matcher. `vocab[i]` is the token with id i (empty strings and
  /// duplicates allowed: the last id of a duplicated token wins, as in HF's vocab dict).
  /// @throws TokenizerError if `unk_token` is not in the vocabulary.
  WordPiece(const std::vector<std::string>& vocab, const std::string& unk_token,
            std::string continuing_subword_prefix, std::size_t max_input_chars_per_word)
      : prefix_(std::move(continuing_subword_prefix)), max_chars_(max_input_chars_per_word) {
    term_.assign(2, -1);
    rehash(1024);
    for (std::size_t id = 0; id < vocab.size(); ++id) {
      const std::string& t = vocab[id];
      const auto iid = static_cast<std::int32_t>(id);
      if (t == unk_token) unk_id_ = iid;
      insert(0, t, iid);
      if (!prefix_.empty() && t.size() > prefix_.size() &&
          t.compare(0, prefix_.size(), prefix_) == 0)
        insert(1, std::string_view(t).substr(prefix_.size()), iid);
    }
    if (unk_id_ < 0)
      throw TokenizerError("WordPiece: unk_token '" + unk_token + "' is not in the vocabulary");
  }

  std::int32_t unk_id() const { return unk_id_; }

  /// @brief Tokenizes one word (valid UTF-8). Calls `emit(id, begin, end)` with byte ranges
  /// relative to `word`; a word with an unmatchable piece, or longer than
  /// max_input_chars_per_word code points, is one unk token over the whole word.
  template <typename Emit>
  void tokenize_word(std::string_view word, Emit&& emit) const {
    const auto* p = reinterpret_cast<const unsigned char*>(word.data());
    const std::size_t n = word.size();
    std::size_t chars = 0;
    for (std::size_t i = 0; i < n; ++i) chars += (p[i] & 0xC0) != 0x80;
    if (chars > max_chars_) {
      emit(unk_id_, std::size_t{0}, n);
      return;
    }
    // Pieces are buffered (no allocation) and emitted once the word is known to match; a
    // word with more pieces than the buffer holds is checked to its end before a flush.
    constexpr std::size_t kBuf = 32;
    std::int32_t ids[kBuf];
    std::uint32_t ends[kBuf];
    std::size_t nbuf = 0;
    std::size_t flushed_to = 0;  // pieces before this byte were already emitted
    std::size_t start = 0;
    while (start < n) {
      std::uint32_t node = start == 0 ? 0u : (prefix_.empty() ? 0u : 1u);
      std::int32_t best = -1;
      std::size_t best_end = 0;
      for (std::size_t i = start; i < n; ++i) {
        node = child(node, p[i]);
        if (node == kNone) break;
        const std::int32_t id = term_[node];
        if (id >= 0 && (i + 1 == n || (p[i + 1] & 0xC0) != 0x80)) {
          best = id;
          best_end = i + 1;
        }
      }
      if (best < 0) {
        emit(unk_id_, std::size_t{0}, n);
        return;
      }
      if (nbuf == kBuf) {
        // Buffer full: verify the rest of the word before emitting anything.
        if (!rest_matches(p, n, best_end)) {
          emit(unk_id_, std::size_t{0}, n);
          return;
        }
        std::size_t b = flushed_to;
        for (std::size_t k = 0; k < nbuf; ++k) {
          emit(ids[k], b, std::size_t{ends[k]});
          b = ends[k];
        }
        flushed_to = b;
        nbuf = 0;
      }
      ids[nbuf] = best;
      ends[nbuf] = static_cast<std::uint32_t>(best_end);
      ++nbuf;
      start = best_end;
    }
    std::size_t b = flushed_to;
    for (std::size_t k = 0; k < nbuf; ++k) {
      emit(ids[k], b, std::size_t{ends[k]});
      b = ends[k];
    }
  }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  bool rest_matches(const unsigned char* p, std::size_t n, std::size_t start) const {
    while (start < n) {
      std::uint32_t node = prefix_.empty() ? 0u : 1u;
      std::size_t best_end = 0;
      for (std::size_t i = start; i < n; ++i) {
        node = child(node, p[i]);
        if (node == kNone) break;
        if (term_[node] >= 0 && (i + 1 == n || (p[i + 1] & 0xC0) != 0x80)) best_end = i + 1;
      }
      if (best_end == 0) return false;
      start = best_end;
    }
    return true;
  }

  static std::size_t slot(std::uint64_t key, std::size_t mask) {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
  }

  std::uint32_t child(std::uint32_t node, unsigned char b) const {
    const std::uint64_t key = (std::uint64_t{node} << 8) | b;
    for (std::size_t s = slot(key, mask_);; s = (s + 1) & mask_) {
      if (keys_[s] == key) return vals_[s];
      if (keys_[s] == kEmpty) return kNone;
    }
  }

  void rehash(std::size_t cap) {
    std::vector<std::uint64_t> old_keys(cap, kEmpty);
    std::vector<std::uint32_t> old_vals(cap, 0);
    old_keys.swap(keys_);
    old_vals.swap(vals_);
    mask_ = cap - 1;
    for (std::size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] == kEmpty) continue;
      std::size_t s = slot(old_keys[i], mask_);
      while (keys_[s] != kEmpty) s = (s + 1) & mask_;
      keys_[s] = old_keys[i];
      vals_[s] = old_vals[i];
    }
  }

  void insert(std::uint32_t root, std::string_view t, std::int32_t id) {
    std::uint32_t node = root;
    for (unsigned char b : t) {
      if (2 * term_.size() > keys_.size()) rehash(keys_.size() * 2);  // load <= 1/2
      const std::uint64_t key = (std::uint64_t{node} << 8) | b;
      std::size_t s = slot(key, mask_);
      while (keys_[s] != kEmpty && keys_[s] != key) s = (s + 1) & mask_;
      if (keys_[s] == kEmpty) {
        keys_[s] = key;
        vals_[s] = static_cast<std::uint32_t>(term_.size());
        term_.push_back(-1);
      }
      node = vals_[s];
    }
    if (node >= 2) term_[node] = id;  // empty tokens never match (HF never looks them up)
  }

  std::string prefix_ = "##";
  std::size_t max_chars_ = 100;
  std::int32_t unk_id_ = -1;
  std::vector<std::int32_t> term_;  // per node: token id or -1; nodes 0, 1 are the roots
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> vals_;
  std::size_t mask_ = 0;
};

}  // namespace bertpp
