// SPDX-License-Identifier: Apache-2.0
// LinearHead: a classifier trained by bertpp on frozen encoder features (the classic Keras
// recipe: pooled output -> Dropout -> Dense(1, sigmoid) or Dense(N, softmax)), stored as
// `head.safetensors` (`classifier.weight` [outputs x hidden], `classifier.bias` [outputs])
// plus `head.json` (labels, activation, pooling, max length, and the identity of the encoder
// it was trained on, checked when the head is used with an encoder).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertpp/core/error.hpp"
#include "bertpp/core/types.hpp"
#include "bertpp/heads/pooling.hpp"
#include "bertpp/io/weight_store.hpp"
#include "bertpp/models/bert.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

/// @brief What identifies an encoder: its folder name (informative only), hidden size and a
/// digest of its weight files (FNV-1a 64 over 8-byte words of every shard, in name order).
struct EncoderIdentity {
  std::string name;
  std::int64_t hidden_size = 0;
  std::string weights_digest;  ///< "fnv1a64:<16 hex digits>"

  /// @brief The identity of the HF folder `dir` (reads its weight files once).
  /// @throws IoError when the folder has no readable weights; FormatError for a malformed
  /// weight file; ConfigError for a bad config.json.
  static EncoderIdentity of_dir(const std::string& dir) {
    EncoderIdentity id;
    std::string trimmed = dir;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    id.name = trimmed.substr(trimmed.find_last_of('/') == std::string::npos ? 0 : trimmed.find_last_of('/') + 1);
    id.hidden_size = BertConfig::from_file(dir + "/config.json").hidden_size;
    std::vector<std::string> files;
    (void)WeightStore::from_dir(dir);  // validates the folder and its weight files
    if (std::ifstream(dir + "/model.safetensors").good()) {
      files.push_back(dir + "/model.safetensors");
    } else {
      std::ifstream in(dir + "/model.safetensors.index.json");
      const auto j = nlohmann::json::parse(in, nullptr, false);
      if (j.is_object() && j.contains("weight_map") && j["weight_map"].is_object())
        for (const auto& item : j["weight_map"].items())
          if (item.value().is_string()) files.push_back(dir + "/" + item.value().get<std::string>());
      std::sort(files.begin(), files.end());
      files.erase(std::unique(files.begin(), files.end()), files.end());
    }
    std::uint64_t h = 14695981039346656037ULL;
    std::vector<char> buf(1 << 20);
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      if (!in) throw IoError(f + ": cannot read");
      while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const std::size_t n = static_cast<std::size_t>(in.gcount());
        for (std::size_t i = 0; i < n; i += 8) {
          std::uint64_t w = 0;
          std::memcpy(&w, buf.data() + i, std::min<std::size_t>(8, n - i));
          h = (h ^ w) * 1099511628211ULL;
        }
      }
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    id.weights_digest = std::string("fnv1a64:") + hex;
    return id;
  }
};

/// @brief How the head's input features are pooled from the encoder's output.
struct HeadPooling {
  std::string mode = "pooler";  ///< "pooler" (BERT's pooled output) or a PoolingMode name
  bool normalize = false;       ///< L2-normalise the pooled vector (sentence-transformers)
};

/// @brief The name of `m` as head.json and sentence-transformers write it.
inline std::string pooling_mode_name(PoolingMode m) {
  switch (m) {
    case PoolingMode::cls: return "cls";
    case PoolingMode::mean: return "mean";
    case PoolingMode::max: return "max";
    default: return "mean_sqrt_len_tokens";
  }
}

