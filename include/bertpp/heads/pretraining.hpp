// SPDX-License-Identifier: Apache-2.0
// The pre-training heads: masked LM (`cls.predictions`, decoder tied to the word
// embeddings) and next sentence prediction (`cls.seq_relationship`), alone (HF's
// BertForMaskedLM, BertForNextSentencePrediction) and together (BertForPreTraining).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bertpp/core/compiled.hpp"
#include "bertpp/core/config.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/exec/linear.hpp"
#include "bertpp/exec/norm.hpp"
#include "bertpp/heads/task_model.hpp"
#include "bertpp/layers/feed_forward.hpp"
#include "bertpp/layers/names.hpp"

namespace bertpp {

/// @brief A family's masked-LM head (mlm_names(): BERT's BertOnlyMLMHead, RobertaLMHead,
/// ...): dense + activation + LayerNorm, then the decoder (the word embeddings, shared with
/// the encoder, unless `tie_word_embeddings` is false) plus a bias.
template <typename T>
class MlmHead {
 public:
  /// @brief The tensors of the family's head (the bias under either of HF's names).
  static void table(const EncoderConfig& c, std::vector<TensorSpec>& out) {
    const MlmNames n = mlm_names(c);
    linear_specs(n.dense, n.width, c.hidden_size, out);
    norm_specs(n.norm, n.width, out);
    out.push_back({n.bias, {c.vocab_size}, false});
    if (!n.bias_alt.empty()) out.push_back({n.bias_alt, {c.vocab_size}, false});
    out.push_back({n.decoder, {c.vocab_size, n.width}, false});
  }

  MlmHead() = default;
  /// @throws WeightError when the bias is missing, or the decoder is untied and missing.
  MlmHead(const WeightSet<T>& w, const BertModel<T>& model) {
    const EncoderConfig& c = model.config();
    const MlmNames n = mlm_names(c);
    act_ = act_from_name(n.activation);
    eps_ = n.eps;
    dense_ =
        exec::Linear<T>(w.at(n.dense + ".weight"), w.at(n.dense + ".bias"), model.exec_options());
    gamma_ = w.at(n.norm + ".weight");
    beta_ = w.at(n.norm + ".bias");
    kernels_ = layer_kernels<T>(model.exec_options());
    Tensor<T> bias, decoder;
    if (w.has(n.bias))
      bias = w.at(n.bias);
    else if (!n.bias_alt.empty() && w.has(n.bias_alt))
      bias = w.at(n.bias_alt);
    else
      throw WeightError("masked-LM head: missing tensor '" + n.bias + "'");
    tied_ = c.tie_word_embeddings;  // read and type-checked by EncoderConfig::from_json
    if (tied_) {
      decoder = model.embeddings().word_embeddings();  // shares the mapping or buffer
    } else if (w.has(n.decoder)) {
      decoder = w.at(n.decoder);
    } else {
      throw WeightError("masked-LM head: tie_word_embeddings is false but tensor '" + n.decoder +
                        "' is missing");
    }
    decoder_ = exec::Linear<T>(decoder, bias, model.exec_options());
  }

  /// @brief hidden [n x h] -> logits [n x vocab], on the threads of `ctx`.
  Matrix<T> forward(const Matrix<T>& hidden, Context& ctx) const {
    Matrix<T> x, logits;
    dense_.forward(hidden, x, ctx, act_);
    exec::layer_norm(x, gamma_.data(), beta_.data(), eps_, kernels_, ctx);
    decoder_.forward(x, logits, ctx);
    return logits;
  }
  /// @brief As above, on the calling thread.
  Matrix<T> forward(const Matrix<T>& hidden) const { return forward(hidden, thread_context(1)); }

  /// @brief Whether the decoder is the word embeddings (tie_word_embeddings).
  bool tied() const noexcept { return tied_; }
  /// @brief The decoder layer [vocab x width]: the word embeddings when tied (packed for the
  /// kernels at load, or the very same memory on the generic path).
  const exec::Linear<T>& decoder() const noexcept { return decoder_; }

