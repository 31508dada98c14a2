// SPDX-License-Identifier: Apache-2.0
// Turning a batch of Encodings into a PackedBatch (checked), and packed activations back
// into one padded matrix per sequence.
#pragma once

#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/encoding.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/core/types.hpp"
#include "bertpp/layers/batch.hpp"

namespace bertpp::detail {

/// @brief Checks every sequence and packs its unmasked tokens into `p` (its buffers are
/// reused: no allocation once they have held a batch this large).
/// @throws InputError naming the sequence (and position) at fault.
inline void pack(const std::vector<Encoding>& batch, const BertConfig& c, PackedBatch& p) {
  p.ids.clear();
  p.type_ids.clear();
  p.positions.clear();
  p.start.clear();
  p.length.clear();
  if (p.source_index.size() < batch.size()) p.source_index.resize(batch.size());
  auto where = [](std::size_t s) { return "input sequence " + std::to_string(s); };
  for (std::size_t s = 0; s < batch.size(); ++s) {
    const Encoding& e = batch[s];
    const std::size_t n = e.ids.size();
    if (n == 0) throw InputError(where(s) + ": no tokens");
    if (!e.type_ids.empty() && e.type_ids.size() != n)
      throw InputError(where(s) + ": type_ids has " + std::to_string(e.type_ids.size()) +
                       " entries but ids has " + std::to_string(n));
    if (!e.attention_mask.empty() && e.attention_mask.size() != n)
      throw InputError(where(s) + ": attention_mask has " +
                       std::to_string(e.attention_mask.size()) + " entries but ids has " +
                       std::to_string(n));
    std::size_t first = n;
    for (std::size_t j = 0; j < n; ++j) {
      const std::int32_t m = e.attention_mask.empty() ? 1 : e.attention_mask[j];
      if (m != 0 && m != 1)
        throw InputError(where(s) + ", position " + std::to_string(j) + ": attention_mask value " +
                         std::to_string(m) + " is not 0 or 1");
      if (m == 1 && first == n) first = j;
    }
    if (first == n) throw InputError(where(s) + ": attention_mask masks every position");
    p.start.push_back(p.ids.size());
    std::vector<std::size_t>& source = p.source_index[s];
    source.clear();
    // RoBERTa's positions (HF's create_position_ids_from_input_ids): padding_idx + the count
    // of non-padding ids up to and including this one, over the whole sequence.
    const bool roberta = c.position_offset > 0;
    const auto padding_idx = static_cast<std::int32_t>(c.position_offset - 1);
    std::int64_t non_pad = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const std::int32_t id = e.ids[j];
      if (roberta && id != padding_idx) ++non_pad;
      if (j < first || (!e.attention_mask.empty() && e.attention_mask[j] == 0)) continue;
      const std::int64_t pos = !roberta ? static_cast<std::int64_t>(j - first)
                                        : (id != padding_idx ? padding_idx + non_pad : padding_idx);
      if (pos >= c.max_position_embeddings)
        throw InputError(where(s) + ": " + std::to_string(n - first) +
                         " positions exceed max_position_embeddings (" +
                         std::to_string(c.max_position_embeddings) +
                         (roberta ? ", of which the first " + std::to_string(c.position_offset) +
                                        " are before the first position"
                                  : std::string()) +
                         ") at position " + std::to_string(j) + "; truncate the input");
      if (id < 0 || id >= c.vocab_size)
        throw InputError(where(s) + ", position " + std::to_string(j) + ": token id " +
                         std::to_string(id) + " is outside [0, " + std::to_string(c.vocab_size) +
                         ")");
      // DistilBERT has no token types: HF's model takes none, so given ones are not read.
      const std::int32_t type = e.type_ids.empty() || !c.has_token_types() ? 0 : e.type_ids[j];
      if (c.has_token_types() && (type < 0 || type >= c.type_vocab_size))
        throw InputError(where(s) + ", position " + std::to_string(j) + ": token type id " +
                         std::to_string(type) + " is outside [0, " +
                         std::to_string(c.type_vocab_size) + ")");
      p.ids.push_back(id);
      p.type_ids.push_back(type);
      p.positions.push_back(static_cast<std::int32_t>(pos));
      source.push_back(j);
    }
    p.length.push_back(source.size());
  }
}

/// @brief As above, into a new PackedBatch.
inline PackedBatch pack(const std::vector<Encoding>& batch, const BertConfig& c) {
  PackedBatch p;
  pack(batch, c, p);
  p.source_index.resize(batch.size());
  return p;
}

/// @brief packed [tokens x width] -> `out`, one [len_i x width] matrix per sequence, zero
/// rows at masked positions (matrices of the right size are reused, not reallocated).
template <typename T>
void unpack(const Matrix<T>& packed, const PackedBatch& p, const std::vector<Encoding>& batch,
            std::vector<Matrix<T>>& out) {
  out.resize(p.batch());
  for (std::size_t s = 0; s < p.batch(); ++s) {
    Matrix<T>& m = out[s];
    m.resize(static_cast<Eigen::Index>(batch[s].ids.size()), packed.cols());
    if (p.length[s] != batch[s].ids.size()) m.setZero();
    for (std::size_t k = 0; k < p.length[s]; ++k)
      m.row(static_cast<Eigen::Index>(p.source_index[s][k])) =
          packed.row(static_cast<Eigen::Index>(p.start[s] + k));
  }
}

/// @brief As above, into a new vector.
template <typename T>
std::vector<Matrix<T>> unpack(const Matrix<T>& packed, const PackedBatch& p,
                              const std::vector<Encoding>& batch) {
  std::vector<Matrix<T>> out;
  unpack(packed, p, batch, out);
  return out;
}

/// @brief Returns `config` if its sizes equal the preset's.
/// @throws ConfigError naming the first differing field.
inline const BertConfig& check_preset(const BertConfig& config, const BertConfig& preset,
                                      const char* name) {
  auto check = [&](const char* field, std::int64_t got, std::int64_t want) {
    if (got != want)
      throw ConfigError(config.source + ": " + name + " needs " + field + " = " +
                        std::to_string(want) + ", got " + std::to_string(got));
  };
  check("hidden_size", config.hidden_size, preset.hidden_size);
  check("num_hidden_layers", config.num_hidden_layers, preset.num_hidden_layers);
  check("num_attention_heads", config.num_attention_heads, preset.num_attention_heads);
  check("intermediate_size", config.intermediate_size, preset.intermediate_size);
  return config;
}

}  // namespace bertpp::detail
