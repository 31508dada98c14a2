// SPDX-License-Identifier: Apache-2.0
// zero_shot: classification into labels chosen at run time with an NLI checkpoint, as HF's
// "zero-shot-classification" pipeline: each (text, hypothesis of a label) pair is classified
// and the entailment logit is the label's evidence.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "bertpp/core/compiled.hpp"
#include "bertpp/heads/classification.hpp"
#include "bertpp/pipelines/classify.hpp"
#include "bertpp/pipelines/common.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

namespace detail {

/// @brief `tmpl` with its placeholder (`{}` or `{0}`, as Python's str.format with one
/// argument; `{{` and `}}` are braces) replaced by `label`.
/// @throws InputError when `tmpl` has no placeholder, another field, or an unmatched brace.
inline std::string format_hypothesis(const std::string& tmpl, const std::string& label) {
  std::string out;
  std::size_t fields = 0, autos = 0;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    const char ch = tmpl[i];
    if ((ch == '{' || ch == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == ch) {
      out += ch;
      ++i;
    } else if (ch == '{') {
      const std::size_t close = tmpl.find('}', i);
      const std::string field = close == std::string::npos ? "" : tmpl.substr(i + 1, close - i - 1);
      if (close == std::string::npos || (field != "" && field != "0"))
        throw InputError(
            "zero_shot: hypothesis template '" + tmpl +
            "': only '{}' (or '{0}') may stand for the label; write '{{' and '}}' for braces");
      autos += field.empty();
      ++fields;
      if (autos > 1 || (autos > 0 && autos != fields))
        throw InputError(
            "zero_shot: hypothesis template '" + tmpl +
            "' has more than one '{}', or mixes '{}' and '{0}'; use '{0}' to repeat the label");
      out += label;
      i = close;
    } else if (ch == '}') {
      throw InputError("zero_shot: hypothesis template '" + tmpl +
                       "' has an unmatched '}' (write '}}')");
    } else {
      out += ch;
    }
  }
  if (fields == 0)
    throw InputError("zero_shot: hypothesis template '" + tmpl +
                     "' has no '{}' where the label goes");
  return out;
}

}  // namespace detail

/// @brief Tokenizer + an NLI SequenceClassification<float> (labels naming entailment, e.g.
/// contradiction / neutral / entailment): HF's zero-shot-classification pipeline.
class ZeroShotClassifier {
 public:
  /// @brief HF's default hypothesis template.
  static constexpr const char* kDefaultTemplate = "This example is {}.";

  /// @brief Loads an HF NLI folder (tokenizer, config.json with the labels, weights).
  /// @throws the loaders' errors; ConfigError as the constructor.
  static ZeroShotClassifier load(const std::string& dir, PipelineOptions options = {});
  /// @brief Finds the entailment label as HF does: the first label of config.json's
  /// `label2id` (in key order; without one, of `id2label` in id order) whose lower-case name
  /// starts with "entail"; the contradiction logit HF compares it with (multi-label) is
  /// label 0, or the last label when entailment is label 0.
  /// @throws ConfigError when the model has fewer than 2 labels, no label starting with
  /// "entail" (HF then warns and reads the last logit; bertpp refuses), or a `label2id`
  /// entry out of range.
  ZeroShotClassifier(Tokenizer tokenizer, SequenceClassification<float> model,
                     PipelineOptions options = {});

  /// @brief For each text, every candidate label with its score, best first (ties: the
  /// later label first, as HF). Single-label: softmax of the entailment logits over the
  /// candidates; `multi_label` (or one candidate): per candidate, softmax of (contradiction,
  /// entailment). The hypothesis of a label is `hypothesis_template` with `{}` replaced by
  /// it; over-long inputs cut the text, never the hypothesis (HF's only_first).
  /// @throws InputError for no texts, no candidate labels, an empty text or label, a
  /// template without `{}`, or a pair whose hypothesis alone is longer than max_length.
  std::vector<std::vector<LabelScore>> classify(
      const std::vector<std::string>& texts, const std::vector<std::string>& candidate_labels,
      bool multi_label = false, const std::string& hypothesis_template = kDefaultTemplate) const;
  /// @brief classify() of one text.
  /// @throws InputError as classify().
  std::vector<LabelScore> classify(
      const std::string& text, const std::vector<std::string>& candidate_labels,
      bool multi_label = false, const std::string& hypothesis_template = kDefaultTemplate) const {
    return classify(std::vector<std::string>{text}, candidate_labels, multi_label,
                    hypothesis_template)[0];
  }

  /// @brief Candidate labels from one string as HF splits it: on commas, each stripped of
  /// spaces, empty ones dropped.
  static std::vector<std::string> parse_labels(const std::string& comma_separated);

  /// @brief The id of the entailment label, and of the label multi-label scoring contrasts
  /// it with (HF's contradiction_id).
  std::size_t entailment_id() const noexcept { return entailment_; }
  std::size_t contradiction_id() const noexcept { return contradiction_; }
  const SequenceClassification<float>& model() const noexcept { return model_; }

 private:
  Tokenizer tok_;
  SequenceClassification<float> model_;
  PipelineOptions options_;
  std::size_t entailment_ = 0, contradiction_ = 0;
};

#if BERTPP_DEFINITIONS

BERTPP_INLINE ZeroShotClassifier ZeroShotClassifier::load(const std::string& dir,
                                                          PipelineOptions options) {
  return ZeroShotClassifier(Tokenizer::load(dir), SequenceClassification<float>::load(dir),
                            options);
}

