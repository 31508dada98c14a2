// SPDX-License-Identifier: Apache-2.0
// classify: labels and scores of texts, as HF's "text-classification" pipeline with
// top_k=None; next_sentence: whether B follows A (BertForNextSentencePrediction).
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "bertpp/heads/classification.hpp"
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

/// @brief Tokenizer + SequenceClassification<float>: texts in, labels and scores out.
class TextClassifier {
 public:
  /// @brief Loads an HF folder with a `classifier` head.
  /// @throws the loaders' errors; WeightError when the checkpoint has no classifier or its
  /// label count disagrees with config.json.
  static TextClassifier load(const std::string& dir, PipelineOptions options = {}) {
    return TextClassifier(Tokenizer::load(dir), SequenceClassification<float>::load(dir), options);
  }
  TextClassifier(Tokenizer tokenizer, SequenceClassification<float> model, PipelineOptions options = {})
      : tok_(std::move(tokenizer)), model_(std::move(model)), options_(options) {}

  /// @brief For each text, every label (or the `top_k` best when top_k > 0) sorted by
  /// score, best first (ties keep label order).
  /// @throws InputError naming an empty or (truncate = false) too long text.
  std::vector<std::vector<LabelScore>> classify(const std::vector<std::string>& texts, std::size_t top_k = 0,
                                                ScoreFunction fn = ScoreFunction::automatic) const {
    const auto& labels = model_.labels();
    if (fn == ScoreFunction::automatic) {
      if (labels.problem_type == "regression")
        fn = ScoreFunction::none;
      else if (labels.problem_type == "multi_label_classification" || labels.size() == 1)
        fn = ScoreFunction::sigmoid;
      else
        fn = ScoreFunction::softmax;
    }
    const std::size_t max_len = detail::max_length(options_, model_.config(), tok_);
    std::vector<std::vector<LabelScore>> out;
    ForwardOptions fwd;
    fwd.num_threads = options_.num_threads;
    detail::for_batches(texts.size(), options_.batch_size, [&](std::size_t b0, std::size_t b1) {
      std::vector<Encoding> batch;
      for (std::size_t i = b0; i < b1; ++i) {
        const std::string name = "classify: text " + std::to_string(i);
        detail::require_text(texts[i], name);
        batch.push_back(detail::encode(tok_, texts[i], nullptr, max_len, options_.truncate, name));
      }
      const Matrix<float> logits = model_.forward(batch, fwd);  // [batch x labels]
      for (Eigen::Index r = 0; r < logits.rows(); ++r) {
        std::vector<double> s;
        if (fn == ScoreFunction::softmax) {
          s = detail::softmax(logits.row(r));
        } else {
          for (Eigen::Index c = 0; c < logits.cols(); ++c)
            s.push_back(fn == ScoreFunction::sigmoid ? detail::sigmoid(logits(r, c)) : logits(r, c));
        }
        std::vector<LabelScore> row;
        for (std::size_t c = 0; c < s.size(); ++c) row.push_back({labels.names[c], s[c]});
        std::stable_sort(row.begin(), row.end(),
                         [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
        if (top_k > 0 && row.size() > top_k) row.resize(top_k);
        out.push_back(std::move(row));
      }
    });
    return out;
  }
  /// @brief classify() of one text.
  /// @throws InputError for an empty or (truncate = false) too long text.
  std::vector<LabelScore> classify(const std::string& text, std::size_t top_k = 0,
                                   ScoreFunction fn = ScoreFunction::automatic) const {
    return classify(std::vector<std::string>{text}, top_k, fn)[0];
  }

  const PipelineOptions& options() const noexcept { return options_; }
  const SequenceClassification<float>& model() const noexcept { return model_; }

 private:
  Tokenizer tok_;
  SequenceClassification<float> model_;
  PipelineOptions options_;
};

/// @brief Tokenizer + NextSentence<float>: the probability that B follows A.
class NextSentencePredictor {
 public:
  /// @brief Loads an HF folder with `cls.seq_relationship` (BertForPreTraining or
  /// BertForNextSentencePrediction).
  /// @throws the loaders' errors; WeightError when it has no next-sentence head.
  static NextSentencePredictor load(const std::string& dir, PipelineOptions options = {}) {
    return NextSentencePredictor(Tokenizer::load(dir), NextSentence<float>::load(dir), options);
  }
  NextSentencePredictor(Tokenizer tokenizer, NextSentence<float> model, PipelineOptions options = {})
      : tok_(std::move(tokenizer)), model_(std::move(model)), options_(options) {}

  /// @brief For each pair (A, B), the probability that B follows A (softmax of the logits,
  /// label 0 of HF's head).
  /// @throws InputError naming an empty or (truncate = false) too long pair.
  std::vector<double> next_sentence(const std::vector<std::pair<std::string, std::string>>& pairs) const {
    const std::size_t max_len = detail::max_length(options_, model_.config(), tok_);
    std::vector<double> out;
    ForwardOptions fwd;
    fwd.num_threads = options_.num_threads;
    detail::for_batches(pairs.size(), options_.batch_size, [&](std::size_t b0, std::size_t b1) {
      std::vector<Encoding> batch;
      for (std::size_t i = b0; i < b1; ++i) {
        const std::string name = "next_sentence: pair " + std::to_string(i);
        detail::require_text(pairs[i].first, name + ", first text");
        detail::require_text(pairs[i].second, name + ", second text");
        const std::string_view b = pairs[i].second;
        batch.push_back(detail::encode(tok_, pairs[i].first, &b, max_len, options_.truncate, name));
      }
      const Matrix<float> logits = model_.forward(batch, fwd);  // [batch x 2]
      for (Eigen::Index r = 0; r < logits.rows(); ++r) out.push_back(detail::softmax(logits.row(r))[0]);
    });
    return out;
  }
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

}  // namespace bertpp
