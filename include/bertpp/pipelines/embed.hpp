// SPDX-License-Identifier: Apache-2.0
// Embedder: sentence embeddings from a sentence-transformers folder (or any BERT folder),
// text in, one vector per text out.
#pragma once

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertpp/core/compiled.hpp"
#include "bertpp/core/detail/json_error.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/heads/pooling.hpp"
#include "bertpp/io/weight_store.hpp"
#include "bertpp/models/bert.hpp"
#include "bertpp/pipelines/common.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

/// @brief How an Embedder pools; batching, truncation and threads are the PipelineOptions
/// every pipeline takes (max_length 0: the smaller of max_position_embeddings and the
/// tokenizer's model_max_length). Read from the folder when present.
struct EmbedderOptions : PipelineOptions {
  PoolingMode pooling = PoolingMode::mean;
  bool normalize = false;  ///< L2-normalise (sentence-transformers' Normalize module)
};

/// @brief Tokenizer + BertModel<float> + pooling: text to sentence vectors.
class Embedder {
 public:
  /// @brief Loads an HF folder; defaults come from sentence-transformers' modules.json,
  /// 1_Pooling/config.json and sentence_bert_config.json when present (mean pooling, no
  /// normalisation and the model's maximum length otherwise).
  /// @throws the loaders' errors, naming the file at fault.
  static Embedder load(const std::string& dir);

  Embedder(Tokenizer tokenizer, BertModel<float> model, EmbedderOptions options = {})
      : tokenizer_(std::move(tokenizer)), model_(std::move(model)), options_(options) {}

  /// @brief texts -> [texts x hidden] embeddings (truncated to max_length tokens, or
  /// refused when `truncate` is false). An empty text embeds "[CLS] [SEP]", as in
  /// sentence-transformers.
  /// @throws InputError for a bad option (batch_size 0, max_length below the special
  /// tokens) or, when `truncate` is false, a text longer than max_length.
  Matrix<float> embed(const std::vector<std::string>& texts) const;

  /// @brief Cosine similarity of the embeddings of `a` and `b`.
  /// @throws the tokenizer's errors.
  double similarity(const std::string& a, const std::string& b) const;

  /// @brief [a x b] cosine similarities of every text of `a` with every text of `b`.
  /// @throws the tokenizer's errors.
  Matrix<float> similarity(const std::vector<std::string>& a,
                           const std::vector<std::string>& b) const;

  /// @brief The tokens per text after truncation: options().max_length bounded by the
  /// model's maximum (max_position_embeddings and the tokenizer's model_max_length).
  /// @throws InputError for a bad option, as every pipeline.
  std::size_t max_length() const;
  const EmbedderOptions& options() const noexcept { return options_; }
  EmbedderOptions& options() noexcept { return options_; }
  const Tokenizer& tokenizer() const noexcept { return tokenizer_; }
  const BertModel<float>& model() const noexcept { return model_; }

