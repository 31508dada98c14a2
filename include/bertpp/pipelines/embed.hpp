// SPDX-License-Identifier: Apache-2.0
// Embedder: sentence embeddings from a sentence-transformers folder (or any BERT folder),
// text in, one vector per text out.
#pragma once

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertpp/core/error.hpp"
#include "bertpp/heads/pooling.hpp"
#include "bertpp/models/bert.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

/// @brief How an Embedder pools and truncates; read from the folder when present.
struct EmbedderOptions {
  PoolingMode pooling = PoolingMode::mean;
  bool normalize = false;      ///< L2-normalise (sentence-transformers' Normalize module)
  std::size_t max_length = 0;  ///< tokens per text, specials included; 0: model maximum
  int num_threads = 1;
  std::size_t batch_size = 32;
};

/// @brief Tokenizer + BertModel<float> + pooling: text to sentence vectors.
class Embedder {
 public:
  /// @brief Loads an HF folder; defaults come from sentence-transformers' modules.json,
  /// 1_Pooling/config.json and sentence_bert_config.json when present (mean pooling, no
  /// normalisation and the model's maximum length otherwise).
  /// @throws the loaders' errors, naming the file at fault.
  static Embedder load(const std::string& dir) {
    Embedder e(Tokenizer::load(dir), BertModel<float>::load(dir));
    e.options_ = read_options(dir, e.model_.config());
    return e;
  }

  Embedder(Tokenizer tokenizer, BertModel<float> model, EmbedderOptions options = {})
      : tokenizer_(std::move(tokenizer)), model_(std::move(model)), options_(options) {}

  /// @brief texts -> [texts x hidden] embeddings (truncated to max_length tokens).
  /// An empty text embeds "[CLS] [SEP]", as in sentence-transformers.
  Matrix<float> embed(const std::vector<std::string>& texts) const {
    EncodeOptions enc;
    enc.truncation = TruncationStrategy::longest_first;
    enc.max_length = max_length();
    Matrix<float> out(static_cast<Eigen::Index>(texts.size()), model_.config().hidden_size);
    ForwardOptions fwd;
    fwd.num_threads = options_.num_threads;
    for (std::size_t b = 0; b < texts.size(); b += options_.batch_size) {
      const std::vector<std::string> chunk(
          texts.begin() + static_cast<std::ptrdiff_t>(b),
          texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), b + options_.batch_size)));
      const auto batch = tokenizer_.encode_batch(chunk, enc, options_.num_threads);
      const auto result = model_.forward(batch, fwd);
      out.middleRows(static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(chunk.size())) =
          pool(result.last_hidden_state, batch, options_.pooling, options_.normalize);
    }
    return out;
  }

  /// @brief Cosine similarity of the embeddings of `a` and `b`.
  /// @throws the tokenizer's errors.
  double similarity(const std::string& a, const std::string& b) const {
    const Matrix<float> v = embed({a, b});
    return cosine(v.row(0).transpose(), v.row(1).transpose());
  }

  /// @brief [a x b] cosine similarities of every text of `a` with every text of `b`.
  /// @throws the tokenizer's errors.
  Matrix<float> similarity(const std::vector<std::string>& a, const std::vector<std::string>& b) const {
    const Matrix<float> va = embed(a), vb = embed(b);
    Matrix<float> out(va.rows(), vb.rows());
    for (Eigen::Index i = 0; i < va.rows(); ++i)
      for (Eigen::Index j = 0; j < vb.rows(); ++j)
        out(i, j) = static_cast<float>(cosine(va.row(i).transpose(), vb.row(j).transpose()));
    return out;
  }

  /// @brief The tokens per text after truncation.
  std::size_t max_length() const {
    const auto model_max = static_cast<std::size_t>(model_.config().max_position_embeddings);
    return options_.max_length ? std::min(options_.max_length, model_max) : model_max;
  }
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
      throw FormatError(path + ": not valid JSON: " + e.what());
    }
  }

  static EmbedderOptions read_options(const std::string& dir, const BertConfig& config) {
    EmbedderOptions o;
    o.max_length = static_cast<std::size_t>(config.max_position_embeddings);
    const auto modules = read_json(dir + "/modules.json");
    std::string pooling_dir = "1_Pooling";
    if (modules.is_array()) {
      for (const auto& m : modules) {
        const std::string type = m.value("type", "");
        if (type.find("Normalize") != std::string::npos) o.normalize = true;
        if (type.find("Pooling") != std::string::npos) pooling_dir = m.value("path", pooling_dir);
      }
    }
    const auto pooling = read_json(dir + "/" + pooling_dir + "/config.json");
    if (pooling.is_object()) {
      const char* keys[] = {"pooling_mode_cls_token", "pooling_mode_mean_tokens",
                            "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens"};
      const PoolingMode modes[] = {PoolingMode::cls, PoolingMode::mean, PoolingMode::max,
                                   PoolingMode::mean_sqrt_len};
      int chosen = 0;
      for (int i = 0; i < 4; ++i)
        if (pooling.value(keys[i], false)) {
          o.pooling = modes[i];
          ++chosen;
        }
      if (chosen > 1)
        throw ConfigError(dir + "/" + pooling_dir +
                          "/config.json: several pooling modes at once are not supported");
    }
    const auto st = read_json(dir + "/sentence_bert_config.json");
    if (st.is_object() && st.contains("max_seq_length") && st["max_seq_length"].is_number_integer())
      o.max_length = st["max_seq_length"].get<std::size_t>();
    return o;
  }

  Tokenizer tokenizer_;
  BertModel<float> model_;
  EmbedderOptions options_;
};

}  // namespace bertpp
