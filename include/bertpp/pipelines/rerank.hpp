// SPDX-License-Identifier: Apache-2.0
// rerank: a cross-encoder (a one-label sequence classifier over query/passage pairs) scores
// and orders passages for a query, with sentence-transformers' CrossEncoder conventions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertpp/core/compiled.hpp"
#include "bertpp/core/detail/json_error.hpp"
#include "bertpp/heads/classification.hpp"
#include "bertpp/pipelines/common.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

/// @brief What a cross-encoder applies to its logit.
enum class CrossEncoderActivation { sigmoid, identity, tanh };

/// @brief A passage's index in the input and its score.
struct RerankHit {
  std::size_t index = 0;
  double score = 0.0;
};

/// @brief Tokenizer + a one-label SequenceClassification<float> used as a cross-encoder:
/// sentence-transformers' CrossEncoder.predict() and rank().
class Reranker {
 public:
  /// @brief Loads an HF folder (tokenizer, config.json with one label, weights). The
  /// activation is found as CrossEncoder finds it: `activation_fn` of
  /// config_sentence_transformers.json, else `sentence_transformers.activation_fn` of
  /// config.json, else its older `sbert_ce_default_activation_function`, else sigmoid.
  /// @throws the loaders' errors; ConfigError as the constructor, or for an activation
  /// bertpp does not know.
  static Reranker load(const std::string& dir, PipelineOptions options = {});
  /// @brief The activation from config.json (see load()), else sigmoid.
  /// @throws ConfigError when the checkpoint does not have exactly one label (a cross-encoder
  /// scores a pair with one logit), or its config names an activation bertpp does not know.
  Reranker(Tokenizer tokenizer, SequenceClassification<float> model, PipelineOptions options = {});
  /// @brief With the activation given.
  /// @throws ConfigError when the checkpoint does not have exactly one label.
  Reranker(Tokenizer tokenizer, SequenceClassification<float> model, PipelineOptions options,
           CrossEncoderActivation activation);

  /// @brief The score of each (query, passage) pair: the activation of the logit of
  /// `[CLS] query [SEP] passage [SEP]` (token types 0 then 1); over-long pairs are cut
  /// longest first, as CrossEncoder (the passage, as the longer text, loses tokens first).
  /// @throws InputError naming a pair with an empty text, or an over-long one when
  /// PipelineOptions::truncate is false.
  std::vector<double> score(const std::vector<TextPair>& pairs) const { return run(pairs, true); }
  /// @brief The logits that score() activates (TEI's `raw_scores`), same order and errors.
  std::vector<double> logits(const std::vector<TextPair>& pairs) const { return run(pairs, false); }
  /// @brief The passages by score for `query`, best first (ties keep input order); the
  /// `top_k` best when top_k > 0.
  /// @throws InputError for an empty query, no passages, or an empty passage (named by index).
  std::vector<RerankHit> rerank(const std::string& query, const std::vector<std::string>& passages,
                                std::size_t top_k = 0) const;

  /// @brief The tokens per pair (specials included) that score() keeps: the smallest of
  /// PipelineOptions::max_length, max_position_embeddings and the tokenizer's maximum. With
  /// model().forward(batch, ctx) and activate(), the stages of score() for callers that
  /// batch pairs themselves.
  /// @throws InputError when that leaves no room for text beside the special tokens.
  std::size_t max_length() const;
  /// @brief A logit of the model as score() makes it a score (the config's activation).
  double activate(float logit) const {
    switch (activation_) {
      case CrossEncoderActivation::sigmoid:
        return detail::sigmoid(logit);
      case CrossEncoderActivation::tanh:
        return std::tanh(static_cast<double>(logit));
      case CrossEncoderActivation::identity:
        break;
    }
    return logit;
  }
  CrossEncoderActivation activation() const noexcept { return activation_; }
  const SequenceClassification<float>& model() const noexcept { return model_; }
  const Tokenizer& tokenizer() const noexcept { return tok_; }

 private:
  // CrossEncoder imports "torch.*" paths and ignores others (untrusted without
  // trust_remote_code: its default stands); false for an ignored one.
  static bool activation_from_name(const std::string& name, const std::string& where,
                                   CrossEncoderActivation& out) {
    if (name.rfind("torch.", 0) != 0) return false;
    if (name == "torch.nn.modules.activation.Sigmoid" || name == "torch.nn.Sigmoid") {
      out = CrossEncoderActivation::sigmoid;
    } else if (name == "torch.nn.modules.linear.Identity" || name == "torch.nn.Identity") {
      out = CrossEncoderActivation::identity;
    } else if (name == "torch.nn.modules.activation.Tanh" || name == "torch.nn.Tanh") {
      out = CrossEncoderActivation::tanh;
    } else {
      throw ConfigError(where + " is '" + name +
                        "'; bertpp knows torch.nn Sigmoid, Identity and Tanh");
    }
    return true;
  }
  std::vector<double> run(const std::vector<TextPair>& pairs, bool activated) const;

