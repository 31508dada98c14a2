// SPDX-License-Identifier: Apache-2.0
// The plain input type: what the tokenizer produces and the model consumes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bertpp {

/// @brief One tokenized sequence (single text or pair), as HF's `Encoding`.
///
/// The model reads `ids`, `type_ids` and `attention_mask` (all the same length; an empty
/// `type_ids` means all zeros, an empty `attention_mask` means all ones). The other fields
/// are filled by the tokenizer for users and pipelines.
struct Encoding {
  std::vector<std::int32_t> ids;                  ///< token ids
  std::vector<std::int32_t> type_ids;             ///< segment (token type) ids
  std::vector<std::int32_t> attention_mask;       ///< 1 = real token, 0 = padding
  std::vector<std::int32_t> special_tokens_mask;  ///< 1 = added special token
  std::vector<std::string> tokens;                ///< token strings
  /// Offsets of each token in the original text, in Unicode code points (HF's
  /// offset_mapping); (0, 0) for special and padding tokens.
  std::vector<std::pair<std::size_t, std::size_t>> offsets;
  /// The same offsets in bytes of the UTF-8 input.
  std::vector<std::pair<std::size_t, std::size_t>> byte_offsets;
  /// Index of the word each token comes from (-1 for special and padding tokens).
  std::vector<std::int32_t> word_ids;
  /// Which input each token comes from: 0 = first text, 1 = second, -1 = special/padding.
  std::vector<std::int32_t> sequence_ids;
  /// Windows cut off by truncation with overflow (`return_overflowing_tokens`), each a full
  /// encoding with its own special tokens.
  std::vector<Encoding> overflowing;

  /// @brief Number of positions (tokens, including padding).
  std::size_t size() const noexcept { return ids.size(); }

  /// @brief A model input made of ids only (type ids 0, mask 1).
  static Encoding from_ids(std::vector<std::int32_t> ids_in,
                           std::vector<std::int32_t> type_ids_in = {},
                           std::vector<std::int32_t> mask_in = {}) {
    Encoding e;
    e.ids = std::move(ids_in);
    e.type_ids = std::move(type_ids_in);
    e.attention_mask = std::move(mask_in);
    return e;
  }
};

}  // namespace bertpp
