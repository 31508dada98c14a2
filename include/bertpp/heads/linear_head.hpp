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
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertpp/core/detail/json_error.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/core/types.hpp"
#include "bertpp/heads/pooling.hpp"
#include "bertpp/io/safetensors.hpp"
#include "bertpp/io/weight_store.hpp"
#include "bertpp/models/bert.hpp"

namespace bertpp {

namespace detail {

/// @brief Typed, range-checked reads of the fields of a JSON object from file `path`; every
/// error is a FormatError naming the file and the field (`prefix` + name).
struct JsonFields {
  const nlohmann::json& j;
  std::string path;
  std::string prefix;

  [[noreturn]] void fail(const std::string& name, const std::string& why) const {
    throw FormatError(path + ": field '" + prefix + name + "' " + why);
  }
  const nlohmann::json& at(const std::string& name) const {
    if (!j.is_object())
      throw FormatError(path + ": expected a JSON object" +
                        (prefix.empty() ? "" : " at '" + prefix + "'"));
    auto it = j.find(name);
    if (it == j.end()) fail(name, "is missing");
    return *it;
  }
  std::string string(const std::string& name) const {
    const auto& v = at(name);
    if (!v.is_string()) fail(name, std::string("must be a string, got a ") + v.type_name());
    return v.get<std::string>();
  }
  bool boolean(const std::string& name, bool fallback) const {
    if (!j.is_object() || !j.contains(name)) return fallback;
    const auto& v = at(name);
    if (!v.is_boolean()) fail(name, std::string("must be true or false, got a ") + v.type_name());
    return v.get<bool>();
  }
  /// An integer (not a float such as 1e300 or 2.5) in [lo, hi] (0 <= hi).
  std::int64_t integer(const std::string& name, std::int64_t lo, std::int64_t hi) const {
    const auto& v = at(name);
    if (!v.is_number_integer())
      fail(name, std::string("must be an integer, got a ") + v.type_name());
    const bool above =
        v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi);
    const std::int64_t x = above ? hi : v.get<std::int64_t>();
    if (above || x < lo || x > hi)
      fail(name, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                     "], got " + v.dump());
    return x;
  }
  std::vector<std::string> strings(const std::string& name, std::size_t max) const {
    const auto& v = at(name);
    if (!v.is_array()) fail(name, std::string("must be a list of strings, got a ") + v.type_name());
    if (v.size() > max)
      fail(name,
           "holds " + std::to_string(v.size()) + " entries, more than " + std::to_string(max));
    std::vector<std::string> out;
    for (const auto& x : v) {
      if (!x.is_string())
        fail(name, "must hold strings only, entry " + std::to_string(out.size()) + " is a " +
                       x.type_name());
      out.push_back(x.get<std::string>());
    }
    return out;
  }
  const nlohmann::json& object(const std::string& name) const {
    const auto& v = at(name);
    if (!v.is_object()) fail(name, std::string("must be an object, got a ") + v.type_name());
    return v;
  }
};

}  // namespace detail

namespace detail {

/// @brief FNV-1a 64 over 8-byte little-endian words (the last one zero-padded).
struct Fnv1a64 {
  std::uint64_t h = 14695981039346656037ULL;
  void add(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, p + i, std::min<std::size_t>(8, n - i));
      h = (h ^ w) * 1099511628211ULL;
    }
  }
  void add(const std::string& s) {
    add(s.data(), s.size());
    add_u64(s.size());
  }
  void add_u64(std::uint64_t v) { add(&v, sizeof v); }
  std::string hex(const char* scheme) const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return std::string(scheme) + ":" + buf;
  }
};

}  // namespace detail

/// @brief What identifies an encoder: its folder name (informative only), hidden size and a
/// digest of its weights.
///
/// The digest (scheme `sampled64`, the default) is FNV-1a 64 over every tensor in name order:
/// its name, dtype, shape and byte length, all its bytes when it holds at most 4 KiB, else 16
/// evenly spaced 64-byte samples (the first and last bytes included). It reads about 1 KiB
/// per tensor, whatever the model's size, so it costs nothing per load; it tells another
/// encoder (another checkpoint, a fine-tuned copy, other shapes) from this one, not a
/// single edited byte inside a large tensor (it is an identity, not an integrity check).
/// The first scheme, `fnv1a64` (every byte of every weight file, in file name order), is
/// still computed for heads that store it: see tools/reidentify_head.sh to update them.
struct EncoderIdentity {
  std::string name;
  std::int64_t hidden_size = 0;
  std::string weights_digest;  ///< "<scheme>:<16 hex digits>"

  static constexpr const char* kSampled = "sampled64";  ///< the default scheme
  static constexpr const char* kLegacy = "fnv1a64";     ///< every byte (heads of bertpp 0.x)

  /// @brief The scheme of `digest` ("sampled64" or "fnv1a64"), or "" for an unknown one.
  static std::string scheme_of(const std::string& digest) {
    const std::string s = digest.substr(0, digest.find(':'));
    return s == kSampled || s == kLegacy ? s : "";
  }

