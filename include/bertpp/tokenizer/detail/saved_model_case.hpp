// SPDX-License-Identifier: Apache-2.0
// The lower-casing of a SavedModel folder's vocabulary when no option or config gives it,
// decided in one place for Tokenizer::load and TfHubPreprocessor::load.
#pragma once

#include <bertpp/io/tf_saved_model.hpp>
#include <bertpp/tokenizer/detail/files.hpp>

#include <optional>
#include <string>

namespace bertpp::tokenizer_detail {

/// @brief For the SavedModel folder `base` (ending in '/'): its `do_lower_case` variable
/// (Model Garden's exports) when it has variables and that variable; else the folder's
/// name, as for Google's checkpoints (`cased` without `uncased` keeps case).
/// @throws as tf2_do_lower_case.
inline bool saved_model_lower_case(const std::string& base) {
  std::optional<bool> lower;
  if (file_exists(base + "variables/variables.index")) lower = tf2_do_lower_case(base);
  return lower ? *lower : name_says_lower_case(base);
}

}  // namespace bertpp::tokenizer_detail
