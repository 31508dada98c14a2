// SPDX-License-Identifier: Apache-2.0
// EncoderConfig (BertConfig): a BERT-family config.json with HF's field names and each
// family's defaults, in one struct with one validate().
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertpp/core/detail/json_error.hpp"
#include "bertpp/core/error.hpp"

namespace bertpp {

/// @brief The BERT-family architectures bertpp runs (HF's `model_type`).
enum class Family { bert, roberta, xlm_roberta, distilbert, albert, electra, ernie, mpnet };

/// @brief The hyper-parameters of a BERT-family encoder, as HF's configs name them
/// (`BertConfig`'s names; the family's own names, e.g. DistilBERT's `dim`, are read into
/// them). A field missing from config.json takes the family's HF default.
///
/// Everything the shared layers need to know about a family is data here: the position
/// offset (RoBERTa), whether token types exist (DistilBERT has none: type_vocab_size 0),
/// factorized embeddings (ALBERT, ELECTRA: embedding_size), layer sharing (ALBERT: groups),
/// task-type embeddings (ERNIE), a relative position bias shared by the layers (MPNet). The
/// tensor names of each family are in layers/names.hpp.
struct EncoderConfig {
  std::string model_type = "bert";
  Family family = Family::bert;  ///< from model_type
  std::int64_t vocab_size = 30522;
  std::int64_t hidden_size = 768;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 12;
  std::int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";
  double hidden_dropout_prob = 0.1;           // training only
  double attention_probs_dropout_prob = 0.1;  // training only
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  double initializer_range = 0.02;  // training only
  double layer_norm_eps = 1e-12;
  std::int64_t pad_token_id = 0;
  std::string position_embedding_type = "absolute";
  bool is_decoder = false;
  bool add_cross_attention = false;
  std::vector<std::string> architectures;
  std::map<std::int64_t, std::string> id2label;  ///< label names of task heads
  std::string problem_type;                      ///< "", single_label_classification, ...
  std::int64_t declared_num_labels = -1;         ///< config.json's `num_labels`; -1 when absent
  bool tie_word_embeddings = true;               ///< the MLM decoder shares the word embeddings
  /// Width of the embeddings when it differs from hidden_size (ALBERT, ELECTRA: a dense
  /// projection to hidden_size follows the embedding LayerNorm); -1: hidden_size.
  std::int64_t embedding_size = -1;
  std::int64_t num_hidden_groups = 1;     ///< ALBERT: distinct layer groups shared by the layers
  std::int64_t inner_group_num = 1;       ///< ALBERT: layers in one group
  bool use_task_id = false;               ///< ERNIE: task-type embeddings (task id 0) are added
  std::int64_t task_type_vocab_size = 3;  ///< ERNIE
  /// Position ids start past the padding id (RoBERTa, XLM-RoBERTa: pad_token_id + 1, as HF's
  /// create_position_ids_from_input_ids; MPNet: 2, its padding index being fixed at 1); 0 for
  /// the other families.
  std::int64_t position_offset = 0;
  /// MPNet: rows of the relative attention bias table (`relative_attention_num_buckets`).
  std::int64_t relative_attention_num_buckets = 32;
  /// The whole config.json as read, for heads and pipelines that need other fields.
  nlohmann::json raw = nlohmann::json::object();
  /// Where the config came from, for error messages.
  std::string source = "<preset>";

  /// @brief bert-base-uncased: 12 layers, hidden 768, 12 heads.
  static EncoderConfig base() { return EncoderConfig{}; }

  /// @brief bert-large-uncased: 24 layers, hidden 1024, 16 heads.
  static EncoderConfig large() {
    EncoderConfig c;
    c.hidden_size = 1024;
    c.num_hidden_layers = 24;
    c.num_attention_heads = 16;
    c.intermediate_size = 4096;
    return c;
  }

  /// @brief The model types bertpp runs, and their families.
  static const std::vector<std::pair<std::string, Family>>& families() {
    static const std::vector<std::pair<std::string, Family>> f = {
        {"bert", Family::bert},
        {"roberta", Family::roberta},
        {"xlm-roberta", Family::xlm_roberta},
        {"distilbert", Family::distilbert},
        {"albert", Family::albert},
        {"electra", Family::electra},
        {"ernie", Family::ernie},
        {"mpnet", Family::mpnet}};
    return f;
  }

