// SPDX-License-Identifier: Apache-2.0
// What the pipelines share: their options (batching, truncation), checked encoding of the
// input texts, and small numeric helpers (softmax, sigmoid, top-k).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/core/types.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

/// @brief Options every pipeline takes.
///
/// Inputs longer than `max_length` tokens (special tokens included) are truncated by
/// default, as sentence-transformers and HF's token-classification pipeline do; with
/// `truncate = false` they are refused with an InputError instead. `max_length` 0 means the
/// model's maximum: the smaller of `max_position_embeddings` and the tokenizer's
/// `model_max_length`.
struct PipelineOptions {
  std::size_t max_length = 0;   ///< tokens per input, specials included; 0: the model's maximum
  bool truncate = true;         ///< false: an input longer than max_length is an InputError
  std::size_t batch_size = 32;  ///< inputs per forward call
  int num_threads = 1;          ///< threads of each forward call (and of batch tokenization)
};

/// @brief A pair of texts (premise and hypothesis, query and passage, A and B).
using TextPair = std::pair<std::string, std::string>;

/// @brief True when `text` is empty or only ASCII whitespace (a text the pipelines refuse
/// as empty).
inline bool is_blank(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(), [](char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
  });
}

namespace detail {

/// @brief The effective max_length of `o` for a model with config `c` and tokenizer `t`
/// (inputs of two texts when `pair`), after checking the options.
/// @throws InputError naming the option when `batch_size` is 0, or when the effective
/// max_length leaves no room for text beside the special tokens (e.g. max_length 1).
inline std::size_t max_length(const PipelineOptions& o, const BertConfig& c, const Tokenizer& t,
                              bool pair = false) {
  if (o.batch_size == 0)
    throw InputError("PipelineOptions::batch_size is 0; it must be at least 1");
  // RoBERTa-style positions start past the padding index: 514 embeddings hold 512 tokens.
  std::size_t m = static_cast<std::size_t>(c.max_position_embeddings - c.position_offset);
  m = std::min(m, t.options().model_max_length);
  m = o.max_length ? std::min(o.max_length, m) : m;
  const std::size_t specials = pair ? t.encode("", "").size() : t.encode("").size();
  if (m <= specials)
    throw InputError(
        "PipelineOptions::max_length: " + std::to_string(m) +
        " tokens (the smallest of max_length " + std::to_string(o.max_length) +
        ", max_position_embeddings and the tokenizer's model_max_length) leave no room "
        "for text beside the " +
        std::to_string(specials) + " special tokens");
  return m;
}

/// @brief Throws InputError when `text` is empty or only whitespace.
inline void require_text(std::string_view text, const std::string& where) {
  if (is_blank(text)) throw InputError(where + " is empty");
}

/// @brief The value that `table` gives `name` (an option's spelling), or an InputError naming
/// `option`, the name and every accepted spelling.
template <class E, std::size_t N>
E enum_from_name(const std::string& name, const std::string& option,
                 const std::pair<const char*, E> (&table)[N]) {
  std::string accepted;
  for (const auto& [spelling, value] : table) {
    if (name == spelling) return value;
    accepted += (accepted.empty() ? "" : ", ") + std::string(spelling);
  }
  throw InputError(option + ": '" + name + "' is not one of " + accepted);
}

/// @brief Encodes `a` (and `b` when given), truncated to `max_len` by `strategy` (longest
/// first by default) when `truncate`, else refused with an InputError naming `where` when
/// too long.
/// @throws InputError when too long and not `truncate`, or when `strategy` cannot cut enough
/// (only_first / only_second: that text is too short).
inline Encoding encode(const Tokenizer& tok, std::string_view a, const std::string_view* b,
                       std::size_t max_len, bool truncate, const std::string& where,
                       TruncationStrategy strategy = TruncationStrategy::longest_first) {
  Encoding e = b ? tok.encode(a, *b) : tok.encode(a);
  if (e.size() <= max_len) return e;
  if (!truncate)
    throw InputError(where + " has " + std::to_string(e.size()) + " tokens, more than max_length " +
                     std::to_string(max_len) + " (PipelineOptions::truncate is false)");
  EncodeOptions opt;
  opt.truncation = strategy;
  opt.max_length = max_len;
  try {
    return b ? tok.encode(a, *b, opt) : tok.encode(a, opt);
  } catch (const TokenizerError& err) {
    throw InputError(where + " has " + std::to_string(e.size()) + " tokens, more than max_length " +
                     std::to_string(max_len) + ", and cannot be truncated: " + err.what());
  }
}

/// @brief Pairs [b0, b1) checked (neither text empty) and encoded as by encode() (`[CLS] A
/// [SEP] B [SEP]` with token types 0 then 1); errors name "<pipeline>: pair <index>".
/// @throws InputError for an empty text, or an over-long pair when `truncate` is false or
/// `strategy` cannot cut enough.
inline std::vector<Encoding> encode_pairs(
    const Tokenizer& tok, const std::vector<TextPair>& pairs, std::size_t b0, std::size_t b1,
    std::size_t max_len, bool truncate, const char* pipeline,
    TruncationStrategy strategy = TruncationStrategy::longest_first) {
  std::vector<Encoding> batch;
  batch.reserve(b1 - b0);
  for (std::size_t i = b0; i < b1; ++i) {
    const std::string name = std::string(pipeline) + ": pair " + std::to_string(i);
    require_text(pairs[i].first, name + ", first text");
    require_text(pairs[i].second, name + ", second text");
    const std::string_view b = pairs[i].second;
    batch.push_back(encode(tok, pairs[i].first, &b, max_len, truncate, name, strategy));
  }
  return batch;
}

/// @brief Texts [b0, b1) checked (not empty) and encoded as by encode(); errors name
/// "<pipeline>: text <index>".
/// @throws InputError for an empty text, or an over-long one when `truncate` is false.
inline std::vector<Encoding> encode_texts(const Tokenizer& tok,
                                          const std::vector<std::string>& texts, std::size_t b0,
                                          std::size_t b1, std::size_t max_len, bool truncate,
                                          const char* pipeline) {
  std::vector<Encoding> batch;
  batch.reserve(b1 - b0);
  for (std::size_t i = b0; i < b1; ++i) {
    const std::string name = std::string(pipeline) + ": text " + std::to_string(i);
    require_text(texts[i], name);
    batch.push_back(encode(tok, texts[i], nullptr, max_len, truncate, name));
  }
  return batch;
}

/// @brief Calls f(begin, end) for consecutive ranges of at most `size` of [0, n); a size
/// of 0 counts as 1. Never overflows, whatever `size`.
template <typename F>
void for_batches(std::size_t n, std::size_t size, F&& f) {
  size = std::max<std::size_t>(size, 1);
  for (std::size_t b = 0; b < n; b += std::min(size, n - b)) f(b, b + std::min(size, n - b));
}

/// @brief Softmax of `x` [n] (max-subtracted), in double.
template <typename V>
std::vector<double> softmax(const V& x) {
  std::vector<double> out(static_cast<std::size_t>(x.size()));
  double max = -INFINITY;
  for (Eigen::Index i = 0; i < x.size(); ++i) max = std::max(max, static_cast<double>(x[i]));
  double sum = 0.0;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    sum += out[static_cast<std::size_t>(i)] = std::exp(static_cast<double>(x[i]) - max);
  for (auto& v : out) v /= sum;
  return out;
}

/// @brief 1 / (1 + exp(-x)).
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// @brief Indices of the `k` largest values, largest first (ties: lower index first).
inline std::vector<std::size_t> top_k(const std::vector<double>& v, std::size_t k) {
  std::vector<std::size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  k = std::min(k, v.size());
  std::partial_sort(
      idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
      [&](std::size_t a, std::size_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  idx.resize(k);
  return idx;
}

/// @brief Number of code points of UTF-8 `s`.
inline std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

}  // namespace detail
}  // namespace bertpp