/// @brief Encodes `texts` (truncated to `max_length` tokens) and returns their pooled
/// features [texts x hidden], `batch_size` texts per forward call; `progress(done, total)`
/// is called after each batch when given. Empty texts encode as "[CLS] [SEP]".
/// @throws ConfigError when `pooling` asks for the pooled output of an encoder without a
/// pooler; InputError as BertModel::forward.
inline Matrix<float> encode_features(const Tokenizer& tok, const BertModel<float>& model,
                                     const std::vector<std::string>& texts, const HeadPooling& pooling,
                                     std::size_t max_length, int num_threads = 1, std::size_t batch_size = 32,
                                     const std::function<void(std::size_t, std::size_t)>& progress = {}) {
  const bool pooler = pooling.mode == "pooler";
  if (pooler && !model.has_pooler())
    throw ConfigError("head pooling 'pooler' needs an encoder with a pooler (pooler.dense.*)");
  const PoolingMode mode = pooler ? PoolingMode::cls : pooling_mode_from_name(pooling.mode);
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
    Matrix<float> f = pooler ? result.pooler_output : pool(result.last_hidden_state, batch, mode, false);
    if (pooling.normalize)
      for (Eigen::Index r = 0; r < f.rows(); ++r) f.row(r) /= std::max(f.row(r).norm(), 1e-12f);
    out.middleRows(static_cast<Eigen::Index>(b), f.rows()) = f;
    if (progress) progress(e, texts.size());
  }
  return out;
}

/// @brief One float32 tensor to write: name, shape and row-major values.
struct F32Tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  const float* data = nullptr;
};

/// @brief Writes `tensors` as a safetensors file (dtype F32, little-endian hosts).
/// @throws IoError when the file cannot be written.
inline void write_safetensors(const std::string& path, const std::vector<F32Tensor>& tensors) {
  nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
  std::size_t offset = 0;
  for (const auto& t : tensors) {
    std::size_t n = 1;
    for (auto d : t.shape) n *= static_cast<std::size_t>(d);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + n * 4}}};
    offset += n * 4;
  }
  std::string text = header.dump();
  while (text.size() % 8) text += ' ';
  std::ofstream out(path, std::ios::binary);
  const std::uint64_t len = text.size();
  unsigned char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(len >> (8 * i));
  out.write(reinterpret_cast<const char*>(le), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& t : tensors) {
    std::size_t n = 1;
    for (auto d : t.shape) n *= static_cast<std::size_t>(d);
    out.write(reinterpret_cast<const char*>(t.data), static_cast<std::streamsize>(n * 4));
  }
  if (!out) throw IoError(path + ": cannot write");
}

/// @brief A linear classifier over encoder features, with what is needed to use it again.
struct LinearHead {
  std::vector<std::string> labels;  ///< label names, id order
  std::string activation = "sigmoid";  ///< "sigmoid" (2 labels, 1 output) or "softmax"
  HeadPooling pooling;
  std::size_t max_length = 128;  ///< tokens per text, specials included
  EncoderIdentity encoder;
  Matrix<float> weight;   ///< [outputs x hidden]
  Vector<float> bias;     ///< [outputs]

  /// @brief Outputs of the dense layer: 1 for a sigmoid head, the label count for softmax.
  std::size_t outputs() const noexcept {
    return activation == "sigmoid" ? 1 : labels.size();
  }

  /// @brief features [n x hidden] -> logits [n x outputs].
  Matrix<float> logits(const Matrix<float>& features) const {
    Matrix<float> out = features * weight.transpose();
    out.rowwise() += bias.transpose();
    return out;
  }

  /// @brief One row of logits -> a probability per label (sigmoid: [1 - p, p]).
  std::vector<double> probabilities(const Matrix<float>& logit_rows, Eigen::Index r) const {
    if (activation == "sigmoid") {
      const double p = 1.0 / (1.0 + std::exp(-static_cast<double>(logit_rows(r, 0))));
      return {1.0 - p, p};
    }
    std::vector<double> s(static_cast<std::size_t>(logit_rows.cols()));
    double max = -INFINITY, sum = 0.0;
    for (Eigen::Index c = 0; c < logit_rows.cols(); ++c) max = std::max(max, static_cast<double>(logit_rows(r, c)));
    for (Eigen::Index c = 0; c < logit_rows.cols(); ++c)
      sum += s[static_cast<std::size_t>(c)] = std::exp(static_cast<double>(logit_rows(r, c)) - max);
    for (auto& v : s) v /= sum;
    return s;
  }

