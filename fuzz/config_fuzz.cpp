// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: config.json (BertConfig::from_json / from_file: every field's type and
// range) and what the heads read from it (labels, problem type, tied embeddings).
//
// Input: the config.json text.
#include <bertpp/core/config.hpp>
#include <bertpp/heads/task_model.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = bertpp_fuzz::scratch_dir() + "/config.json";
  bertpp_fuzz::write_file(path, data, size);
  try {
    const auto c = bertpp::BertConfig::from_file(path);
    c.validate();
    bertpp_fuzz::check(c.hidden_size > 0 && c.num_attention_heads > 0 &&
                           c.hidden_size % c.num_attention_heads == 0,
                       "validated sizes");
    bertpp_fuzz::check(c.head_size() * c.num_attention_heads == c.hidden_size, "head size");
    const auto labels = bertpp::HeadLabels::from_config(c);
    bertpp_fuzz::check(labels.size() >= 1, "at least one label");
  } catch (const bertpp::Error&) {
  }
  return 0;
}
