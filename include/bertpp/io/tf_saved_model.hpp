// SPDX-License-Identifier: Apache-2.0
// TF2 SavedModels of a BERT encoder as TF Model Garden exports them (TF Hub's
// bert_en_*_L-*_H-*_A-*): the variables of `variables/variables.*` found through the
// checkpoint's object graph (`_CHECKPOINTABLE_OBJECT_GRAPH`) by their TF2 names and shapes,
// reshaped and transposed to HF's BertModel layout. `saved_model.pb` is not read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bertpp/core/config.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/io/detail/protobuf.hpp"
#include "bertpp/io/tf_bundle.hpp"
#include "bertpp/io/tf_checkpoint.hpp"

namespace bertpp {

/// @brief The TrackableObjectGraph of an object-based checkpoint (the fields bertpp reads).
struct TfObjectGraph {
  struct Child {
    std::int64_t node_id = 0;
    std::string local_name;
  };
  struct Attribute {
    std::string name;            ///< "VARIABLE_VALUE" for a variable's value
    std::string full_name;       ///< the TF variable name, e.g. transformer/layer_0/output/kernel
    std::string checkpoint_key;  ///< its key in the bundle
  };
  struct Node {
    std::vector<Child> children;
    std::vector<Attribute> attributes;
  };
  std::vector<Node> nodes;