  /// @brief Throws unless this head was trained on the encoder `id`.
  /// @throws WeightError naming both encoders when hidden size or weights differ.
  void check_encoder(const EncoderIdentity& id, const std::string& dir) const {
    if (id.hidden_size != encoder.hidden_size || id.weights_digest != encoder.weights_digest)
      throw WeightError("head trained on encoder '" + encoder.name + "' (hidden " +
                        std::to_string(encoder.hidden_size) + ", weights " + encoder.weights_digest +
                        ") cannot be used with " + dir + " (hidden " + std::to_string(id.hidden_size) +
                        ", weights " + id.weights_digest + "): retrain it with train_classifier");
  }

  /// @brief Writes `dir`/head.safetensors and `dir`/head.json (the folder must exist).
  /// @throws IoError when a file cannot be written.
  void save(const std::string& dir) const {
    const auto h = static_cast<std::int64_t>(weight.cols()), o = static_cast<std::int64_t>(weight.rows());
    write_safetensors(dir + "/head.safetensors",
                      {{"classifier.weight", {o, h}, weight.data()}, {"classifier.bias", {o}, bias.data()}});
    nlohmann::json j = {{"format", "bertpp-linear-head"},
                        {"version", 1},
                        {"labels", labels},
                        {"activation", activation},
                        {"pooling", pooling.mode},
                        {"normalize", pooling.normalize},
                        {"max_length", max_length},
                        {"encoder",
                         {{"name", encoder.name},
                          {"hidden_size", encoder.hidden_size},
                          {"weights_digest", encoder.weights_digest}}}};
    std::ofstream js(dir + "/head.json");
    js << j.dump(2) << "\n";
    if (!js) throw IoError(dir + "/head.json: cannot write");
  }

  /// @brief Whether `dir` holds a bertpp head (head.json).
  static bool exists(const std::string& dir) { return std::ifstream(dir + "/head.json").good(); }

  /// @brief Reads `dir`/head.json and `dir`/head.safetensors.
  /// @throws IoError for missing files; FormatError for a malformed head.json (naming the
  /// field); WeightError for tensors that disagree with head.json.
  static LinearHead load(const std::string& dir) {
    const std::string path = dir + "/head.json";
    std::ifstream in(path);
    if (!in) throw IoError(path + ": cannot open (not a bertpp head folder)");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(path + ": not valid JSON: " + e.what());
    }
    LinearHead head;
    try {
      if (j.at("format").get<std::string>() != "bertpp-linear-head")
        throw FormatError(path + ": field 'format' is not 'bertpp-linear-head'");
      head.labels = j.at("labels").get<std::vector<std::string>>();
      head.activation = j.at("activation").get<std::string>();
      head.pooling.mode = j.at("pooling").get<std::string>();
      head.pooling.normalize = j.value("normalize", false);
      head.max_length = j.at("max_length").get<std::size_t>();
      const auto& e = j.at("encoder");
      head.encoder.name = e.at("name").get<std::string>();
      head.encoder.hidden_size = e.at("hidden_size").get<std::int64_t>();
      head.encoder.weights_digest = e.at("weights_digest").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(path + ": " + e.what());
    }
    if (head.activation != "sigmoid" && head.activation != "softmax")
      throw FormatError(path + ": field 'activation' is '" + head.activation + "'; expected sigmoid or softmax");
    if (head.activation == "sigmoid" ? head.labels.size() != 2 : head.labels.size() < 2)
      throw FormatError(path + ": " + std::to_string(head.labels.size()) + " labels for activation " +
                        head.activation + " (sigmoid: 2, softmax: at least 2)");
    if (head.pooling.mode != "pooler") pooling_mode_from_name(head.pooling.mode);
    WeightStore store;
    store.add_file(dir + "/head.safetensors");
    const auto o = static_cast<std::int64_t>(head.outputs());
    const auto w = store.get<float>("classifier.weight", {o, head.encoder.hidden_size});
    const auto b = store.get<float>("classifier.bias", {o});
    head.weight = w.matrix();
    head.bias = b.vector();
    return head;
  }
};

}  // namespace bertpp
