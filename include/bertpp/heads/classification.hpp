// SPDX-License-Identifier: Apache-2.0
// Fine-tuning heads: sequence classification (`classifier` on the pooled output), token
// classification (`classifier` on every token) and extractive question answering
// (`qa_outputs`: start and end logits per token), as HF's BertFor* classes.
#pragma once

#include <string>
#include <vector>

#include "bertpp/core/compiled.hpp"
#include "bertpp/core/config.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/exec/linear.hpp"
#include "bertpp/heads/task_model.hpp"
#include "bertpp/layers/feed_forward.hpp"
#include "bertpp/layers/names.hpp"

namespace bertpp {

namespace detail {

/// @brief A `<name>.weight` [rows x h] + `<name>.bias` [rows] table.
inline std::vector<TensorSpec> linear_table(const std::string& name, std::int64_t rows,
                                            std::int64_t h) {
  return {{name + ".weight", {rows, h}}, {name + ".bias", {rows}}};
}

}  // namespace detail

/// @brief Encoder + the family's sequence-classification head (classifier_names()): HF's
/// BertForSequenceClassification, ErnieFor..., AlbertFor... (a classifier on the pooled
/// output); RobertaFor..., XLMRobertaFor..., ElectraFor..., DistilBertFor... (dense +
/// activation + output layer on the first token).
template <typename T>
class SequenceClassification : public TaskModel<T> {
 public:
  /// @brief The head's tensors for the labels of `c`.
  /// @throws ConfigError for inconsistent label fields.
  static std::vector<TensorSpec> table(const BertConfig& c) {
    const ClassifierNames n = classifier_names(c);
    std::vector<TensorSpec> t;
    if (!n.dense.empty()) linear_specs(n.dense, c.hidden_size, c.hidden_size, t);
    linear_specs(n.out, HeadLabels::from_config(c).size(), c.hidden_size, t);
    return t;
  }
  /// @brief Loads an HF checkpoint folder.
  /// @throws IoError, FormatError, ConfigError; WeightError when it has no classifier, or
  /// its label count disagrees with config.json.
  static SequenceClassification load(const std::string& dir, const LoadOptions& options = {}) {
    return SequenceClassification(BertConfig::from_file(dir + "/config.json"),
                                  WeightStore::from_dir(dir), options);
  }
  /// @throws ConfigError, WeightError (also when a pooled head's checkpoint has no pooler).
  SequenceClassification(const BertConfig& c, const WeightStore& store,
                         const LoadOptions& options = {})
      : TaskModel<T>(c, store, options, table(c), "sequence-classification",
                     classifier_names(c).out + ".weight"),
        labels_(HeadLabels::from_config(c)),
        names_(classifier_names(c)) {
    const ExecOptions& exec = this->model_.exec_options();
    if (!names_.dense.empty()) {
      dense_ = exec::Linear<T>(this->head_.at(names_.dense + ".weight"),
                               this->head_.at(names_.dense + ".bias"), exec);
      act_ = names_.activation == "tanh" ? exec::Act::tanh : act_from_name(names_.activation);
    }
    linear_ = exec::Linear<T>(this->head_.at(names_.out + ".weight"),
                              this->head_.at(names_.out + ".bias"), exec);
    if (names_.pooled && !this->model_.has_pooler())
      throw WeightError("sequence-classification head: the checkpoint has no pooler (" +
                        pooler_name(c) + ".*), which the head reads");
  }
  /// @brief A batch -> logits [batch x num_labels].
  /// @throws InputError as BertModel::forward.
  Matrix<T> forward(const std::vector<Encoding>& batch, const ForwardOptions& o = {}) const {
    return forward(batch, thread_context(o.num_threads), o);
  }
  /// @brief As above, on the threads and scratch memory of `ctx`.
  Matrix<T> forward(const std::vector<Encoding>& batch, Context& ctx,
                    const ForwardOptions& o = {}) const {
    Matrix<T> out;
    const auto encoded = this->model_.forward(batch, ctx, o);
    if (names_.pooled) {
      linear_.forward(encoded.pooler_output, out, ctx);
    } else {
      Matrix<T> x;
      dense_.forward(detail::first_tokens(encoded.last_hidden_state, batch), x, ctx, act_);
      linear_.forward(x, out, ctx);
    }
    return out;
  }
  /// @brief Label names and problem type.
  const HeadLabels& labels() const noexcept { return labels_; }