 private:
  exec::Act act_ = exec::Act::gelu;
  double eps_ = 1e-12;
  exec::Linear<T> dense_;
  Tensor<T> gamma_, beta_;
  const exec::F32Kernels* kernels_ = nullptr;
  exec::Linear<T> decoder_;
  bool tied_ = true;
};

/// @brief The family's sentence-pair head on the pooled output (pair_head_name(): BERT's
/// and ERNIE's next sentence prediction, ALBERT's sentence order prediction): [2 x h].
template <typename T>
class NspHead {
 public:
  /// @brief The family's head tensors.
  /// @throws ConfigError for a family without such a head.
  static void table(const EncoderConfig& c, std::vector<TensorSpec>& out) {
    linear_specs(name(c), 2, c.hidden_size, out);
  }
  NspHead() = default;
  /// @throws WeightError when the model has no pooler.
  NspHead(const WeightSet<T>& w, const BertModel<T>& model)
      : linear_(w.at(name(model.config()) + ".weight"), w.at(name(model.config()) + ".bias"),
                model.exec_options()) {
    if (!model.has_pooler())
      throw WeightError("sentence-pair head: the checkpoint has no pooler, which the head reads");
  }
  /// @brief pooled [batch x h] -> logits [batch x 2] (NSP: 0 B follows A, 1 B is random;
  /// ALBERT's SOP: 0 in order, 1 swapped).
  Matrix<T> forward(const Matrix<T>& pooled, Context& ctx) const {
    Matrix<T> out;
    linear_.forward(pooled, out, ctx);
    return out;
  }
  /// @brief The head's tensor stem for the family of `c`.
  /// @throws ConfigError for a family without a sentence-pair head.
  static std::string name(const EncoderConfig& c) {
    const std::string n = pair_head_name(c);
    if (n.empty())
      throw ConfigError(c.source + ": model_type '" + c.model_type +
                        "' has no next-sentence or sentence-order head in HF");
    return n;
  }

 private:
  exec::Linear<T> linear_;
};

/// @brief Encoder + masked-LM head (HF's BertForMaskedLM).
template <typename T>
class MaskedLM : public TaskModel<T> {
 public:
  /// @brief The head's tensors.
  static std::vector<TensorSpec> table(const BertConfig& c) {
    std::vector<TensorSpec> t;
    MlmHead<T>::table(c, t);
    return t;
  }
  /// @brief Loads an HF checkpoint folder.
  /// @throws IoError, FormatError, ConfigError; WeightError when it has no masked-LM head.
  static MaskedLM load(const std::string& dir, const LoadOptions& options = {}) {
    return MaskedLM(BertConfig::from_dir(dir), WeightStore::from_dir(dir), options);
  }
  /// @brief Encoder and head from the tensors of `store`.
  /// @throws ConfigError, WeightError (no head, wrong shapes, strict and unused tensors).
  MaskedLM(const BertConfig& c, const WeightStore& store, const LoadOptions& options = {})
      : TaskModel<T>(c, store, options, table(c), "masked-LM", mlm_names(c).dense + ".weight"),
        mlm_(this->head_, this->model_) {}

  /// @brief A batch -> one logits matrix [len_i x vocab] per sequence (rows of padded
  /// positions are unspecified).
  /// @throws InputError as BertModel::forward.
  std::vector<Matrix<T>> forward(const std::vector<Encoding>& batch,
                                 const ForwardOptions& o = {}) const {
    return forward(batch, thread_context(o.num_threads), o);
  }
  /// @brief As above, on the threads and scratch memory of `ctx`.
  std::vector<Matrix<T>> forward(const std::vector<Encoding>& batch, Context& ctx,
                                 const ForwardOptions& o = {}) const {
    const auto out = this->model_.forward(batch, ctx, o);
    std::vector<Matrix<T>> logits;
    for (const auto& h : out.last_hidden_state) logits.push_back(mlm_.forward(h, ctx));
    return logits;
  }
  /// @brief The head alone.
  const MlmHead<T>& head() const noexcept { return mlm_; }

