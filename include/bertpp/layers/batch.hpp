// SPDX-License-Identifier: Apache-2.0
// A batch packed token after token, without padding: what every layer consumes.
#pragma once

#include <algorithm>
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

/// @brief How a forward runs a batch's layers (docs/design-notes.md, "Layer groups"): the
/// sequences in groups of consecutive whole sequences of at most a number of tokens (or
/// a run of consecutive sequences each longer than that), and the groups in lanes: one lane runs
/// each layer over its groups on one thread, the lanes side by side. One lane: every layer over
/// every group in turn, each operation on all of the context's threads.
struct GroupPlan {
  std::vector<std::size_t> first;       ///< group g is sequences [first[g], first[g + 1])
  std::vector<std::size_t> lane_first;  ///< lane l is groups [lane_first[l], lane_first[l + 1])
  std::size_t groups() const noexcept { return first.empty() ? 0 : first.size() - 1; }
  std::size_t lanes() const noexcept { return lane_first.empty() ? 0 : lane_first.size() - 1; }
};

/// @brief Plans `batch` into groups of at most `max_tokens` tokens in `lanes` lanes of
/// contiguous sequences with about equal token counts, or in one lane when the sequences
/// do not split that evenly (the largest lane over 10% above an equal share) or when there
/// are fewer sequences than lanes. `plan`'s vectors are reused (no allocation once grown).
inline void plan_groups(const PackedBatch& batch, std::size_t max_tokens, std::size_t lanes,
                        GroupPlan& plan) {
  const std::size_t n = batch.batch(), total = batch.tokens();
  if (lanes > n || total == 0) lanes = 1;
  for (;;) {
    plan.first.clear();
    plan.lane_first.clear();
    std::size_t rows = 0, seen = 0, lane = 0, largest = 0, lane_tokens = 0;
    bool long_run = false;  // the current group holds sequences longer than max_tokens
    for (std::size_t s = 0; s < n; ++s) {
      // Sequence s belongs to the lane its middle token falls in.
      const std::size_t mine =
          lanes == 1 ? 0 : std::min(lanes - 1, (2 * seen + batch.length[s]) * lanes / (2 * total));
      const bool is_long = batch.length[s] > max_tokens;
      if (s == 0 || mine != lane) {
        if (s > 0) largest = std::max(largest, lane_tokens);
        lane_tokens = 0;
        lane = mine;
        plan.lane_first.push_back(plan.first.size());
        plan.first.push_back(s);
        rows = 0;
      } else if (is_long != long_run || (!is_long && rows + batch.length[s] > max_tokens)) {
        // Consecutive long sequences stay together: a group that does not fit in the
        // cache gains nothing from being split (measured: 4 x 512 tokens, 3% slower so).
        plan.first.push_back(s);
        rows = 0;
      }
      long_run = is_long;
      rows += batch.length[s];
      lane_tokens += batch.length[s];
      seen += batch.length[s];
    }
    largest = std::max(largest, lane_tokens);
    plan.lane_first.push_back(plan.first.size());
    plan.first.push_back(n);
    if (lanes == 1) return;
    if (plan.lanes() == lanes && largest * lanes * 10 <= total * 11) return;
    lanes = 1;
  }
}

}  // namespace bertpp
