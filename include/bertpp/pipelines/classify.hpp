// SPDX-License-Identifier: Apache-2.0
// classify: labels and scores of texts or text pairs, as HF's "text-classification"
// pipeline with top_k=None (an HF task model, or an encoder + a bertpp LinearHead); next_sentence:
// whether B follows A (BertForNextSentencePrediction).
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bertpp/core/compiled.hpp"
#include "bertpp/heads/classification.hpp"
#include "bertpp/heads/linear_head.hpp"
#include "bertpp/heads/pooling.hpp"
#include "bertpp/heads/pretraining.hpp"
#include "bertpp/pipelines/common.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

/// @brief A label and its score.
struct LabelScore {
  std::string label;
  double score = 0.0;
};

/// @brief How logits become scores; `automatic` follows HF: regression -> none,
/// multi-label or one label -> sigmoid, otherwise softmax.
enum class ScoreFunction { automatic, softmax, sigmoid, none };

/// @brief The ScoreFunction named as HF's `function_to_apply` ("softmax", "sigmoid",
/// "none"), or "auto" for ScoreFunction::automatic.
/// @throws InputError naming `option` for any other name.
inline ScoreFunction score_function_from_name(const std::string& name,
                                              const std::string& option = "function_to_apply") {
  static constexpr std::pair<const char*, ScoreFunction> names[] = {
      {"auto", ScoreFunction::automatic},
      {"softmax", ScoreFunction::softmax},
      {"sigmoid", ScoreFunction::sigmoid},
      {"none", ScoreFunction::none}};
  return detail::enum_from_name(name, option, names);
}

/// @brief Texts in, labels and scores out: tokenizer + SequenceClassification<float> (an HF
/// fine-tuned folder), or tokenizer + frozen encoder + LinearHead (a bertpp head).
class TextClassifier {
 public:
  /// @brief Loads an HF folder with a `classifier` head, or a folder holding both an
  /// encoder and a bertpp head (head.json + head.safetensors).
  /// @throws the loaders' errors; WeightError when the checkpoint has no classifier or its
  /// label count disagrees with config.json, or when the head was trained on another encoder.
  static TextClassifier load(const std::string& dir, PipelineOptions options = {});
  /// @brief Loads the encoder folder `encoder_dir` (tokenizer, config.json, weights) and the
  /// bertpp head of `head_dir`, checking that the head was trained on this encoder.
  /// @throws the loaders' errors; WeightError when the head was trained on another encoder;
  /// ConfigError when it needs a pooler the encoder lacks.
  static TextClassifier load(const std::string& encoder_dir, const std::string& head_dir,
                             PipelineOptions options = {});
  TextClassifier(Tokenizer tokenizer, SequenceClassification<float> model,
                 PipelineOptions options = {})
      : tok_(std::move(tokenizer)), model_(std::move(model)), options_(options) {}
  /// @brief An encoder + a bertpp head (the caller vouches they belong together).
  /// @throws ConfigError when the head needs a pooler the encoder lacks, or its width differs.
  TextClassifier(Tokenizer tokenizer, BertModel<float> encoder, LinearHead head,
                 PipelineOptions options = {})
      : tok_(std::move(tokenizer)),
        encoder_(std::move(encoder)),
        head_(std::move(head)),
        options_(options) {
    if (head_->pooling.mode == "pooler" && !encoder_->has_pooler())
      throw ConfigError(
          "bertpp head: pooling 'pooler' needs an encoder with a pooler (pooler.dense.*)");
    if (head_->weight.cols() != encoder_->config().hidden_size)
      throw ConfigError("bertpp head: " + std::to_string(head_->weight.cols()) +
                        " inputs, encoder hidden size " +
                        std::to_string(encoder_->config().hidden_size));
  }