  /// @brief HF's defaults of the family named by `model_type` (BERT's for an unknown
  /// name: validate() refuses it).
  static EncoderConfig defaults(const std::string& model_type) {
    EncoderConfig c;
    c.model_type = model_type;
    for (const auto& [name, family] : families())
      if (name == model_type) c.family = family;
    switch (c.family) {
      case Family::roberta:
      case Family::xlm_roberta:
        c.vocab_size = c.family == Family::roberta ? 50265 : 30522;
        c.pad_token_id = 1;
        break;
      case Family::distilbert:
        c.num_hidden_layers = 6;
        c.type_vocab_size = 0;  // no token types
        break;
      case Family::mpnet:
        c.vocab_size = 30527;
        c.pad_token_id = 1;
        c.type_vocab_size = 0;  // no token types
        break;
      case Family::albert:
        c.vocab_size = 30000;
        c.embedding_size = 128;
        c.hidden_size = 4096;
        c.num_attention_heads = 64;
        c.intermediate_size = 16384;
        c.hidden_act = "gelu_new";
        c.hidden_dropout_prob = c.attention_probs_dropout_prob = 0.0;
        break;
      case Family::electra:
        c.embedding_size = 128;
        c.hidden_size = 256;
        c.num_attention_heads = 4;
        c.intermediate_size = 1024;
        break;
      case Family::bert:
      case Family::ernie:
        break;
    }
    return c;
  }

  /// @brief The prefix of the encoder's tensors in HF's task models of this family
  /// ("bert.", "roberta.", "distilbert.", "albert.", "electra.", "ernie.").
  std::string base_prefix() const {
    switch (family) {
      case Family::roberta:
      case Family::xlm_roberta:
        return "roberta.";
      case Family::distilbert:
        return "distilbert.";
      case Family::albert:
        return "albert.";
      case Family::electra:
        return "electra.";
      case Family::ernie:
        return "ernie.";
      case Family::mpnet:
        return "mpnet.";
      case Family::bert:
        break;
    }
    return "bert.";
  }

  /// @brief Width of the embeddings (embedding_size, else hidden_size).
  std::int64_t embedding_dim() const { return embedding_size > 0 ? embedding_size : hidden_size; }
  /// @brief Whether the model has token-type embeddings (all but DistilBERT).
  bool has_token_types() const { return type_vocab_size > 0; }
  /// @brief Distinct encoder layers stored (ALBERT shares them: groups x inner layers).
  std::int64_t stored_layers() const {
    return family == Family::albert ? num_hidden_groups * inner_group_num : num_hidden_layers;
  }

  /// @brief Size of one attention head.
  std::int64_t head_size() const { return hidden_size / num_attention_heads; }

  /// @brief Number of labels of a task head (from id2label; HF's default is 2).
  std::int64_t num_labels() const {
    return id2label.empty() ? 2 : static_cast<std::int64_t>(id2label.size());
  }

  /// @brief Checks every value is possible and supported.
  /// @throws ConfigError naming the field, its value and the source file.
  void validate() const {
    auto fail = [&](const std::string& field, const std::string& why) {
      throw ConfigError(source + ": field '" + field + "' " + why);
    };
    auto positive = [&](const char* field, std::int64_t v) {
      if (v <= 0) fail(field, "must be positive, got " + std::to_string(v));
    };
    positive("vocab_size", vocab_size);
    positive("hidden_size", hidden_size);
    positive("num_attention_heads", num_attention_heads);
    positive("intermediate_size", intermediate_size);
    positive("max_position_embeddings", max_position_embeddings);
    if (family == Family::distilbert || family == Family::mpnet) {
      if (type_vocab_size != 0)
        fail("type_vocab_size", "must be 0 for " + model_type + " (no token types)");
    } else {
      positive("type_vocab_size", type_vocab_size);
    }
    if (embedding_size != -1) positive("embedding_size", embedding_size);
    positive("num_hidden_groups", num_hidden_groups);
    positive("inner_group_num", inner_group_num);
    if (family == Family::albert &&
        num_hidden_groups > std::max<std::int64_t>(num_hidden_layers, 1))
      fail("num_hidden_groups", "(" + std::to_string(num_hidden_groups) +
                                    ") must not exceed num_hidden_layers (" +
                                    std::to_string(num_hidden_layers) + ")");
    if (use_task_id) positive("task_type_vocab_size", task_type_vocab_size);
    if (family == Family::mpnet)
      positive("relative_attention_num_buckets", relative_attention_num_buckets);
    if (position_offset < 0 || position_offset >= max_position_embeddings)
      fail("pad_token_id", "gives position offset " + std::to_string(position_offset) +
                               ", outside [0, max_position_embeddings = " +
                               std::to_string(max_position_embeddings) + ")");
    if (num_hidden_layers < 0)
      fail("num_hidden_layers", "must not be negative, got " + std::to_string(num_hidden_layers));
    if (hidden_size % num_attention_heads != 0)
      fail("hidden_size", "(" + std::to_string(hidden_size) +
                              ") must be divisible by num_attention_heads (" +
                              std::to_string(num_attention_heads) + ")");
    if (!(layer_norm_eps > 0.0)) fail("layer_norm_eps", "must be positive");
    bool known = false;
    std::string names;
    for (const auto& [name, f] : families()) {
      known = known || (name == model_type && f == family);
      names += (names.empty() ? "" : ", ") + name;
    }
    if (!known) fail("model_type", "is '" + model_type + "'; bertpp supports " + names);
    if (position_embedding_type != "absolute")
      fail("position_embedding_type",
           "is '" + position_embedding_type + "'; bertpp supports only 'absolute'");
    if (is_decoder) fail("is_decoder", "is true; bertpp runs encoders only");
    if (add_cross_attention) fail("add_cross_attention", "is true; bertpp has no cross-attention");
    if (!is_known_activation(hidden_act))
      fail("hidden_act", "is '" + hidden_act +
                             "'; supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish");
  }

