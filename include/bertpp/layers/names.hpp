// SPDX-License-Identifier: Apache-2.0
// The tensor names of each BERT family's encoder, as HF's modules name them (without the
// task models' prefix, "bert.", "roberta.", ...), and ALBERT's layer-sharing schedule. One
// table per family; the shared layers take their names from here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/io/tensor_table.hpp"

namespace bertpp {

/// @brief The stems (name without ".weight" / ".bias") of one encoder layer's tensors.
struct LayerNames {
  std::string query, key, value;  ///< the three projections, fused at load
  std::string attention_output;   ///< attention output dense
  std::string attention_norm;     ///< LayerNorm after attention + residual
  std::string ffn_in, ffn_out;    ///< feed-forward dense layers
  std::string output_norm;        ///< LayerNorm after feed-forward + residual
};

/// @brief The stems of the embeddings' tensors; an empty stem: the family has no such tensor.
struct EmbeddingNames {
  std::string word, position, token_type, task_type, norm;
  std::string projection;  ///< embedding_size -> hidden_size dense (ALBERT, ELECTRA)
};

/// @brief Stored layer `i` (0 <= i < c.stored_layers()) of the family of `c`.
inline LayerNames layer_names(const EncoderConfig& c, std::int64_t i) {
  switch (c.family) {
    case Family::distilbert: {
      const std::string p = "transformer.layer." + std::to_string(i) + ".";
      return {p + "attention.q_lin",   p + "attention.k_lin",  p + "attention.v_lin",
              p + "attention.out_lin", p + "sa_layer_norm",    p + "ffn.lin1",
              p + "ffn.lin2",          p + "output_layer_norm"};
    }
    case Family::albert: {
      const std::string p = "encoder.albert_layer_groups." + std::to_string(i / c.inner_group_num) +
                            ".albert_layers." + std::to_string(i % c.inner_group_num) + ".";
      return {p + "attention.query", p + "attention.key",        p + "attention.value",
              p + "attention.dense", p + "attention.LayerNorm",  p + "ffn",
              p + "ffn_output",      p + "full_layer_layer_norm"};
    }
    case Family::mpnet: {
      const std::string p = "encoder.layer." + std::to_string(i) + ".";
      return {p + "attention.attn.q", p + "attention.attn.k",    p + "attention.attn.v",
              p + "attention.attn.o", p + "attention.LayerNorm", p + "intermediate.dense",
              p + "output.dense",     p + "output.LayerNorm"};
    }
    default: {
      const std::string p = "encoder.layer." + std::to_string(i) + ".";
      return {p + "attention.self.query",
              p + "attention.self.key",
              p + "attention.self.value",
              p + "attention.output.dense",
              p + "attention.output.LayerNorm",
              p + "intermediate.dense",
              p + "output.dense",
              p + "output.LayerNorm"};
    }
  }
}

/// @brief The embeddings of the family of `c`.
inline EmbeddingNames embedding_names(const EncoderConfig& c) {
  EmbeddingNames n{"embeddings.word_embeddings",
                   "embeddings.position_embeddings",
                   "",
                   "",
                   "embeddings.LayerNorm",
                   ""};
  if (c.has_token_types()) n.token_type = "embeddings.token_type_embeddings";
  if (c.use_task_id) n.task_type = "embeddings.task_type_embeddings";
  if (c.family == Family::albert) n.projection = "encoder.embedding_hidden_mapping_in";
  if (c.family == Family::electra && c.embedding_dim() != c.hidden_size)
    n.projection = "embeddings_project";
  return n;
}

/// @brief The pooler's dense layer ("" when the family has none: DistilBERT, ELECTRA).
inline std::string pooler_name(const EncoderConfig& c) {
  switch (c.family) {
    case Family::albert:
      return "pooler";
    case Family::distilbert:
    case Family::electra:
      return "";
    default:
      return "pooler.dense";
  }
}

/// @brief MPNet's relative attention bias, shared by the layers ([buckets x heads]); "" for
/// the other families.
inline std::string relative_bias_name(const EncoderConfig& c) {
  return c.family == Family::mpnet ? "encoder.relative_attention_bias" : "";
}

/// @brief The stored layer each applied layer runs, in order: 0 .. L-1, except ALBERT, whose
/// layer i runs the inner layers of group int(i / (L / groups)) (HF's AlbertTransformer,
/// the division in floating point as HF computes it).
inline std::vector<std::int64_t> layer_schedule(const EncoderConfig& c) {
  std::vector<std::int64_t> s;
  if (c.family != Family::albert) {
    for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) s.push_back(i);
    return s;
  }
  const double per_group =
      static_cast<double>(c.num_hidden_layers) / static_cast<double>(c.num_hidden_groups);
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const auto group = static_cast<std::int64_t>(static_cast<double>(i) / per_group);
    for (std::int64_t j = 0; j < c.inner_group_num; ++j) s.push_back(group * c.inner_group_num + j);
  }
  return s;
}

/// @brief Appends `<stem>.weight` [rows x cols] and `<stem>.bias` [rows] to `out`.
inline void linear_specs(const std::string& stem, std::int64_t rows, std::int64_t cols,
                         std::vector<TensorSpec>& out, bool required = true) {
  out.push_back({stem + ".weight", {rows, cols}, required});
  out.push_back({stem + ".bias", {rows}, required});
}

/// @brief Appends a LayerNorm's `<stem>.weight` and `<stem>.bias` [width] to `out`.
inline void norm_specs(const std::string& stem, std::int64_t width, std::vector<TensorSpec>& out) {
  out.push_back({stem + ".weight", {width}});
  out.push_back({stem + ".bias", {width}});
}

}  // namespace bertpp