  /// @brief For each text, every label (or the `top_k` best when top_k > 0) sorted by
  /// score, best first (ties keep label order). A bertpp head always uses its own activation
  /// (`fn` applies to HF task models only).
  /// @throws InputError naming an empty or (truncate = false) too long text.
  std::vector<std::vector<LabelScore>> classify(const std::vector<std::string>& texts,
                                                std::size_t top_k = 0,
                                                ScoreFunction fn = ScoreFunction::automatic) const;
  /// @brief For each pair (A, B), e.g. (premise, hypothesis) of natural language inference,
  /// every label (or the `top_k` best) sorted by score, as HF's text-classification pipeline
  /// given {"text": A, "text_pair": B}: `[CLS] A [SEP] B [SEP]` with token types 0 then 1;
  /// over-long pairs are truncated longest first (or refused, truncate = false).
  /// @throws InputError naming the pair with an empty text, or a too long one.
  std::vector<std::vector<LabelScore>> classify_pairs(
      const std::vector<TextPair>& pairs, std::size_t top_k = 0,
      ScoreFunction fn = ScoreFunction::automatic) const;
  /// @brief classify_pairs() of one pair (`a`, `b`).
  /// @throws InputError for an empty or (truncate = false) too long text.
  std::vector<LabelScore> classify_pair(const std::string& a, const std::string& b,
                                        std::size_t top_k = 0,
                                        ScoreFunction fn = ScoreFunction::automatic) const {
    return classify_pairs({{a, b}}, top_k, fn)[0];
  }
  /// @brief classify() of one text.
  /// @throws InputError for an empty or (truncate = false) too long text.
  std::vector<LabelScore> classify(const std::string& text, std::size_t top_k = 0,
                                   ScoreFunction fn = ScoreFunction::automatic) const {
    return classify(std::vector<std::string>{text}, top_k, fn)[0];
  }

  /// @name Stages of classify(), for callers that batch inputs themselves (a server
  /// gathering requests): encode each input as tok.encode(a[, b]) truncated longest first
  /// to max_length(pair), run logits() on any batch of them, then scores() on the rows.
  /// @{
  /// @brief The tokens per input (specials included) that classify() keeps: the smallest of
  /// PipelineOptions::max_length (or the bertpp head's max_length), max_position_embeddings
  /// and the tokenizer's model_max_length.
  /// @throws InputError when that leaves no room for text beside the special tokens.
  std::size_t max_length(bool pair = false) const;
  /// @brief [inputs x labels] logits of encoded inputs, on `ctx`'s threads (for a bertpp
  /// head, the head's logits of the pooled encoder output).
  Matrix<float> logits(const std::vector<Encoding>& batch, Context& ctx) const;
  /// @brief Each row of `logits` as classify() returns it: every label (or the `top_k` best)
  /// with its score by `fn` (automatic: HF's rule from the config; a bertpp head's own
  /// probabilities), best first.
  std::vector<std::vector<LabelScore>> scores(const Matrix<float>& logits, std::size_t top_k = 0,
                                              ScoreFunction fn = ScoreFunction::automatic) const;
  /// @}

  /// @brief The label names, id order.
  const std::vector<std::string>& labels() const noexcept {
    return model_ ? model_->labels().names : head_->labels;
  }
  const PipelineOptions& options() const noexcept { return options_; }
  const Tokenizer& tokenizer() const noexcept { return tok_; }
  /// @brief Whether this classifier is an encoder + bertpp head (else an HF task model).
  bool has_linear_head() const noexcept { return head_.has_value(); }
  /// @brief The HF task model.
  /// @throws ConfigError for an encoder + bertpp head classifier.
  const SequenceClassification<float>& model() const {
    if (!model_)
      throw ConfigError(
          "TextClassifier: an encoder + bertpp head has no SequenceClassification model");
    return *model_;
  }
  /// @brief The bertpp head.
  /// @throws ConfigError for an HF task model classifier.
  const LinearHead& head() const {
    if (!head_) throw ConfigError("TextClassifier: an HF task model has no bertpp head");
    return *head_;
  }