 private:
  HeadLabels labels_;
  ClassifierNames names_;
  exec::Linear<T> dense_, linear_;
  exec::Act act_ = exec::Act::none;
};

/// @brief Encoder + per-token classifier (HF's BertForTokenClassification and the other
/// families' ...ForTokenClassification: `classifier` on every token).
template <typename T>
class TokenClassification : public TaskModel<T> {
 public:
  /// @brief The head's tensors for the labels of `c`.
  /// @throws ConfigError for inconsistent label fields.
  static std::vector<TensorSpec> table(const BertConfig& c) {
    return detail::linear_table("classifier", HeadLabels::from_config(c).size(), c.hidden_size);
  }
  /// @brief Loads an HF checkpoint folder.
  /// @throws IoError, FormatError, ConfigError; WeightError when it has no classifier, or
  /// its label count disagrees with config.json.
  static TokenClassification load(const std::string& dir, const LoadOptions& options = {}) {
    return TokenClassification(BertConfig::from_file(dir + "/config.json"),
                               WeightStore::from_dir(dir), options);
  }
  /// @throws ConfigError, WeightError.
  TokenClassification(const BertConfig& c, const WeightStore& store,
                      const LoadOptions& options = {})
      : TaskModel<T>(c, store, options, table(c), "token-classification", "classifier.weight"),
        labels_(HeadLabels::from_config(c)),
        linear_(this->head_.at("classifier.weight"), this->head_.at("classifier.bias"),
                this->model_.exec_options()) {}
  /// @brief A batch -> logits [len_i x num_labels] per sequence.
  /// @throws InputError as BertModel::forward.
  std::vector<Matrix<T>> forward(const std::vector<Encoding>& batch,
                                 const ForwardOptions& o = {}) const {
    return forward(batch, thread_context(o.num_threads), o);
  }
  /// @brief As above, on the threads and scratch memory of `ctx`.
  std::vector<Matrix<T>> forward(const std::vector<Encoding>& batch, Context& ctx,
                                 const ForwardOptions& o = {}) const {
    std::vector<Matrix<T>> out;
    for (const auto& h : this->model_.forward(batch, ctx, o).last_hidden_state) {
      out.emplace_back();
      linear_.forward(h, out.back(), ctx);
    }
    return out;
  }
  /// @brief Label names.
  const HeadLabels& labels() const noexcept { return labels_; }

 private:
  HeadLabels labels_;
  exec::Linear<T> linear_;
};

/// @brief Encoder + span head (HF's BertForQuestionAnswering and the other families'
/// ...ForQuestionAnswering: `qa_outputs` on every token).
template <typename T>
class QuestionAnswering : public TaskModel<T> {
 public:
  /// @brief The head's tensors.
  static std::vector<TensorSpec> table(const BertConfig& c) {
    return detail::linear_table("qa_outputs", 2, c.hidden_size);
  }
  /// @brief Loads an HF checkpoint folder.
  /// @throws IoError, FormatError, ConfigError; WeightError when it has no `qa_outputs`.
  static QuestionAnswering load(const std::string& dir, const LoadOptions& options = {}) {
    return QuestionAnswering(BertConfig::from_file(dir + "/config.json"),
                             WeightStore::from_dir(dir), options);
  }
  /// @throws ConfigError, WeightError.
  QuestionAnswering(const BertConfig& c, const WeightStore& store, const LoadOptions& options = {})
      : TaskModel<T>(c, store, options, table(c), "question-answering", "qa_outputs.weight"),
        linear_(this->head_.at("qa_outputs.weight"), this->head_.at("qa_outputs.bias"),
                this->model_.exec_options()) {}
  /// @brief A batch -> [len_i x 2] per sequence: column 0 start logits, column 1 end logits.
  /// @throws InputError as BertModel::forward.
  std::vector<Matrix<T>> forward(const std::vector<Encoding>& batch,
                                 const ForwardOptions& o = {}) const {
    return forward(batch, thread_context(o.num_threads), o);
  }
  /// @brief As above, on the threads and scratch memory of `ctx`.
  std::vector<Matrix<T>> forward(const std::vector<Encoding>& batch, Context& ctx,
                                 const ForwardOptions& o = {}) const {
    std::vector<Matrix<T>> out;
    for (const auto& h : this->model_.forward(batch, ctx, o).last_hidden_state) {
      out.emplace_back();
      linear_.forward(h, out.back(), ctx);
    }
    return out;
  }

 private:
  exec::Linear<T> linear_;
};

#if BERTPP_EXTERN_TEMPLATES  // compiled mode: src/pipelines.cpp instantiates them
extern template class SequenceClassification<float>;
extern template class TokenClassification<float>;
extern template class QuestionAnswering<float>;
#endif

}  // namespace bertpp