BERTPP_INLINE ZeroShotClassifier::ZeroShotClassifier(Tokenizer tokenizer,
                                                     SequenceClassification<float> model,
                                                     PipelineOptions options)
    : tok_(std::move(tokenizer)), model_(std::move(model)), options_(options) {
  const auto& names = model_.labels().names;
  const std::string& src = model_.config().source;
  if (names.size() < 2)
    throw ConfigError(
        src +
        ": zero-shot classification needs an NLI head with at least 2 labels (entailment "
        "and contradiction), this one has " +
        std::to_string(names.size()));
  const auto entail = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](char ch) {
      return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
    });
    return s.rfind("entail", 0) == 0;
  };
  const auto& raw = model_.config().raw;
  bool found = false;
  const auto l2i = raw.find("label2id");
  if (l2i != raw.end() && l2i->is_object() && !l2i->empty()) {
    for (const auto& [label, id] : l2i->items()) {
      if (!entail(label)) continue;
      if (!id.is_number_integer() || id.get<long long>() < 0 ||
          id.get<long long>() >= static_cast<long long>(names.size()))
        throw ConfigError(src + ": field 'label2id' entry '" + label +
                          "' is not a label id in [0, " + std::to_string(names.size()) + ")");
      entailment_ = static_cast<std::size_t>(id.get<long long>());
      found = true;
      break;
    }
  } else {
    for (std::size_t i = 0; i < names.size() && !found; ++i)
      if (entail(names[i])) entailment_ = i, found = true;
  }
  if (!found) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw ConfigError(
        src + ": no label starting with 'entail' (labels: " + list +
        "); zero-shot classification needs an NLI head that names its entailment label");
  }
  contradiction_ = entailment_ == 0 ? names.size() - 1 : 0;
}

BERTPP_INLINE std::vector<std::vector<LabelScore>> ZeroShotClassifier::classify(
    const std::vector<std::string>& texts, const std::vector<std::string>& candidate_labels,
    bool multi_label, const std::string& hypothesis_template) const {
  if (texts.empty() || candidate_labels.empty())
    throw InputError("zero_shot: give at least one text and at least one candidate label (got " +
                     std::to_string(texts.size()) + " texts, " +
                     std::to_string(candidate_labels.size()) + " labels)");
  std::vector<std::string> hypotheses;
  for (std::size_t j = 0; j < candidate_labels.size(); ++j) {
    detail::require_text(candidate_labels[j], "zero_shot: candidate label " + std::to_string(j));
    hypotheses.push_back(detail::format_hypothesis(hypothesis_template, candidate_labels[j]));
  }
  for (std::size_t i = 0; i < texts.size(); ++i)
    detail::require_text(texts[i], "zero_shot: text " + std::to_string(i));
  const std::size_t n = candidate_labels.size();
  const std::size_t max_len = detail::max_length(options_, model_.config(), tok_, true);
  std::vector<double> entail(texts.size() * n), contra(texts.size() * n);
  ForwardOptions fwd;
  fwd.num_threads = options_.num_threads;
  detail::for_batches(texts.size() * n, options_.batch_size, [&](std::size_t b0, std::size_t b1) {
    std::vector<Encoding> batch;
    for (std::size_t k = b0; k < b1; ++k) {
      const std::string_view h = hypotheses[k % n];
      batch.push_back(detail::encode(tok_, texts[k / n], &h, max_len, options_.truncate,
                                     "zero_shot: text " + std::to_string(k / n) +
                                         " with candidate label '" + candidate_labels[k % n] + "'",
                                     TruncationStrategy::only_first));
    }
    const Matrix<float> logits = model_.forward(batch, fwd);  // [batch x labels]
    for (std::size_t k = b0; k < b1; ++k) {
      const auto r = static_cast<Eigen::Index>(k - b0);
      entail[k] = logits(r, static_cast<Eigen::Index>(entailment_));
      contra[k] = logits(r, static_cast<Eigen::Index>(contradiction_));
    }
  });
  std::vector<std::vector<LabelScore>> out;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::vector<double> s(n);
    if (multi_label || n == 1) {
      for (std::size_t j = 0; j < n; ++j)
        s[j] = detail::sigmoid(entail[i * n + j] - contra[i * n + j]);
    } else {
      Eigen::VectorXd e(static_cast<Eigen::Index>(n));
      for (std::size_t j = 0; j < n; ++j) e[static_cast<Eigen::Index>(j)] = entail[i * n + j];
      s = detail::softmax(e);
    }
    std::vector<LabelScore> row;
    for (std::size_t j = 0; j < n; ++j) row.push_back({candidate_labels[j], s[j]});
    // HF: reversed(argsort(scores)); a stable ascending sort, reversed.
    std::stable_sort(row.begin(), row.end(),
                     [](const LabelScore& a, const LabelScore& b) { return a.score < b.score; });
    std::reverse(row.begin(), row.end());
    out.push_back(std::move(row));
  }
  return out;
}

BERTPP_INLINE std::vector<std::string> ZeroShotClassifier::parse_labels(
    const std::string& comma_separated) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (b <= comma_separated.size()) {
    const std::size_t e = std::min(comma_separated.find(',', b), comma_separated.size());
    std::string s = comma_separated.substr(b, e - b);
    const auto sp = [](char ch) {
      return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
    };
    while (!s.empty() && sp(s.back())) s.pop_back();
    std::size_t f = 0;
    while (f < s.size() && sp(s[f])) ++f;
    if (f < s.size()) out.push_back(s.substr(f));
    b = e + 1;
  }
  return out;
}

#endif  // BERTPP_DEFINITIONS

}  // namespace bertpp