  /// @brief Whether bertpp implements the activation named by HF's `hidden_act`.
  static bool is_known_activation(const std::string& act) {
    return act == "gelu" || act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "relu" ||
           act == "silu" || act == "swish";
  }

  /// @brief Reads a config from parsed JSON; missing fields keep HF's defaults.
  /// @throws ConfigError on a wrong type or an impossible value, naming the field.
  static EncoderConfig from_json(const nlohmann::json& j,
                                 const std::string& source = "config.json") {
    if (!j.is_object()) throw ConfigError(source + ": expected a JSON object at the top level");
    std::string type = "bert";
    read_string(j, source, "model_type", type);
    EncoderConfig c = defaults(type);
    c.source = source;
    c.raw = j;
    read_int(j, source, "vocab_size", c.vocab_size);
    if (c.family == Family::distilbert) {  // DistilBertConfig's own names
      read_int(j, source, "dim", c.hidden_size);
      read_int(j, source, "n_layers", c.num_hidden_layers);
      read_int(j, source, "n_heads", c.num_attention_heads);
      read_int(j, source, "hidden_dim", c.intermediate_size);
      read_string(j, source, "activation", c.hidden_act);
      read_double(j, source, "dropout", c.hidden_dropout_prob);
      read_double(j, source, "attention_dropout", c.attention_probs_dropout_prob);
    } else {
      read_int(j, source, "hidden_size", c.hidden_size);
      read_int(j, source, "num_hidden_layers", c.num_hidden_layers);
      read_int(j, source, "num_attention_heads", c.num_attention_heads);
      read_int(j, source, "intermediate_size", c.intermediate_size);
      read_string(j, source, "hidden_act", c.hidden_act);
      read_double(j, source, "hidden_dropout_prob", c.hidden_dropout_prob);
      read_double(j, source, "attention_probs_dropout_prob", c.attention_probs_dropout_prob);
      if (c.family != Family::mpnet)  // MPNet has no token types (HF ignores the field)
        read_int(j, source, "type_vocab_size", c.type_vocab_size);
      read_double(j, source, "layer_norm_eps", c.layer_norm_eps);
    }
    read_int(j, source, "max_position_embeddings", c.max_position_embeddings);
    read_double(j, source, "initializer_range", c.initializer_range);
    read_int(j, source, "pad_token_id", c.pad_token_id);
    if (c.family == Family::albert || c.family == Family::electra)
      read_int(j, source, "embedding_size", c.embedding_size);
    if (c.family == Family::albert) {
      read_int(j, source, "num_hidden_groups", c.num_hidden_groups);
      read_int(j, source, "inner_group_num", c.inner_group_num);
    }
    if (c.family == Family::ernie) {
      read_bool(j, source, "use_task_id", c.use_task_id);
      read_int(j, source, "task_type_vocab_size", c.task_type_vocab_size);
    }
    if (c.family == Family::mpnet)
      read_int(j, source, "relative_attention_num_buckets", c.relative_attention_num_buckets);
    if (c.family == Family::roberta || c.family == Family::xlm_roberta)
      c.position_offset = c.pad_token_id + 1;
    if (c.family == Family::mpnet) c.position_offset = 2;  // HF's MPNetEmbeddings: padding_idx 1
    read_string(j, source, "position_embedding_type", c.position_embedding_type);
    read_bool(j, source, "is_decoder", c.is_decoder);
    read_bool(j, source, "add_cross_attention", c.add_cross_attention);
    read_string(j, source, "problem_type", c.problem_type);
    read_int(j, source, "num_labels", c.declared_num_labels);
    if (c.declared_num_labels < 0 && j.contains("num_labels") && !j["num_labels"].is_null())
      throw ConfigError(source + ": field 'num_labels' must not be negative, got " +
                        std::to_string(c.declared_num_labels));
    read_bool(j, source, "tie_word_embeddings", c.tie_word_embeddings);
    if (auto it = j.find("architectures"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) throw ConfigError(source + ": field 'architectures' must be a list");
      for (const auto& a : *it) {
        if (!a.is_string()) throw ConfigError(source + ": field 'architectures' must hold strings");
        c.architectures.push_back(a.get<std::string>());
      }
    }
    if (auto it = j.find("id2label"); it != j.end() && !it->is_null()) {
      if (!it->is_object()) throw ConfigError(source + ": field 'id2label' must be an object");
      for (const auto& [key, value] : it->items()) {
        std::int64_t id = -1;
        std::istringstream is(key);
        if (!(is >> id) || !is.eof() || id < 0 || !value.is_string())
          throw ConfigError(source + ": field 'id2label' entry '" + key +
                            "' must map a non-negative integer to a string");
        c.id2label[id] = value.get<std::string>();
      }
      for (std::int64_t i = 0; i < static_cast<std::int64_t>(c.id2label.size()); ++i)
        if (!c.id2label.count(i))
          throw ConfigError(source + ": field 'id2label' has no label for id " + std::to_string(i));
    }
    c.validate();
    return c;
  }

