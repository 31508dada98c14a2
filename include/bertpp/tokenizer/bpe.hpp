// SPDX-License-Identifier: Apache-2.0
// The BPE model, as HF's: a word's characters (or bytes, byte-level) merged pair by pair in
// the order of the merge ranks (lowest rank first, leftmost first), with unk / fuse_unk /
// byte_fallback for characters outside the vocabulary, ignore_merges, and a per-thread
// cache of recent words.
#pragma once

#include <bertpp/core/error.hpp>
#include <bertpp/tokenizer/byte_level.hpp>
#include <bertpp/tokenizer/detail/utf8.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bertpp {

/// @brief HF's BPE model options (the fields of tokenizer.json's "model").
struct BpeOptions {
  std::string unk_token;  ///< empty: none (unknown characters are dropped, as HF)
  std::string continuing_subword_prefix, end_of_word_suffix;
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  bool byte_level = false;  ///< words are bytes mapped by GPT-2's byte_to_char (ByteLevel)
};

/// @brief HF's BPE model over a vocabulary and ranked merges.
class Bpe {
 public:
  Bpe() = default;

  /// @brief Builds the model. `vocab[i]` is the token of id i; `merges` are token pairs in
  /// rank order. @throws TokenizerError when a merge or the unk token is not in the vocab.
  Bpe(const std::vector<std::string>& vocab,
      const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions o)
      : opt_(std::move(o)), uid_(next_uid()) {
    ids_.reserve(vocab.size());
    for (std::size_t i = 0; i < vocab.size(); ++i) ids_[vocab[i]] = static_cast<std::int32_t>(i);
    if (!opt_.unk_token.empty()) {
      const auto it = ids_.find(opt_.unk_token);
      if (it == ids_.end())
        throw TokenizerError("BPE: unk_token '" + opt_.unk_token + "' is not in the vocabulary");
      unk_ = it->second;
    }
    merges_.reserve(merges.size());
    for (std::size_t r = 0; r < merges.size(); ++r) {
      const auto& m = merges[r];
      const auto a = ids_.find(m.first), b = ids_.find(m.second);
      std::string joined = m.first;
      joined += m.second.compare(0, opt_.continuing_subword_prefix.size(),
                                 opt_.continuing_subword_prefix) == 0
                    ? m.second.substr(opt_.continuing_subword_prefix.size())
                    : m.second;
      const auto c = ids_.find(joined);
      if (a == ids_.end() || b == ids_.end() || c == ids_.end())
        throw TokenizerError("BPE: merge " + std::to_string(r) + " ('" + m.first + "' '" +
                             m.second + "') uses a token that is not in the vocabulary");
      merges_.emplace(key(a->second, b->second),
                      Merge{static_cast<std::uint32_t>(r), c->second});  // first rank wins
    }
    for (int b = 0; b < 256; ++b) {
      std::string s;
      if (opt_.byte_level) {
        tokenizer_detail::append_utf8(
            s, tokenizer_detail::byte_to_char()[static_cast<std::size_t>(b)]);
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        s = buf;
      }
      const auto it = ids_.find(s);
      byte_ids_[static_cast<std::size_t>(b)] = it == ids_.end() ? -1 : it->second;
    }
  }

  const BpeOptions& options() const { return opt_; }

  /// @brief Tokenizes one word (valid UTF-8): calls `emit(id, begin, end)` with byte ranges
  /// relative to `word`.
  template <typename Emit>
  void tokenize_word(std::string_view word, Emit&& emit) const {
    if (word.empty()) return;
    auto& cache = word_cache(uid_);
    const std::string key_word(word);
    const auto hit = cache.words.find(key_word);
    if (hit != cache.words.end()) {
      emit_pieces(word, hit->second, emit);
      return;
    }
    auto& out = cache.scratch_out;
    out.clear();
    merge_word(word, out);
    emit_pieces(word, out, emit);
    if (cache.words.size() >= kCacheSize) cache.words.clear();
    cache.words.emplace(key_word, out);
  }