 private:
  static nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) return nlohmann::json();
    try {
      return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(path + ": not valid JSON (" + detail::json_error_text(e) + ")");
    }
  }

  static EmbedderOptions read_options(const std::string& dir) {
    EmbedderOptions o;
    const std::string modules_path = dir + "/modules.json";
    const auto modules = read_json(modules_path);
    std::string pooling_dir = "1_Pooling";
    if (!modules.is_null() && !modules.is_array())
      throw ConfigError(modules_path + ": expected a list of modules");
    for (std::size_t i = 0; modules.is_array() && i < modules.size(); ++i) {
      const auto& m = modules[i];
      const std::string where = modules_path + ": module " + std::to_string(i);
      if (!m.is_object()) throw ConfigError(where + " is not an object");
      for (const char* key : {"type", "path"})
        if (m.contains(key) && !m[key].is_string())
          throw ConfigError(where + ": field '" + key + "' must be a string");
      const std::string type = m.value("type", "");
      if (type.find("Normalize") != std::string::npos) o.normalize = true;
      if (type.find("Pooling") != std::string::npos) pooling_dir = m.value("path", pooling_dir);
    }
    const std::string pooling_path =
        detail::path_inside(dir, pooling_dir, modules_path + ": Pooling module path") +
        "/config.json";
    const auto pooling = read_json(pooling_path);
    if (!pooling.is_null() && !pooling.is_object())
      throw ConfigError(pooling_path + ": expected a JSON object");
    if (pooling.is_object()) {
      const char* keys[] = {"pooling_mode_cls_token", "pooling_mode_mean_tokens",
                            "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens"};
      const PoolingMode modes[] = {PoolingMode::cls, PoolingMode::mean, PoolingMode::max,
                                   PoolingMode::mean_sqrt_len};
      int chosen = 0;
      for (int i = 0; i < 4; ++i) {
        if (pooling.contains(keys[i]) && !pooling[keys[i]].is_boolean())
          throw ConfigError(pooling_path + ": field '" + keys[i] + "' must be true or false");
        if (pooling.value(keys[i], false)) {
          o.pooling = modes[i];
          ++chosen;
        }
      }
      if (chosen > 1)
        throw ConfigError(pooling_path + ": several pooling modes at once are not supported");
    }
    const std::string st_path = dir + "/sentence_bert_config.json";
    const auto st = read_json(st_path);
    if (st.is_object() && st.contains("max_seq_length") && !st["max_seq_length"].is_null()) {
      const auto& v = st["max_seq_length"];
      if (!v.is_number_unsigned() || v.get<std::uint64_t>() < 1)
        throw ConfigError(st_path + ": field 'max_seq_length' must be a positive integer, got " +
                          v.dump());
      // Bounded later by the model's maximum; kept below it here so that no cast wraps.
      o.max_length =
          static_cast<std::size_t>(std::min<std::uint64_t>(v.get<std::uint64_t>(), 1u << 30));
    }
    return o;
  }

  Tokenizer tokenizer_;
  BertModel<float> model_;
  EmbedderOptions options_;
};

#if BERTPP_DEFINITIONS

BERTPP_INLINE Embedder Embedder::load(const std::string& dir) {
  Embedder e(Tokenizer::load(dir), BertModel<float>::load(dir));
  e.options_ = read_options(dir);
  return e;
}

BERTPP_INLINE Matrix<float> Embedder::embed(const std::vector<std::string>& texts) const {
  const std::size_t max_len = max_length();
  EncodeOptions enc;
  if (options_.truncate) {
    enc.truncation = TruncationStrategy::longest_first;
    enc.max_length = max_len;
  }
  Matrix<float> out(static_cast<Eigen::Index>(texts.size()), model_.config().hidden_size);
  ForwardOptions fwd;
  fwd.num_threads = options_.num_threads;
  detail::for_batches(texts.size(), options_.batch_size, [&](std::size_t b0, std::size_t b1) {
    const std::vector<std::string> chunk(texts.begin() + static_cast<std::ptrdiff_t>(b0),
                                         texts.begin() + static_cast<std::ptrdiff_t>(b1));
    const auto batch = tokenizer_.encode_batch(chunk, enc, options_.num_threads);
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (batch[i].size() > max_len)
        throw InputError("embed: text " + std::to_string(b0 + i) + " has " +
                         std::to_string(batch[i].size()) + " tokens, more than max_length " +
                         std::to_string(max_len) + " (PipelineOptions::truncate is false)");
    const auto result = model_.forward(batch, fwd);
    out.middleRows(static_cast<Eigen::Index>(b0), static_cast<Eigen::Index>(chunk.size())) =
        pool(result.last_hidden_state, batch, options_.pooling, options_.normalize);
  });
  return out;
}

BERTPP_INLINE double Embedder::similarity(const std::string& a, const std::string& b) const {
  const Matrix<float> v = embed({a, b});
  return cosine(v.row(0).transpose(), v.row(1).transpose());
}

BERTPP_INLINE Matrix<float> Embedder::similarity(const std::vector<std::string>& a,
                                                 const std::vector<std::string>& b) const {
  const Matrix<float> va = embed(a), vb = embed(b);
  Matrix<float> out(va.rows(), vb.rows());
  for (Eigen::Index i = 0; i < va.rows(); ++i)
    for (Eigen::Index j = 0; j < vb.rows(); ++j)
      out(i, j) = static_cast<float>(cosine(va.row(i).transpose(), vb.row(j).transpose()));
  return out;
}

BERTPP_INLINE std::size_t Embedder::max_length() const {
  return detail::max_length(options_, model_.config(), tokenizer_);
}

#endif  // BERTPP_DEFINITIONS

}  // namespace bertpp
