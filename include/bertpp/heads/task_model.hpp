// SPDX-License-Identifier: Apache-2.0
// What every task head shares: a BertModel<T> plus the head's own tensors, loaded from one
// WeightStore (one copy of the encoder), and the label names of HF's config fields
// (`num_labels`, `id2label`, `problem_type`).
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/io/weight_store.hpp"
#include "bertpp/models/bert.hpp"

namespace bertpp {

/// @brief The labels of a classification head, from config.json as HF reads it.
struct HeadLabels {
  std::vector<std::string> names;  ///< id -> label ("LABEL_<i>" where config.json names none)
  std::string
      problem_type;  ///< "", single_label_classification, multi_label_classification, regression

  /// @brief Number of labels.
  std::int64_t size() const noexcept { return static_cast<std::int64_t>(names.size()); }

  /// @brief The labels of `c`: `id2label`, else `num_labels` (HF's default: 2).
  /// @throws ConfigError when `num_labels` and `id2label` disagree, or `num_labels` < 1.
  static HeadLabels from_config(const BertConfig& c) {
    HeadLabels l;
    l.problem_type = c.problem_type;
    std::int64_t n = c.num_labels();
    if (c.declared_num_labels >= 0) {  // read and type-checked by BertConfig::from_json
      const auto given = c.declared_num_labels;
      if (!c.id2label.empty() && given != n)
        throw ConfigError(c.source + ": field 'num_labels' (" + std::to_string(given) +
                          ") disagrees with the " + std::to_string(n) + " labels of 'id2label'");
      n = given;
    }
    if (n < 1) throw ConfigError(c.source + ": field 'num_labels' must be at least 1");
    for (std::int64_t i = 0; i < n; ++i) {
      auto it = c.id2label.find(i);
      l.names.push_back(it != c.id2label.end() ? it->second : "LABEL_" + std::to_string(i));
    }
    const auto& p = l.problem_type;
    if (!p.empty() && p != "single_label_classification" && p != "multi_label_classification" &&
        p != "regression")
      throw ConfigError(c.source + ": field 'problem_type' is '" + p +
                        "'; expected single_label_classification, multi_label_classification "
                        "or regression");
    return l;
  }
};

/// @brief The tensor stems of a family's masked-LM head: dense (+ activation) + LayerNorm,
/// then the decoder (tied to the word embeddings unless tie_word_embeddings is false) + bias.
struct MlmNames {
  std::string dense, norm;
  std::string bias, bias_alt;  ///< the bias under HF's two names (bias_alt may be empty)
  std::string decoder;         ///< decoder weight (read when untied)
  std::string activation;      ///< HF's name of the activation after `dense`
  double eps = 1e-12;
  std::int64_t width = 0;  ///< the head's inner width: hidden_size, or embedding_size
};

/// @brief HF's masked-LM head of the family of `c` (BertOnlyMLMHead, RobertaLMHead,
/// DistilBERT's vocab_*, AlbertMLMHead, ELECTRA's generator head).
inline MlmNames mlm_names(const EncoderConfig& c) {
  const auto h = c.hidden_size, e = c.embedding_dim();
  switch (c.family) {
    case Family::roberta:
    case Family::xlm_roberta:
    case Family::mpnet:
      return {"lm_head.dense",          "lm_head.layer_norm",
              "lm_head.bias",           "lm_head.decoder.bias",
              "lm_head.decoder.weight", "gelu",
              c.layer_norm_eps,         h};
    case Family::distilbert:
      return {"vocab_transform",
              "vocab_layer_norm",
              "vocab_projector.bias",
              "",
              "vocab_projector.weight",
              c.hidden_act,
              1e-12,
              h};
    case Family::albert:
      return {"predictions.dense",
              "predictions.LayerNorm",
              "predictions.bias",
              "predictions.decoder.bias",
              "predictions.decoder.weight",
              c.hidden_act,
              c.layer_norm_eps,
              e};
    case Family::electra:
      return {"generator_predictions.dense",
              "generator_predictions.LayerNorm",
              "generator_lm_head.bias",
              "",
              "generator_lm_head.weight",
              "gelu",
              c.layer_norm_eps,
              e};
    case Family::bert:
    case Family::ernie:
      break;
  }
  return {"cls.predictions.transform.dense",
          "cls.predictions.transform.LayerNorm",
          "cls.predictions.bias",
          "cls.predictions.decoder.bias",
          "cls.predictions.decoder.weight",
          c.hidden_act,
          c.layer_norm_eps,
          h};
}

/// @brief The family's sentence-pair head on the pooled output: BERT's and ERNIE's next
/// sentence prediction (`cls.seq_relationship`), ALBERT's sentence-order prediction
/// (`sop_classifier.classifier`); "" for the families without one.
inline std::string pair_head_name(const EncoderConfig& c) {
  switch (c.family) {
    case Family::bert:
    case Family::ernie:
      return "cls.seq_relationship";
    case Family::albert:
      return "sop_classifier.classifier";
    default:
      return "";
  }
}

/// @brief The family's sequence-classification head: a classifier on the pooled output
/// (BERT, ERNIE, ALBERT), or dense + activation + output layer on the first token
/// (RoBERTa, XLM-R, MPNet: tanh; ELECTRA: GELU; DistilBERT: `pre_classifier` + ReLU).
struct ClassifierNames {
  bool pooled = true;
  std::string dense;       ///< empty when pooled
  std::string activation;  ///< after `dense`
  std::string out;
};

/// @brief HF's sequence-classification head of the family of `c`.
inline ClassifierNames classifier_names(const EncoderConfig& c) {
  switch (c.family) {
    case Family::roberta:
    case Family::xlm_roberta:
    case Family::mpnet:
      return {false, "classifier.dense", "tanh", "classifier.out_proj"};
    case Family::electra:
      return {false, "classifier.dense", "gelu", "classifier.out_proj"};
    case Family::distilbert:
      return {false, "pre_classifier", "relu", "classifier"};
    default:
      return {true, "", "", "classifier"};
  }
}

namespace detail {

/// @brief Loads a head's table, after checking that the checkpoint has the head at all
/// (`marker`, a required tensor) and that every 2-D tensor's rows match `rows` when given.
/// @throws WeightError naming the head, the tensor and both shapes.
template <typename T>
WeightSet<T> load_head(const WeightStore& store, const BertConfig& c,
                       const std::vector<TensorSpec>& table, const std::string& what,
                       const std::string& marker) {
  if (!store.find(marker)) {
    std::string arch;
    for (const auto& a : c.architectures) arch += (arch.empty() ? "" : ", ") + a;
    throw WeightError("the checkpoint has no " + what + " head: tensor '" + marker +
                      "' is missing (config architectures: " + (arch.empty() ? "none" : arch) +
                      ")");
  }
  for (const auto& spec : table) {
    const TensorInfo* t = store.find(spec.name);
    if (t && spec.shape.size() == 2 && t->shape.size() == 2 && t->shape[0] != spec.shape[0] &&
        t->shape[1] == spec.shape[1])
      throw WeightError(what + " head: tensor '" + spec.name + "' has " +
                        std::to_string(t->shape[0]) + " rows but config " + c.source +
                        " asks for " + std::to_string(spec.shape[0]) + " (num_labels / id2label)");
  }
  return WeightSet<T>(store, table);
}

/// @brief Rows [batch x h] of each sequence's first unmasked token (HF's features[:, 0]
/// for right-padded inputs).
template <typename T>
Matrix<T> first_tokens(const std::vector<Matrix<T>>& hidden, const std::vector<Encoding>& batch) {
  Matrix<T> out(static_cast<Eigen::Index>(hidden.size()), hidden.empty() ? 0 : hidden[0].cols());
  for (std::size_t s = 0; s < hidden.size(); ++s) {
    Eigen::Index j = 0;
    const auto& mask = batch[s].attention_mask;
    while (!mask.empty() && static_cast<std::size_t>(j) < mask.size() &&
           mask[static_cast<std::size_t>(j)] == 0)
      ++j;
    out.row(static_cast<Eigen::Index>(s)) = hidden[s].row(j);
  }
  return out;
}

}  // namespace detail

/// @brief Base of the task models: the encoder and the head's loaded tensors. The encoder's
/// unused_tensors() excludes what the head consumes.
template <typename T>
class TaskModel {
 public:
  /// @brief The encoder (shared weights: the head holds no copy of it).
  const BertModel<T>& model() const noexcept { return model_; }
  /// @brief The configuration.
  const BertConfig& config() const noexcept { return model_.config(); }
  /// @brief Stored tensors used neither by the encoder nor by the head, sorted.
  const std::vector<std::string>& unused_tensors() const noexcept {
    return model_.unused_tensors();
  }

 protected:
  TaskModel(const BertConfig& c, const WeightStore& store, const LoadOptions& options,
            const std::vector<TensorSpec>& table, const std::string& what,
            const std::string& marker)
      : head_(detail::load_head<T>(store, c, table, what, marker)),
        model_(c, store, options, head_.consumed()) {}

  WeightSet<T> head_;
  BertModel<T> model_;
};

}  // namespace bertpp