  /// @brief Reads the config of a checkpoint folder: `config.json` (HF), else
  /// `bert_config.json` (Google's TF releases: the same field names, no model_type).
  /// @throws IoError naming config.json when neither exists; FormatError, ConfigError as
  /// from_file.
  static EncoderConfig from_dir(const std::string& dir) {
    const std::string hf = dir + "/config.json", google = dir + "/bert_config.json";
    if (!std::ifstream(hf).good() && std::ifstream(google).good()) return from_file(google);
    return from_file(hf);
  }

  /// @brief Reads and validates a config.json file.
  /// @throws IoError if the file cannot be read; FormatError if it is not JSON;
  /// ConfigError on a wrong or unsupported value.
  static EncoderConfig from_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path + ": cannot open config file");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(path + ": not valid JSON (" + detail::json_error_text(e) + ")");
    }
    return from_json(j, path);
  }

 private:
  static const nlohmann::json* field(const nlohmann::json& j, const char* name) {
    auto it = j.find(name);
    return (it == j.end() || it->is_null()) ? nullptr : &*it;
  }
  static void read_int(const nlohmann::json& j, const std::string& src, const char* name,
                       std::int64_t& out) {
    if (const auto* v = field(j, name)) {
      if (!v->is_number_integer())
        throw ConfigError(src + ": field '" + name + "' must be an integer, got " + v->dump());
      out = v->get<std::int64_t>();
    }
  }
  static void read_double(const nlohmann::json& j, const std::string& src, const char* name,
                          double& out) {
    if (const auto* v = field(j, name)) {
      if (!v->is_number())
        throw ConfigError(src + ": field '" + name + "' must be a number, got " + v->dump());
      out = v->get<double>();
    }
  }
  static void read_string(const nlohmann::json& j, const std::string& src, const char* name,
                          std::string& out) {
    if (const auto* v = field(j, name)) {
      if (!v->is_string())
        throw ConfigError(src + ": field '" + name + "' must be a string, got " + v->dump());
      out = v->get<std::string>();
    }
  }
  static void read_bool(const nlohmann::json& j, const std::string& src, const char* name,
                        bool& out) {
    if (const auto* v = field(j, name)) {
      if (!v->is_boolean())
        throw ConfigError(src + ": field '" + name + "' must be true or false, got " + v->dump());
      out = v->get<bool>();
    }
  }
};

/// @brief The name the BERT-only versions used; the same struct.
using BertConfig = EncoderConfig;

}  // namespace bertpp