 private:
  // n inputs, encoded batch by batch by encode(b0, b1, max_len), to sorted label scores.
  template <typename Encode>
  std::vector<std::vector<LabelScore>> run(std::size_t n, bool pair, std::size_t top_k,
                                           ScoreFunction fn, Encode&& encode) const {
    const std::size_t max_len = max_length(pair);
    std::vector<std::vector<LabelScore>> out;
    Context& ctx = thread_context(options_.num_threads);
    detail::for_batches(n, options_.batch_size, [&](std::size_t b0, std::size_t b1) {
      for (auto& row : scores(logits(encode(b0, b1, max_len), ctx), top_k, fn))
        out.push_back(std::move(row));
    });
    return out;
  }

  Matrix<float> head_logits(const std::vector<Encoding>& batch, Context& ctx) const;

  Tokenizer tok_;
  std::optional<SequenceClassification<float>> model_;
  std::optional<BertModel<float>> encoder_;
  std::optional<LinearHead> head_;
  PipelineOptions options_;
};

/// @brief Tokenizer + NextSentence<float>: the probability that B follows A.
class NextSentencePredictor {
 public:
  /// @brief Loads an HF folder with `cls.seq_relationship` (BertForPreTraining or
  /// BertForNextSentencePrediction).
  /// @throws the loaders' errors; WeightError when it has no next-sentence head.
  static NextSentencePredictor load(const std::string& dir, PipelineOptions options = {});
  NextSentencePredictor(Tokenizer tokenizer, NextSentence<float> model,
                        PipelineOptions options = {})
      : tok_(std::move(tokenizer)), model_(std::move(model)), options_(options) {}

  /// @brief For each pair (A, B), the probability that B follows A (softmax of the logits,
  /// label 0 of HF's head).
  /// @throws InputError naming an empty or (truncate = false) too long pair.
  std::vector<double> next_sentence(
      const std::vector<std::pair<std::string, std::string>>& pairs) const;
  /// @brief The probability that `b` follows `a`.
  /// @throws InputError for an empty or (truncate = false) too long text.
  double next_sentence(const std::string& a, const std::string& b) const {
    return next_sentence({{a, b}})[0];
  }

 private:
  Tokenizer tok_;
  NextSentence<float> model_;
  PipelineOptions options_;
};

#if BERTPP_DEFINITIONS

BERTPP_INLINE TextClassifier TextClassifier::load(const std::string& dir, PipelineOptions options) {
  if (LinearHead::exists(dir)) return load(dir, dir, options);
  return TextClassifier(Tokenizer::load(dir), SequenceClassification<float>::load(dir), options);
}

BERTPP_INLINE TextClassifier TextClassifier::load(const std::string& encoder_dir,
                                                  const std::string& head_dir,
                                                  PipelineOptions options) {
  LinearHead head = LinearHead::load(head_dir);
  // The digest scheme the head stores (the sampled one, or every byte for an old head).
  head.check_encoder(
      EncoderIdentity::of_dir(encoder_dir, EncoderIdentity::scheme_of(head.encoder.weights_digest)),
      encoder_dir);
  return TextClassifier(Tokenizer::load(encoder_dir), BertModel<float>::load(encoder_dir),
                        std::move(head), options);
}

BERTPP_INLINE std::vector<std::vector<LabelScore>> TextClassifier::classify(
    const std::vector<std::string>& texts, std::size_t top_k, ScoreFunction fn) const {
  return run(
      texts.size(), false, top_k, fn, [&](std::size_t b0, std::size_t b1, std::size_t max_len) {
        return detail::encode_texts(tok_, texts, b0, b1, max_len, options_.truncate, "classify");
      });
}

BERTPP_INLINE std::vector<std::vector<LabelScore>> TextClassifier::classify_pairs(
    const std::vector<TextPair>& pairs, std::size_t top_k, ScoreFunction fn) const {
  return run(
      pairs.size(), true, top_k, fn, [&](std::size_t b0, std::size_t b1, std::size_t max_len) {
        return detail::encode_pairs(tok_, pairs, b0, b1, max_len, options_.truncate, "classify");
      });
}