 private:
  MlmHead<T> mlm_;
};

/// @brief Encoder + pooler + next-sentence head (HF's BertForNextSentencePrediction).
template <typename T>
class NextSentence : public TaskModel<T> {
 public:
  /// @brief The head's tensors.
  static std::vector<TensorSpec> table(const BertConfig& c) {
    std::vector<TensorSpec> t;
    NspHead<T>::table(c, t);
    return t;
  }
  /// @brief Loads an HF checkpoint folder.
  /// @throws IoError, FormatError, ConfigError; WeightError when it has no NSP head or pooler.
  static NextSentence load(const std::string& dir, const LoadOptions& options = {}) {
    return NextSentence(BertConfig::from_dir(dir), WeightStore::from_dir(dir), options);
  }
  /// @throws ConfigError, WeightError.
  NextSentence(const BertConfig& c, const WeightStore& store, const LoadOptions& options = {})
      : TaskModel<T>(c, store, options, table(c), "next-sentence", NspHead<T>::name(c) + ".weight"),
        nsp_(this->head_, this->model_) {}
  /// @brief A batch of pairs -> logits [batch x 2] (0: B follows A, 1: B is random).
  /// @throws InputError as BertModel::forward.
  Matrix<T> forward(const std::vector<Encoding>& batch, const ForwardOptions& o = {}) const {
    return forward(batch, thread_context(o.num_threads), o);
  }
  /// @brief As above, on the threads and scratch memory of `ctx`.
  Matrix<T> forward(const std::vector<Encoding>& batch, Context& ctx,
                    const ForwardOptions& o = {}) const {
    return nsp_.forward(this->model_.forward(batch, ctx, o).pooler_output, ctx);
  }

 private:
  NspHead<T> nsp_;
};

/// @brief What PreTraining::forward returns.
template <typename T>
struct PreTrainingOutput {
  std::vector<Matrix<T>> prediction_logits;  ///< [len_i x vocab] per sequence
  Matrix<T> seq_relationship_logits;         ///< [batch x 2]
};

/// @brief Encoder + both heads (HF's BertForPreTraining, ErnieForPreTraining,
/// AlbertForPreTraining: masked LM + sentence order).
template <typename T>
class PreTraining : public TaskModel<T> {
 public:
  /// @brief table(c), after checking the family has this model.
  /// @throws ConfigError for a family whose pre-training model is something else.
  static std::vector<TensorSpec> checked_table(const EncoderConfig& c) {
    if (c.family == Family::electra)
      throw ConfigError(c.source +
                        ": ELECTRA's pre-training model (ElectraForPreTraining) is "
                        "the discriminator: load it as ReplacedTokenDetection");
    return table(c);
  }
  /// @brief The heads' tensors.
  static std::vector<TensorSpec> table(const BertConfig& c) {
    std::vector<TensorSpec> t;
    MlmHead<T>::table(c, t);
    NspHead<T>::table(c, t);
    return t;
  }
  /// @brief Loads an HF checkpoint folder.
  /// @throws IoError, FormatError, ConfigError, WeightError.
  static PreTraining load(const std::string& dir, const LoadOptions& options = {}) {
    return PreTraining(BertConfig::from_dir(dir), WeightStore::from_dir(dir), options);
  }
  /// @throws ConfigError, WeightError.
  PreTraining(const BertConfig& c, const WeightStore& store, const LoadOptions& options = {})
      : TaskModel<T>(c, store, options, checked_table(c), "pre-training",
                     mlm_names(c).dense + ".weight"),
        mlm_(this->head_, this->model_),
        nsp_(this->head_, this->model_) {}
  /// @brief A batch -> both heads' logits.
  /// @throws InputError as BertModel::forward.
  PreTrainingOutput<T> forward(const std::vector<Encoding>& batch,
                               const ForwardOptions& o = {}) const {
    return forward(batch, thread_context(o.num_threads), o);
  }
  /// @brief As above, on the threads and scratch memory of `ctx`.
  PreTrainingOutput<T> forward(const std::vector<Encoding>& batch, Context& ctx,
                               const ForwardOptions& o = {}) const {
    const auto out = this->model_.forward(batch, ctx, o);
    PreTrainingOutput<T> r;
    for (const auto& h : out.last_hidden_state) r.prediction_logits.push_back(mlm_.forward(h, ctx));
    r.seq_relationship_logits = nsp_.forward(out.pooler_output, ctx);
    return r;
  }