 private:
  struct Merge {
    std::uint32_t rank;
    std::int32_t id;
  };
  struct Symbol {
    std::int32_t id;
    std::uint32_t len;  // bytes (byte-level: of the mapped character); offsets are
                        // cumulative over the symbols, as HF's (a dropped character
                        // counts for nothing)
    std::int32_t prev, next;
  };
  using Pieces = std::vector<std::pair<std::int32_t, std::uint32_t>>;  // id, end (see len)
  struct Cache {
    std::uint64_t uid = 0;  // the model whose words these are (0: unused)
    std::unordered_map<std::string, Pieces> words;
    Pieces scratch_out;
  };
  struct Scratch {
    std::vector<Symbol> symbols;
    std::vector<std::pair<std::uint64_t, std::int32_t>> heap;  // (rank << 32 | pos), new id
  };
  static constexpr std::size_t kCaches = 4;  // models with a word cache, per thread
  static constexpr std::size_t kCacheSize = 10000;

  static std::uint64_t key(std::int32_t a, std::int32_t b) {
    return (std::uint64_t{static_cast<std::uint32_t>(a)} << 32) | static_cast<std::uint32_t>(b);
  }
  static std::uint64_t next_uid() {
    static std::atomic<std::uint64_t> n{0};
    return ++n;
  }
  /// The calling thread's cache for model `uid`: one of kCaches, the oldest reused (ids
  /// are never reused, so a cache never serves another model).
  static Cache& word_cache(std::uint64_t uid) {
    thread_local Cache caches[kCaches];
    thread_local std::size_t next = 0;
    for (auto& c : caches)
      if (c.uid == uid) return c;
    Cache& c = caches[next];
    next = (next + 1) % kCaches;
    c.words.clear();
    c.uid = uid;
    return c;
  }
  static Scratch& scratch() {
    thread_local Scratch s;
    return s;
  }

  /// The UTF-8 length of byte c's character in GPT-2's byte_to_char map (1 or 2).
  static std::uint32_t mapped_len(unsigned char c) {
    return tokenizer_detail::byte_to_char()[c] < 0x80 ? 1 : 2;
  }