BERTPP_INLINE std::size_t TextClassifier::max_length(bool pair) const {
  PipelineOptions eff = options_;
  if (head_ && eff.max_length == 0) eff.max_length = head_->max_length;
  return detail::max_length(eff, model_ ? model_->config() : encoder_->config(), tok_, pair);
}

BERTPP_INLINE Matrix<float> TextClassifier::logits(const std::vector<Encoding>& batch,
                                                   Context& ctx) const {
  return model_ ? model_->forward(batch, ctx) : head_logits(batch, ctx);
}

BERTPP_INLINE std::vector<std::vector<LabelScore>> TextClassifier::scores(
    const Matrix<float>& logits, std::size_t top_k, ScoreFunction fn) const {
  const std::vector<std::string>& names = labels();
  if (fn == ScoreFunction::automatic && model_) {
    const auto& l = model_->labels();
    if (l.problem_type == "regression")
      fn = ScoreFunction::none;
    else if (l.problem_type == "multi_label_classification" || l.size() == 1)
      fn = ScoreFunction::sigmoid;
    else
      fn = ScoreFunction::softmax;
  }
  std::vector<std::vector<LabelScore>> out;
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    std::vector<double> s;
    if (head_) {
      s = head_->probabilities(logits, r);
    } else if (fn == ScoreFunction::softmax) {
      s = detail::softmax(logits.row(r));
    } else {
      for (Eigen::Index c = 0; c < logits.cols(); ++c)
        s.push_back(fn == ScoreFunction::sigmoid ? detail::sigmoid(logits(r, c)) : logits(r, c));
    }
    std::vector<LabelScore> row;
    for (std::size_t c = 0; c < s.size() && c < names.size(); ++c) row.push_back({names[c], s[c]});
    std::stable_sort(row.begin(), row.end(),
                     [](const LabelScore& x, const LabelScore& y) { return x.score > y.score; });
    if (top_k > 0 && row.size() > top_k) row.resize(top_k);
    out.push_back(std::move(row));
  }
  return out;
}

BERTPP_INLINE Matrix<float> TextClassifier::head_logits(const std::vector<Encoding>& batch,
                                                        Context& ctx) const {
  const auto result = encoder_->forward(batch, ctx);
  Matrix<float> f;
  if (head_->pooling.mode == "pooler") {
    f = result.pooler_output;
  } else {
    f = pool(result.last_hidden_state, batch, pooling_mode_from_name(head_->pooling.mode), false);
  }
  if (head_->pooling.normalize)
    for (Eigen::Index r = 0; r < f.rows(); ++r) f.row(r) /= std::max(f.row(r).norm(), 1e-12f);
  return head_->logits(f);
}

BERTPP_INLINE NextSentencePredictor NextSentencePredictor::load(const std::string& dir,
                                                                PipelineOptions options) {
  return NextSentencePredictor(Tokenizer::load(dir), NextSentence<float>::load(dir), options);
}

BERTPP_INLINE std::vector<double> NextSentencePredictor::next_sentence(
    const std::vector<std::pair<std::string, std::string>>& pairs) const {
  const std::size_t max_len = detail::max_length(options_, model_.config(), tok_, true);
  std::vector<double> out;
  ForwardOptions fwd;
  fwd.num_threads = options_.num_threads;
  detail::for_batches(pairs.size(), options_.batch_size, [&](std::size_t b0, std::size_t b1) {
    const std::vector<Encoding> batch =
        detail::encode_pairs(tok_, pairs, b0, b1, max_len, options_.truncate, "next_sentence");
    const Matrix<float> logits = model_.forward(batch, fwd);  // [batch x 2]
    for (Eigen::Index r = 0; r < logits.rows(); ++r)
      out.push_back(detail::softmax(logits.row(r))[0]);
  });
  return out;
}

#endif  // BERTPP_DEFINITIONS

}  // namespace bertpp
