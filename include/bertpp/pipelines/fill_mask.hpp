// SPDX-License-Identifier: Apache-2.0
// fill_mask: the most likely tokens for each [MASK] of a text, as HF's "fill-mask" pipeline.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bertpp/core/compiled.hpp"
#include "bertpp/heads/pretraining.hpp"
#include "bertpp/pipelines/common.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

/// @brief One proposal for a [MASK] (HF's fields).
struct MaskPrediction {
  double score = 0.0;      ///< probability (softmax over the vocabulary)
  std::int32_t token = 0;  ///< token id
  std::string token_str;   ///< the token decoded alone
  std::string sequence;    ///< the text with the token in place of the [MASK], decoded
};

/// @brief Tokenizer + MaskedLM<float>: text with [MASK] in, proposals out.
class FillMask {
 public:
  /// @brief Loads an HF folder (tokenizer files, config.json, weights with `cls.predictions`).
  /// @throws the loaders' errors; WeightError when the checkpoint has no masked-LM head.
  static FillMask load(const std::string& dir, PipelineOptions options = {});
  FillMask(Tokenizer tokenizer, MaskedLM<float> model, PipelineOptions options = {})
      : tok_(std::move(tokenizer)), model_(std::move(model)), options_(options) {}

  /// @brief The `top_k` best tokens for the single [MASK] of `text`, best first.
  /// @throws InputError for an empty text, no [MASK] (also after truncation), or several
  /// (use fill_masks).
  std::vector<MaskPrediction> fill_mask(const std::string& text, std::size_t top_k = 5) const;
  /// @brief fill_mask of each text (one [MASK] each), in batches.
  /// @throws InputError naming the text at fault.
  std::vector<std::vector<MaskPrediction>> fill_mask(const std::vector<std::string>& texts,
                                                     std::size_t top_k = 5) const {
    std::vector<std::vector<MaskPrediction>> out;
    for (auto& r : run(texts, top_k, true)) out.push_back(std::move(r[0]));
    return out;
  }
  /// @brief One list of proposals per [MASK] of `text`, in text order. As HF, each
  /// `sequence` then keeps the special tokens (and the other [MASK]s).
  /// @throws InputError for an empty text or no [MASK].
  std::vector<std::vector<MaskPrediction>> fill_masks(const std::string& text,
                                                      std::size_t top_k = 5) const {
    return std::move(run({text}, top_k, false)[0]);
  }

  const PipelineOptions& options() const noexcept { return options_; }
  const Tokenizer& tokenizer() const noexcept { return tok_; }
  const MaskedLM<float>& model() const noexcept { return model_; }

 private:
  std::vector<std::vector<std::vector<MaskPrediction>>> run(const std::vector<std::string>& texts,
                                                            std::size_t top_k, bool single) const {
    const std::int32_t mask = tok_.mask_id();
    if (mask < 0) throw InputError("fill_mask: the tokenizer has no mask token");
    const std::size_t max_len = detail::max_length(options_, model_.config(), tok_);
    std::vector<std::vector<std::vector<MaskPrediction>>> out(texts.size());
    ForwardOptions fwd;
    fwd.num_threads = options_.num_threads;
    detail::for_batches(texts.size(), options_.batch_size, [&](std::size_t b0, std::size_t b1) {
      std::vector<Encoding> batch;
      std::vector<std::vector<std::size_t>> where(b1 - b0);
      for (std::size_t i = b0; i < b1; ++i) {
        const std::string name = "fill_mask: text " + std::to_string(i);
        detail::require_text(texts[i], name);
        batch.push_back(detail::encode(tok_, texts[i], nullptr, max_len, options_.truncate, name));
        for (std::size_t j = 0; j < batch.back().ids.size(); ++j)
          if (batch.back().ids[j] == mask) where[i - b0].push_back(j);
        if (where[i - b0].empty())
          throw InputError(
              name + " has no " + tok_.options().mask_token + " token" +
              (tok_.encode(texts[i]).size() > max_len ? " left after truncation" : ""));
        if (single && where[i - b0].size() > 1)
          throw InputError(name + " has " + std::to_string(where[i - b0].size()) + " " +
                           tok_.options().mask_token + " tokens; use fill_masks()");
      }
      const auto hidden = model_.model().forward(batch, fwd).last_hidden_state;
      for (std::size_t k = 0; k < batch.size(); ++k) {
        Matrix<float> rows(static_cast<Eigen::Index>(where[k].size()), hidden[k].cols());
        for (std::size_t m = 0; m < where[k].size(); ++m)
          rows.row(static_cast<Eigen::Index>(m)) =
              hidden[k].row(static_cast<Eigen::Index>(where[k][m]));
        const Matrix<float> logits = model_.head().forward(rows);  // [masks x vocab]
        const bool one = where[k].size() == 1;
        for (std::size_t m = 0; m < where[k].size(); ++m) {
          const auto probs = detail::softmax(logits.row(static_cast<Eigen::Index>(m)));
          std::vector<MaskPrediction> preds;
          for (std::size_t id : detail::top_k(probs, top_k)) {
            MaskPrediction p;
            p.score = probs[id];
            p.token = static_cast<std::int32_t>(id);
            p.token_str = tok_.decode({p.token}, false);
            std::vector<std::int32_t> ids;
            for (std::size_t j = 0; j < batch[k].ids.size(); ++j) {
              const std::int32_t t = j == where[k][m] ? p.token : batch[k].ids[j];
              if (t != tok_.pad_id()) ids.push_back(t);
            }
            p.sequence = tok_.decode(ids, one);
            preds.push_back(std::move(p));
          }
          out[b0 + k].push_back(std::move(preds));
        }
      }
    });
    return out;
  }

  Tokenizer tok_;
  MaskedLM<float> model_;
  PipelineOptions options_;
};

#if BERTPP_DEFINITIONS

BERTPP_INLINE FillMask FillMask::load(const std::string& dir, PipelineOptions options) {
  return FillMask(Tokenizer::load(dir), MaskedLM<float>::load(dir), options);
}

BERTPP_INLINE std::vector<MaskPrediction> FillMask::fill_mask(const std::string& text,
                                                              std::size_t top_k) const {
  auto r = run({text}, top_k, true);
  return std::move(r[0][0]);
}

#endif  // BERTPP_DEFINITIONS

}  // namespace bertpp
