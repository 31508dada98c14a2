// SPDX-License-Identifier: Apache-2.0
// Text to features: the pooled encoder output a LinearHead is trained and applied on.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "bertpp/core/compiled.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/core/types.hpp"
#include "bertpp/heads/linear_head.hpp"
#include "bertpp/heads/pooling.hpp"
#include "bertpp/models/bert.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

/// @brief Encodes `texts` (truncated to `max_length` tokens) and returns their pooled
/// features [texts x hidden], `batch_size` texts per forward call; `progress(done, total)`
/// is called after each batch when given. Empty texts encode as "[CLS] [SEP]".
/// @throws ConfigError when `pooling` asks for the pooled output of an encoder without a
/// pooler; InputError as BertModel::forward.
Matrix<float> encode_features(const Tokenizer& tok, const BertModel<float>& model,
                              const std::vector<std::string>& texts, const HeadPooling& pooling,
                              std::size_t max_length, int num_threads = 1,
                              std::size_t batch_size = 32,
                              const std::function<void(std::size_t, std::size_t)>& progress = {});

#if BERTPP_DEFINITIONS

BERTPP_INLINE Matrix<float> encode_features(
    const Tokenizer& tok, const BertModel<float>& model, const std::vector<std::string>& texts,
    const HeadPooling& pooling, std::size_t max_length, int num_threads, std::size_t batch_size,
    const std::function<void(std::size_t, std::size_t)>& progress) {
  const bool pooler = pooling.mode == "pooler";
  if (pooler && !model.has_pooler())
    throw ConfigError("head pooling 'pooler' needs an encoder with a pooler (pooler.dense.*)");
  const PoolingMode mode = pooler ? PoolingMode::cls : pooling_mode_from_name(pooling.mode);
  // Bounded by the model's maximum (as the pipelines do), so that no position overflows.
  max_length =
      std::min({max_length, static_cast<std::size_t>(model.config().max_position_embeddings),
                tok.options().model_max_length});
  if (max_length < 2)
    throw InputError("encode_features: max_length " + std::to_string(max_length) +
                     " leaves no room for [CLS] and [SEP]");
  EncodeOptions enc;
  enc.truncation = TruncationStrategy::longest_first;
  enc.max_length = max_length;
  ForwardOptions fwd;
  fwd.num_threads = num_threads;
  Matrix<float> out(static_cast<Eigen::Index>(texts.size()), model.config().hidden_size);
  batch_size = std::max<std::size_t>(batch_size, 1);
  for (std::size_t b = 0; b < texts.size(); b += batch_size) {
    const std::size_t e = std::min(texts.size(), b + batch_size);
    const std::vector<std::string> chunk(texts.begin() + static_cast<std::ptrdiff_t>(b),
                                         texts.begin() + static_cast<std::ptrdiff_t>(e));
    const auto batch = tok.encode_batch(chunk, enc, num_threads);
    const auto result = model.forward(batch, fwd);
    Matrix<float> f =
        pooler ? result.pooler_output : pool(result.last_hidden_state, batch, mode, false);
    if (pooling.normalize)
      for (Eigen::Index r = 0; r < f.rows(); ++r) f.row(r) /= std::max(f.row(r).norm(), 1e-12f);
    out.middleRows(static_cast<Eigen::Index>(b), f.rows()) = f;
    if (progress) progress(e, texts.size());
  }
  return out;
}

#endif  // BERTPP_DEFINITIONS

}  // namespace bertpp