  /// @brief The identity of the HF folder `dir`, its digest computed with `scheme`.
  /// @throws IoError when the folder has no readable weights; FormatError for a malformed
  /// weight file; ConfigError for a bad config.json or an unknown scheme.
  static EncoderIdentity of_dir(const std::string& dir, const std::string& scheme = kSampled) {
    EncoderIdentity id;
    std::string trimmed = dir;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    id.name = trimmed.substr(
        trimmed.find_last_of('/') == std::string::npos ? 0 : trimmed.find_last_of('/') + 1);
    id.hidden_size = BertConfig::from_file(dir + "/config.json").hidden_size;
    const WeightStore store = WeightStore::from_dir(dir);  // validates the folder, maps its files
    detail::Fnv1a64 h;
    if (scheme == kSampled) {
      for (const auto& name : store.names()) {
        const TensorInfo& t = *store.find(name);
        h.add(name);
        h.add(dtype_name(t.dtype));
        for (auto d : t.shape) h.add_u64(static_cast<std::uint64_t>(d));
        h.add_u64(t.nbytes);
        constexpr std::size_t kWhole = 4096, kSample = 64, kSamples = 16;
        if (t.nbytes <= kWhole) {
          h.add(t.data, t.nbytes);
        } else {
          for (std::size_t k = 0; k < kSamples; ++k)
            h.add(t.data + k * (t.nbytes - kSample) / (kSamples - 1), kSample);
        }
      }
    } else if (scheme == kLegacy) {
      std::set<std::string> files;
      for (const auto& name : store.names()) files.insert(store.find(name)->file);
      std::vector<char> buf(1 << 20);
      for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        if (!in) throw IoError(f + ": cannot read");
        while (in) {
          in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
          h.add(buf.data(), static_cast<std::size_t>(in.gcount()));  // 1 MiB: whole words
        }
      }
    } else {
      throw ConfigError("encoder identity: unknown digest scheme '" + scheme +
                        "' (sampled64, fnv1a64)");
    }
    id.weights_digest = h.hex(scheme.c_str());
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
    case PoolingMode::cls:
      return "cls";
    case PoolingMode::mean:
      return "mean";
    case PoolingMode::max:
      return "max";
    default:
      return "mean_sqrt_len_tokens";
  }
}

/// @brief A linear classifier over encoder features, with what is needed to use it again.
struct LinearHead {
  static constexpr std::int64_t kMaxLength = 1 << 20;  ///< head.json max_length bound
  static constexpr std::int64_t kMaxHidden = 1 << 20;  ///< head.json encoder.hidden_size bound
  static constexpr std::size_t kMaxLabels = 1 << 16;   ///< head.json labels bound
  std::vector<std::string> labels;                     ///< label names, id order
  std::string activation = "sigmoid";  ///< "sigmoid" (2 labels, 1 output) or "softmax"
  HeadPooling pooling;
  std::size_t max_length = 128;  ///< tokens per text, specials included
  EncoderIdentity encoder;
  Matrix<float> weight;  ///< [outputs x hidden]
  Vector<float> bias;    ///< [outputs]

  /// @brief Outputs of the dense layer: 1 for a sigmoid head, the label count for softmax.
  std::size_t outputs() const noexcept { return activation == "sigmoid" ? 1 : labels.size(); }

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
    for (Eigen::Index c = 0; c < logit_rows.cols(); ++c)
      max = std::max(max, static_cast<double>(logit_rows(r, c)));
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
                        std::to_string(encoder.hidden_size) + ", weights " +
                        encoder.weights_digest + ") cannot be used with " + dir + " (hidden " +
                        std::to_string(id.hidden_size) + ", weights " + id.weights_digest +
                        "): retrain it with train_classifier");
  }

  /// @brief Writes `dir`/head.safetensors and `dir`/head.json (the folder must exist).
  /// @throws IoError when a file cannot be written.
  void save(const std::string& dir) const {
    const auto h = static_cast<std::int64_t>(weight.cols()),
               o = static_cast<std::int64_t>(weight.rows());
    write_safetensors(dir + "/head.safetensors", {{"classifier.weight", {o, h}, weight.data()},
                                                  {"classifier.bias", {o}, bias.data()}});
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
      throw FormatError(path + ": not valid JSON (" + detail::json_error_text(e) + ")");
    }
    const detail::JsonFields f{j, path, ""};
    LinearHead head;
    if (f.string("format") != "bertpp-linear-head")
      throw FormatError(path + ": field 'format' is not 'bertpp-linear-head'");
    if (j.contains("version")) f.integer("version", 1, 1);
    head.labels = f.strings("labels", kMaxLabels);
    head.activation = f.string("activation");
    head.pooling.mode = f.string("pooling");
    head.pooling.normalize = f.boolean("normalize", false);
    head.max_length = static_cast<std::size_t>(f.integer("max_length", 2, kMaxLength));
    const detail::JsonFields e{f.object("encoder"), path, "encoder."};
    head.encoder.name = e.string("name");
    head.encoder.hidden_size = e.integer("hidden_size", 1, kMaxHidden);
    head.encoder.weights_digest = e.string("weights_digest");
    if (EncoderIdentity::scheme_of(head.encoder.weights_digest).empty())
      throw FormatError(
          path + ": field 'encoder.weights_digest' must start with 'sampled64:' or 'fnv1a64:'");
    if (head.activation != "sigmoid" && head.activation != "softmax")
      throw FormatError(path + ": field 'activation' is '" + head.activation +
                        "'; expected sigmoid or softmax");
    if (head.activation == "sigmoid" ? head.labels.size() != 2 : head.labels.size() < 2)
      throw FormatError(path + ": field 'labels' holds " + std::to_string(head.labels.size()) +
                        " labels for activation " + head.activation +
                        " (sigmoid: 2, softmax: at least 2)");
    try {
      if (head.pooling.mode != "pooler") pooling_mode_from_name(head.pooling.mode);
    } catch (const ConfigError& err) {
      throw FormatError(path + ": field 'pooling': " + err.what());
    }
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