  Tokenizer tok_;
  SequenceClassification<float> model_;
  PipelineOptions options_;
  CrossEncoderActivation activation_ = CrossEncoderActivation::sigmoid;
};

#if BERTPP_DEFINITIONS

BERTPP_INLINE Reranker Reranker::load(const std::string& dir, PipelineOptions options) {
  SequenceClassification<float> model = SequenceClassification<float>::load(dir);
  const std::string st = dir + "/config_sentence_transformers.json";
  std::ifstream in(st);
  if (in) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(st + ": not valid JSON: " + detail::json_error_text(e));
    }
    const auto it = j.is_object() ? j.find("activation_fn") : j.end();
    if (it != j.end() && !it->is_null()) {
      if (!it->is_string()) throw ConfigError(st + ": field 'activation_fn' must be a string");
      CrossEncoderActivation a{};
      if (activation_from_name(it->get<std::string>(), st + ": field 'activation_fn'", a))
        return Reranker(Tokenizer::load(dir), std::move(model), options, a);
    }
  }
  return Reranker(Tokenizer::load(dir), std::move(model), options);
}

BERTPP_INLINE Reranker::Reranker(Tokenizer tokenizer, SequenceClassification<float> model,
                                 PipelineOptions options)
    : Reranker(std::move(tokenizer), std::move(model), options, CrossEncoderActivation::sigmoid) {
  const auto& raw = model_.config().raw;
  const std::string& src = model_.config().source;
  const auto st = raw.find("sentence_transformers");
  if (st != raw.end() && st->is_object()) {
    const auto it = st->find("activation_fn");
    if (it != st->end() && it->is_string() &&
        activation_from_name(it->get<std::string>(),
                             src + ": field 'sentence_transformers.activation_fn'", activation_))
      return;
  }
  const auto old = raw.find("sbert_ce_default_activation_function");
  if (old != raw.end() && old->is_string())
    activation_from_name(old->get<std::string>(),
                         src + ": field 'sbert_ce_default_activation_function'", activation_);
}

BERTPP_INLINE Reranker::Reranker(Tokenizer tokenizer, SequenceClassification<float> model,
                                 PipelineOptions options, CrossEncoderActivation activation)
    : tok_(std::move(tokenizer)),
      model_(std::move(model)),
      options_(options),
      activation_(activation) {
  const auto n = model_.labels().size();
  if (n != 1)
    throw ConfigError(model_.config().source +
                      ": a cross-encoder has one label (num_labels 1); this checkpoint has " +
                      std::to_string(n) +
                      " (use TextClassifier::classify_pairs for NLI-style pair labels)");
}

BERTPP_INLINE std::vector<RerankHit> Reranker::rerank(const std::string& query,
                                                      const std::vector<std::string>& passages,
                                                      std::size_t top_k) const {
  detail::require_text(query, "rerank: the query");
  if (passages.empty()) throw InputError("rerank: no passages to rank");
  std::vector<TextPair> pairs;
  pairs.reserve(passages.size());
  for (std::size_t i = 0; i < passages.size(); ++i) {
    detail::require_text(passages[i], "rerank: passage " + std::to_string(i));
    pairs.emplace_back(query, passages[i]);
  }
  const std::vector<double> s = score(pairs);
  std::vector<RerankHit> hits;
  for (std::size_t i = 0; i < s.size(); ++i) hits.push_back({i, s[i]});
  std::stable_sort(hits.begin(), hits.end(),
                   [](const RerankHit& a, const RerankHit& b) { return a.score > b.score; });
  if (top_k > 0 && hits.size() > top_k) hits.resize(top_k);
  return hits;
}

BERTPP_INLINE std::size_t Reranker::max_length() const {
  return detail::max_length(options_, model_.config(), tok_, true);
}

BERTPP_INLINE std::vector<double> Reranker::run(const std::vector<TextPair>& pairs,
                                                bool activated) const {
  const std::size_t max_len = max_length();
  std::vector<double> out;
  out.reserve(pairs.size());
  ForwardOptions fwd;
  fwd.num_threads = options_.num_threads;
  detail::for_batches(pairs.size(), options_.batch_size, [&](std::size_t b0, std::size_t b1) {
    const auto batch =
        detail::encode_pairs(tok_, pairs, b0, b1, max_len, options_.truncate, "rerank");
    const Matrix<float> z = model_.forward(batch, fwd);  // [batch x 1] logits
    for (Eigen::Index r = 0; r < z.rows(); ++r)
      out.push_back(activated ? activate(z(r, 0)) : static_cast<double>(z(r, 0)));
  });
  return out;
}

#endif  // BERTPP_DEFINITIONS

}  // namespace bertpp
