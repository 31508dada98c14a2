// SPDX-License-Identifier: Apache-2.0
// A batch packed token after token, without padding: what every layer consumes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bertpp {

/// @brief Sequences of different lengths packed into one [tokens x hidden] activation.
/// Sequence s occupies rows [start[s], start[s] + length[s]).
struct PackedBatch {
  std::vector<std::int32_t> ids;        ///< [tokens] word ids
  std::vector<std::int32_t> type_ids;   ///< [tokens] segment ids
  std::vector<std::int32_t> positions;  ///< [tokens] position ids
  std::vector<std::size_t> start;       ///< [batch] first row of each sequence
  std::vector<std::size_t> length;      ///< [batch] rows of each sequence
  /// [batch][length] index of each packed row in the caller's (possibly padded) sequence.
  std::vector<std::vector<std::size_t>> source_index;

  std::size_t tokens() const noexcept { return ids.size(); }
  std::size_t batch() const noexcept { return start.size(); }
};

}  // namespace bertpp
