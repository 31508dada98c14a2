// SPDX-License-Identifier: Apache-2.0
// The pre-training heads: masked LM (`cls.predictions`, decoder tied to the word
// embeddings) and next sentence prediction (`cls.seq_relationship`), alone (HF's
// BertForMaskedLM, BertForNextSentencePrediction) and together (BertForPreTraining).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/heads/task_model.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/exec/linear.hpp"
#include "bertpp/exec/norm.hpp"
#include "bertpp/layers/feed_forward.hpp"

namespace bertpp {

/// @brief HF's BertOnlyMLMHead: dense + activation + LayerNorm, then the decoder (the word
/// embeddings, shared with the encoder, unless `tie_word_embeddings` is false) plus a bias.
template <typename T>
class MlmHead {
 public:
  /// @brief The tensors of `cls.predictions` (bias under either of HF's two names).
  static void table(const BertConfig& c, std::vector<TensorSpec>& out) {
    const auto h = c.hidden_size;
    const std::string p = "cls.predictions.";
    out.push_back({p + "transform.dense.weight", {h, h}});
    out.push_back({p + "transform.dense.bias", {h}});
    out.push_back({p + "transform.LayerNorm.weight", {h}});
    out.push_back({p + "transform.LayerNorm.bias", {h}});
    out.push_back({p + "bias", {c.vocab_size}, false});
    out.push_back({p + "decoder.bias", {c.vocab_size}, false});
    out.push_back({p + "decoder.weight", {c.vocab_size, h}, false});
  }

  MlmHead() = default;
  /// @throws WeightError when the bias is missing, or the decoder is untied and missing.
  MlmHead(const WeightSet<T>& w, const BertModel<T>& model)
      : act_(act_from_name(model.config().hidden_act)),
        eps_(model.config().layer_norm_eps),
        dense_(w.at("cls.predictions.transform.dense.weight"), w.at("cls.predictions.transform.dense.bias"),
               model.exec_options()),
        gamma_(w.at("cls.predictions.transform.LayerNorm.weight")),
        beta_(w.at("cls.predictions.transform.LayerNorm.bias")),
        kernels_(layer_kernels<T>(model.exec_options())) {
    Tensor<T> bias, decoder;
    if (w.has("cls.predictions.bias"))
      bias = w.at("cls.predictions.bias");
    else if (w.has("cls.predictions.decoder.bias"))
      bias = w.at("cls.predictions.decoder.bias");
    else
      throw WeightError("masked-LM head: missing tensor 'cls.predictions.bias'");
    tied_ = model.config().tie_word_embeddings;  // read and type-checked by BertConfig::from_json
    if (tied_) {
      decoder = model.embeddings().word_embeddings();  // shares the mapping or buffer
    } else if (w.has("cls.predictions.decoder.weight")) {
      decoder = w.at("cls.predictions.decoder.weight");
    } else {
      throw WeightError("masked-LM head: tie_word_embeddings is false but tensor "
                        "'cls.predictions.decoder.weight' is missing");
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
  /// @brief The decoder layer [vocab x h]: the word embeddings when tied (packed for the
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

/// @brief HF's BertOnlyNSPHead: a [2 x h] linear layer on the pooled output.
template <typename T>
class NspHead {
 public:
  /// @brief The tensors of `cls.seq_relationship`.
  static void table(const BertConfig& c, std::vector<TensorSpec>& out) {
    out.push_back({"cls.seq_relationship.weight", {2, c.hidden_size}});
    out.push_back({"cls.seq_relationship.bias", {2}});
  }
  NspHead() = default;
  /// @throws WeightError when the model has no pooler.
  NspHead(const WeightSet<T>& w, const BertModel<T>& model)
      : linear_(w.at("cls.seq_relationship.weight"), w.at("cls.seq_relationship.bias"),
                model.exec_options()) {
    if (!model.has_pooler())
      throw WeightError("next-sentence head: the checkpoint has no pooler (pooler.dense.*), "
                        "which the head reads");
  }
  /// @brief pooled [batch x h] -> logits [batch x 2] (0: B follows A, 1: B is random).
  Matrix<T> forward(const Matrix<T>& pooled, Context& ctx) const {
    Matrix<T> out;
    linear_.forward(pooled, out, ctx);
    return out;
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
      : TaskModel<T>(c, store, options, table(c), "masked-LM", "cls.predictions.transform.dense.weight"),
        mlm_(this->head_, this->model_) {}

  /// @brief A batch -> one logits matrix [len_i x vocab] per sequence (rows of padded
  /// positions are unspecified).
  /// @throws InputError as BertModel::forward.
  std::vector<Matrix<T>> forward(const std::vector<Encoding>& batch, const ForwardOptions& o = {}) const {
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
      : TaskModel<T>(c, store, options, table(c), "next-sentence", "cls.seq_relationship.weight"),
        nsp_(this->head_, this->model_) {}
  /// @brief A batch of pairs -> logits [batch x 2] (0: B follows A, 1: B is random).
  /// @throws InputError as BertModel::forward.
  Matrix<T> forward(const std::vector<Encoding>& batch, const ForwardOptions& o = {}) const {
    return forward(batch, thread_context(o.num_threads), o);
  }
  /// @brief As above, on the threads and scratch memory of `ctx`.
  Matrix<T> forward(const std::vector<Encoding>& batch, Context& ctx, const ForwardOptions& o = {}) const {
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

/// @brief Encoder + both heads (HF's BertForPreTraining).
template <typename T>
class PreTraining : public TaskModel<T> {
 public:
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
      : TaskModel<T>(c, store, options, table(c), "pre-training", "cls.predictions.transform.dense.weight"),
        mlm_(this->head_, this->model_),
        nsp_(this->head_, this->model_) {}
  /// @brief A batch -> both heads' logits.
  /// @throws InputError as BertModel::forward.
  PreTrainingOutput<T> forward(const std::vector<Encoding>& batch, const ForwardOptions& o = {}) const {
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

}  // namespace bertpp