  /// Calls emit(id, begin, end) for the pieces, with byte ranges of `word`. Byte-level
  /// pieces count in bytes of the mapped text, as HF's (its word is the mapped text); a
  /// range is taken back to the bytes whose mapped characters it touches, as HF's
  /// alignments do. That differs from counting word bytes only after a dropped byte.
  template <typename Emit>
  void emit_pieces(std::string_view word, const Pieces& pieces, Emit& emit) const {
    std::uint32_t b = 0;
    if (!opt_.byte_level) {
      for (const auto& t : pieces) {
        emit(t.first, std::size_t{b}, std::size_t{t.second});
        b = t.second;
      }
      return;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(word.data());
    std::size_t k = 0;                     // the byte whose mapped range holds the position asked
    std::uint32_t k_begin = 0;             // where byte k's mapped range starts
    auto byte_at = [&](std::uint32_t m) {  // m never decreases from one call to the next
      while (k + 1 < word.size() && k_begin + mapped_len(p[k]) <= m) k_begin += mapped_len(p[k++]);
      return k;
    };
    for (const auto& t : pieces) {
      const std::size_t tb = byte_at(b);
      emit(t.first, tb, byte_at(t.second - 1) + 1);
      b = t.second;
    }
  }

  std::int32_t lookup(std::string_view s) const {
    const auto it = ids_.find(std::string(s));
    return it == ids_.end() ? -1 : it->second;
  }

  /// The initial symbols of HF's BPE::merge_word, then the merges.
  void merge_word(std::string_view word, Pieces& out) const {
    const auto* p = reinterpret_cast<const unsigned char*>(word.data());
    const std::size_t n = word.size();
    if (opt_.ignore_merges) {
      const std::int32_t whole = opt_.byte_level ? lookup(mapped(word)) : lookup(word);
      if (whole >= 0) {
        std::uint32_t len = static_cast<std::uint32_t>(n);
        if (opt_.byte_level) {
          len = 0;
          for (std::size_t k = 0; k < n; ++k) len += mapped_len(p[k]);
        }
        out.emplace_back(whole, len);
        return;
      }
    }
    auto& syms = scratch().symbols;
    syms.clear();
    auto add = [&](std::int32_t id, std::size_t b, std::size_t e) {
      const auto k = static_cast<std::int32_t>(syms.size());
      syms.push_back({id, static_cast<std::uint32_t>(e - b), k - 1, k + 1});
    };
    bool prev_unk = false;
    std::string piece;
    for (std::size_t i = 0; i < n;) {
      std::size_t len = 1;
      if (p[i] >= 0x80) tokenizer_detail::decode_utf8(p + i, n - i, len);
      if (opt_.byte_level) {  // each byte is a symbol
        for (std::size_t k = i; k < i + len; ++k) {
          const std::int32_t id = byte_ids_[p[k]];
          if (id >= 0) {
            add(id, 0, mapped_len(p[k]));
            prev_unk = false;
          } else if (unk_ >= 0) {
            if (opt_.fuse_unk && prev_unk) {
              syms.back().len += mapped_len(p[k]);
            } else {
              add(unk_, 0, mapped_len(p[k]));
            }
            prev_unk = true;
          }
        }
        i += len;
        continue;
      }
      piece.clear();
      if (i > 0) piece += opt_.continuing_subword_prefix;
      piece.append(word.substr(i, len));
      if (i + len == n) piece += opt_.end_of_word_suffix;
      const std::int32_t id = lookup(piece);
      if (id >= 0) {
        add(id, i, i + len);
        prev_unk = false;
      } else if (opt_.byte_fallback && std::all_of(p + i, p + i + len, [&](unsigned char c) {
                   return byte_ids_[c] >= 0;
                 })) {
        for (std::size_t k = i; k < i + len; ++k) add(byte_ids_[p[k]], k, k + 1);
        prev_unk = false;
      } else if (unk_ >= 0) {
        if (opt_.fuse_unk && prev_unk) {
          syms.back().len += static_cast<std::uint32_t>(len);
        } else {
          add(unk_, i, i + len);
        }
        prev_unk = true;
      }
      i += len;
    }
    if (syms.empty()) return;
    syms.back().next = -1;
    // Merges: a min-heap on (rank, position); stale entries are skipped when popped.
    auto& heap = scratch().heap;
    heap.clear();
    auto greater = [](const std::pair<std::uint64_t, std::int32_t>& a,
                      const std::pair<std::uint64_t, std::int32_t>& b) {
      return a.first > b.first;
    };
    auto push_pair = [&](std::int32_t pos) {
      const Symbol& s = syms[static_cast<std::size_t>(pos)];
      if (s.next < 0) return;
      const auto it = merges_.find(key(s.id, syms[static_cast<std::size_t>(s.next)].id));
      if (it == merges_.end()) return;
      heap.emplace_back((std::uint64_t{it->second.rank} << 32) | static_cast<std::uint32_t>(pos),
                        it->second.id);
      std::push_heap(heap.begin(), heap.end(), greater);
    };
    for (std::size_t k = 0; k + 1 < syms.size(); ++k) push_pair(static_cast<std::int32_t>(k));
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), greater);
      const auto top = heap.back();
      heap.pop_back();
      const auto pos = static_cast<std::int32_t>(top.first & 0xFFFFFFFFu);
      Symbol& s = syms[static_cast<std::size_t>(pos)];
      if (s.id < 0 || s.next < 0) continue;  // merged away, or last
      Symbol& r = syms[static_cast<std::size_t>(s.next)];
      const auto it = merges_.find(key(s.id, r.id));
      if (it == merges_.end() || it->second.id != top.second) continue;  // stale
      s.id = top.second;
      s.len += r.len;
      r.id = -1;
      s.next = r.next;
      if (s.next >= 0) syms[static_cast<std::size_t>(s.next)].prev = pos;
      if (s.prev >= 0) push_pair(s.prev);
      push_pair(pos);
    }
    std::uint32_t end = 0;
    for (std::size_t k = 0; k < syms.size(); ++k) {
      if (syms[k].id < 0) continue;
      end += syms[k].len;
      out.emplace_back(syms[k].id, end);
    }
  }

  static std::string mapped(std::string_view word) {
    std::string s;
    for (unsigned char c : word)
      tokenizer_detail::append_utf8(s, tokenizer_detail::byte_to_char()[c]);
    return s;
  }

  BpeOptions opt_;
  std::uint64_t uid_ = 0;
  std::unordered_map<std::string, std::int32_t> ids_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  std::int32_t byte_ids_[256] = {};
  std::int32_t unk_ = -1;
};

}  // namespace bertpp