  /// @brief Parses the serialized graph; `where` names it in errors.
  /// @throws FormatError on malformed bytes or a child id out of range.
  static TfObjectGraph parse(const std::string& bytes, const std::string& where) {
    TfObjectGraph g;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    detail::ProtoReader r(p, bytes.size(), where);
    while (r.next()) {
      if (r.field() != 1) {
        r.skip();
        continue;
      }
      const unsigned char* n = nullptr;
      const std::size_t len = r.bytes_field(n);
      detail::ProtoReader node(n, len, where);
      Node out;
      while (node.next()) {
        if (node.field() == 1 || node.field() == 2) {
          const unsigned char* m = nullptr;
          const std::size_t mlen = node.bytes_field(m);
          detail::ProtoReader msg(m, mlen, where);
          Child c;
          Attribute a;
          while (msg.next()) {
            const unsigned char* s = nullptr;
            if (node.field() == 1 && msg.field() == 1) {
              c.node_id = static_cast<std::int64_t>(msg.varint_field());
            } else if (msg.wire() == detail::ProtoReader::kBytes && msg.field() <= 3) {
              const std::size_t slen = msg.bytes_field(s);
              std::string v(reinterpret_cast<const char*>(s), slen);
              if (node.field() == 1 && msg.field() == 2)
                c.local_name = std::move(v);
              else if (node.field() == 2 && msg.field() == 1)
                a.name = std::move(v);
              else if (node.field() == 2 && msg.field() == 2)
                a.full_name = std::move(v);
              else if (node.field() == 2 && msg.field() == 3)
                a.checkpoint_key = std::move(v);
            } else {
              msg.skip();
            }
          }
          if (node.field() == 1)
            out.children.push_back(std::move(c));
          else
            out.attributes.push_back(std::move(a));
        } else {
          node.skip();
        }
      }
      g.nodes.push_back(std::move(out));
    }
    for (const auto& node : g.nodes)
      for (const auto& c : node.children)
        if (c.node_id < 0 || c.node_id >= static_cast<std::int64_t>(g.nodes.size()))
          throw FormatError(where + ": child '" + c.local_name + "' points to node " +
                            std::to_string(c.node_id) + " of " + std::to_string(g.nodes.size()));
    return g;
  }
};

/// @brief Whether `dir` is a SavedModel (has `variables/variables.index`).
inline bool is_tf_saved_model(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_regular_file(dir + "/variables/variables.index", ec);
}

namespace detail {

/// How a TF2 variable becomes an HF tensor.
enum class Tf2Layout {
  plain,       ///< as stored
  kernel,      ///< [in, out] -> [out, in]
  qkv_kernel,  ///< [H, N, D] -> [N*D, H]
  qkv_bias,    ///< [N, D] -> [N*D]
  out_kernel   ///< [N, D, H] -> [H, N*D]
};

/// The HF name of Model Garden's TF2 variable `full_name` (any scope before the known part
/// is ignored), or "" when it is not an encoder weight.
inline std::string tf2_to_hf_name(std::string full_name, Tf2Layout& layout) {
  if (full_name.size() > 2 && full_name.compare(full_name.size() - 2, 2, ":0") == 0)
    full_name.resize(full_name.size() - 2);
  auto ends = [&](const std::string& s) {
    return full_name.size() >= s.size() &&
           full_name.compare(full_name.size() - s.size(), s.size(), s) == 0 &&
           (full_name.size() == s.size() || full_name[full_name.size() - s.size() - 1] == '/');
  };
  layout = Tf2Layout::plain;
  if (ends("word_embeddings/embeddings")) return "embeddings.word_embeddings.weight";
  if (ends("position_embedding/embeddings")) return "embeddings.position_embeddings.weight";
  if (ends("type_embeddings/embeddings")) return "embeddings.token_type_embeddings.weight";
  if (ends("embeddings/layer_norm/gamma")) return "embeddings.LayerNorm.weight";
  if (ends("embeddings/layer_norm/beta")) return "embeddings.LayerNorm.bias";
  if (ends("pooler_transform/kernel")) return layout = Tf2Layout::kernel, "pooler.dense.weight";
  if (ends("pooler_transform/bias")) return "pooler.dense.bias";
  const std::string tag = "transformer/layer_";
  const auto at = full_name.rfind(tag);
  if (at == std::string::npos || (at > 0 && full_name[at - 1] != '/')) return "";
  const auto slash = full_name.find('/', at + tag.size());
  const std::string num = full_name.substr(at + tag.size(), slash - at - tag.size());
  if (slash == std::string::npos || num.empty() || num.size() > 6 ||
      num.find_first_not_of("0123456789") != std::string::npos)
    return "";
  const std::string rest = full_name.substr(slash + 1), p = "encoder.layer." + num + ".";
  for (const char* qkv : {"query", "key", "value"}) {
    const std::string s = std::string("self_attention/") + qkv + "/";
    if (rest == s + "kernel")
      return layout = Tf2Layout::qkv_kernel, p + "attention.self." + qkv + ".weight";
    if (rest == s + "bias")
      return layout = Tf2Layout::qkv_bias, p + "attention.self." + qkv + ".bias";
  }
  if (rest == "self_attention/attention_output/kernel")
    return layout = Tf2Layout::out_kernel, p + "attention.output.dense.weight";
  if (rest == "self_attention/attention_output/bias") return p + "attention.output.dense.bias";
  if (rest == "self_attention_layer_norm/gamma") return p + "attention.output.LayerNorm.weight";
  if (rest == "self_attention_layer_norm/beta") return p + "attention.output.LayerNorm.bias";
  if (rest == "intermediate/kernel")
    return layout = Tf2Layout::kernel, p + "intermediate.dense.weight";
  if (rest == "intermediate/bias") return p + "intermediate.dense.bias";
  if (rest == "output/kernel") return layout = Tf2Layout::kernel, p + "output.dense.weight";
  if (rest == "output/bias") return p + "output.dense.bias";
  if (rest == "output_layer_norm/gamma") return p + "output.LayerNorm.weight";
  if (rest == "output_layer_norm/beta") return p + "output.LayerNorm.bias";
  return "";
}

/// `t` in HF's layout, per `layout`. @throws FormatError when its rank does not fit.
inline OwnedTensor tf2_to_hf_layout(TensorInfo t, Tf2Layout layout,
                                    const std::shared_ptr<const void>& owner) {
  const auto& s = t.shape;
  const std::size_t want = layout == Tf2Layout::plain                                     ? s.size()
                           : layout == Tf2Layout::kernel || layout == Tf2Layout::qkv_bias ? 2
                                                                                          : 3;
  if (s.size() != want)
    throw FormatError(t.file + ": expected a " + std::to_string(want) + "-D tensor, got shape " +
                      shape_string(s));
  switch (layout) {
    case Tf2Layout::plain:
      return OwnedTensor{t, owner};
    case Tf2Layout::qkv_bias:
      t.shape = {s[0] * s[1]};
      return OwnedTensor{t, owner};
    case Tf2Layout::kernel:
      return transposed(t);
    case Tf2Layout::qkv_kernel:
      t.shape = {s[0], s[1] * s[2]};
      return transposed(t);
    case Tf2Layout::out_kernel:
      t.shape = {s[0] * s[1], s[2]};
      return transposed(t);
  }
  return OwnedTensor{t, owner};
}

}  // namespace detail

/// @brief The encoder weights of SavedModel `dir` under HF's BertModel names (no prefix):
/// each variable of the object graph whose TF2 name is a Model Garden BERT encoder weight,
/// reshaped and transposed (docs/tf-formats.md). Other float variables keep their TF name
/// (reported unused); non-float ones (do_lower_case, counters) and optimizer slots are skipped.
/// @throws IoError / FormatError from TfBundle::open; FormatError for a bundle without an
/// object graph, a malformed one, a variable whose rank does not fit, or a corrupt tensor.
inline std::vector<OwnedTensor> tf2_saved_model_tensors(const std::string& dir) {
  const auto bundle = TfBundle::open(dir + "/variables/variables");
  const std::string key = "_CHECKPOINTABLE_OBJECT_GRAPH";
  if (!bundle->find(key))
    throw FormatError(bundle->index_path() + ": no " + key +
                      " (not an object-based TF2 checkpoint)");
  const auto graph =
      TfObjectGraph::parse(bundle->strings(key).at(0), bundle->index_path() + ": " + key);
  std::vector<OwnedTensor> out;
  for (const auto& node : graph.nodes)
    for (const auto& a : node.attributes) {
      const TfBundleEntry* e = bundle->find(a.checkpoint_key);
      DType dt;
      if (a.name != "VARIABLE_VALUE" ||
          a.checkpoint_key.find("/.OPTIMIZER_SLOT/") != std::string::npos || !e ||
          !tf_float_dtype(e->dtype, dt))
        continue;
      detail::Tf2Layout layout;
      std::string hf = detail::tf2_to_hf_name(a.full_name, layout);
      TensorInfo t = bundle->tensor(a.checkpoint_key);
      t.name = hf.empty() ? a.full_name : hf;
      t.file = bundle->index_path() + " (TF variable '" + a.full_name + "')";
      out.push_back(detail::tf2_to_hf_layout(std::move(t), layout, bundle));
    }
  return out;
}

/// @brief The `do_lower_case` flag Model Garden attaches to a BERT encoder export (the root
/// object's `do_lower_case` variable), or nullopt when the SavedModel has none.
/// @throws as tf2_saved_model_tensors; FormatError when the variable is not a DT_BOOL scalar.
inline std::optional<bool> tf2_do_lower_case(const std::string& dir) {
  const auto bundle = TfBundle::open(dir + "/variables/variables");
  const std::string key = "_CHECKPOINTABLE_OBJECT_GRAPH";
  if (!bundle->find(key)) return std::nullopt;
  const auto graph =
      TfObjectGraph::parse(bundle->strings(key).at(0), bundle->index_path() + ": " + key);
  if (graph.nodes.empty()) return std::nullopt;
  for (const auto& c : graph.nodes[0].children) {
    if (c.local_name != "do_lower_case") continue;
    for (const auto& a : graph.nodes[static_cast<std::size_t>(c.node_id)].attributes) {
      const TfBundleEntry* e =
          a.name == "VARIABLE_VALUE" ? bundle->find(a.checkpoint_key) : nullptr;
      if (!e) continue;
      if (e->dtype != tf_dtype::kBool || e->size != 1 || !e->shape.empty())
        throw FormatError(bundle->index_path() + ": do_lower_case is " + tf_dtype_name(e->dtype) +
                          " of shape " + shape_string(e->shape) + ", expected a DT_BOOL scalar");
      return *bundle->bytes(*e) != 0;
    }
  }
  return std::nullopt;
}

/// @brief The config of SavedModel `dir` derived from its variables' shapes, for a TF Hub
/// download without config.json: vocab, hidden, positions and types from the embeddings,
/// heads from a query kernel [H, N, D], intermediate size from an intermediate kernel,
/// layers counted; `hidden_act` gelu_new (Model Garden's BERT GELU is the tanh
/// approximation), `layer_norm_eps` 1e-12. `source` says it was derived.
/// @throws as tf2_saved_model_tensors; ConfigError when an encoder weight is missing.
inline BertConfig tf2_bert_config(const std::string& dir) {
  BertConfig c;
  c.source = dir + "/variables (config derived from the variables' shapes)";
  c.hidden_act = "gelu_new";
  c.layer_norm_eps = 1e-12;
  std::int64_t layers = 0;
  bool seen[4] = {false, false, false, false};
  for (const auto& t : tf2_saved_model_tensors(dir)) {
    const auto& n = t.info.name;
    const auto& s = t.info.shape;
    if (n == "embeddings.word_embeddings.weight") {
      c.vocab_size = s.at(0), c.hidden_size = s.at(1), seen[0] = true;
    } else if (n == "embeddings.position_embeddings.weight") {
      c.max_position_embeddings = s.at(0), seen[1] = true;
    } else if (n == "embeddings.token_type_embeddings.weight") {
      c.type_vocab_size = s.at(0), seen[2] = true;
    } else if (n.compare(0, 14, "encoder.layer.") == 0) {
      layers = std::max<std::int64_t>(layers, std::stoll(n.substr(14)) + 1);
      if (n.find(".intermediate.dense.weight") != std::string::npos) c.intermediate_size = s.at(0);
    }
  }
  const auto bundle = TfBundle::open(dir + "/variables/variables");
  const auto graph = TfObjectGraph::parse(bundle->strings("_CHECKPOINTABLE_OBJECT_GRAPH").at(0),
                                          bundle->index_path());
  for (const auto& node : graph.nodes)
    for (const auto& a : node.attributes) {
      detail::Tf2Layout layout;
      const TfBundleEntry* e = bundle->find(a.checkpoint_key);
      if (e &&
          detail::tf2_to_hf_name(a.full_name, layout) ==
              "encoder.layer.0.attention.self.query.weight" &&
          e->shape.size() == 3)
        c.num_attention_heads = e->shape[1], seen[3] = true;
    }
  const char* what[4] = {"word_embeddings/embeddings", "position_embedding/embeddings",
                         "type_embeddings/embeddings",
                         "transformer/layer_0/self_attention/query/kernel"};
  for (int i = 0; i < 4; ++i)
    if (!seen[i])
      throw ConfigError(c.source + ": no variable '" + what[i] + "'; write a config.json");
  c.num_hidden_layers = layers;
  c.validate();
  return c;
}

/// @brief The TF weights of `dir` under HF's names into `out`: a TF2 SavedModel's
/// variables, or a TF1 checkpoint (find_tf_checkpoint). False when `dir` holds neither.
/// @throws as tf2_saved_model_tensors and tf1_checkpoint_tensors.
inline bool tf_folder_tensors(const std::string& dir, std::vector<OwnedTensor>& out) {
  if (is_tf_saved_model(dir)) {
    out = tf2_saved_model_tensors(dir);
    return true;
  }
  const std::string ckpt = find_tf_checkpoint(dir);
  if (ckpt.empty()) return false;
  out = tf1_checkpoint_tensors(ckpt);
  return true;
}

}  // namespace bertpp