 private:
  MlmHead<T> mlm_;
  NspHead<T> nsp_;
};

/// @brief ELECTRA's discriminator (HF's ElectraForPreTraining): for every token, the logit
/// that it was replaced (`discriminator_predictions`: dense + activation, then [1 x h]).
template <typename T>
class ReplacedTokenDetection : public TaskModel<T> {
 public:
  /// @brief The head's tensors.
  static std::vector<TensorSpec> table(const EncoderConfig& c) {
    std::vector<TensorSpec> t;
    linear_specs("discriminator_predictions.dense", c.hidden_size, c.hidden_size, t);
    linear_specs("discriminator_predictions.dense_prediction", 1, c.hidden_size, t);
    return t;
  }
  /// @brief Loads an HF checkpoint folder.
  /// @throws IoError, FormatError, ConfigError, WeightError.
  static ReplacedTokenDetection load(const std::string& dir, const LoadOptions& options = {}) {
    return ReplacedTokenDetection(EncoderConfig::from_dir(dir), WeightStore::from_dir(dir),
                                  options);
  }
  /// @throws ConfigError (not an ELECTRA config), WeightError.
  ReplacedTokenDetection(const EncoderConfig& c, const WeightStore& store,
                         const LoadOptions& options = {})
      : TaskModel<T>(c, store, options, checked_table(c), "replaced-token-detection",
                     "discriminator_predictions.dense.weight"),
        act_(act_from_name(c.hidden_act)),
        dense_(this->head_.at("discriminator_predictions.dense.weight"),
               this->head_.at("discriminator_predictions.dense.bias"), this->model_.exec_options()),
        prediction_(this->head_.at("discriminator_predictions.dense_prediction.weight"),
                    this->head_.at("discriminator_predictions.dense_prediction.bias"),
                    this->model_.exec_options()) {}
  /// @brief A batch -> [len_i x 1] logits per sequence (> 0: replaced).
  /// @throws InputError as BertModel::forward.
  std::vector<Matrix<T>> forward(const std::vector<Encoding>& batch,
                                 const ForwardOptions& o = {}) const {
    return forward(batch, thread_context(o.num_threads), o);
  }
  /// @brief As above, on the threads and scratch memory of `ctx`.
  std::vector<Matrix<T>> forward(const std::vector<Encoding>& batch, Context& ctx,
                                 const ForwardOptions& o = {}) const {
    std::vector<Matrix<T>> out;
    Matrix<T> x;
    for (const auto& h : this->model_.forward(batch, ctx, o).last_hidden_state) {
      dense_.forward(h, x, ctx, act_);
      out.emplace_back();
      prediction_.forward(x, out.back(), ctx);
    }
    return out;
  }

 private:
  static std::vector<TensorSpec> checked_table(const EncoderConfig& c) {
    if (c.family != Family::electra)
      throw ConfigError(c.source + ": replaced-token detection is ELECTRA's head; model_type is '" +
                        c.model_type + "'");
    return table(c);
  }
  exec::Act act_ = exec::Act::gelu;
  exec::Linear<T> dense_, prediction_;
};

#if BERTPP_EXTERN_TEMPLATES  // compiled mode: src/pipelines.cpp instantiates them
extern template class MaskedLM<float>;
extern template class NextSentence<float>;
extern template class PreTraining<float>;
extern template class ReplacedTokenDetection<float>;
#endif

}  // namespace bertpp
