// SPDX-License-Identifier: Apache-2.0
// Google's original BERT checkpoints (TF1 `bert_model.ckpt`, a tensor bundle): finding
// the checkpoint in a folder and renaming its variables to HF's names, kernels transposed
// from TF's [in, out] to HF's [out, in]. Optimizer slots and the step counter are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bertpp/core/error.hpp"
#include "bertpp/io/safetensors.hpp"
#include "bertpp/io/tf_bundle.hpp"

namespace bertpp {

/// @brief One tensor under its HF name: a view kept alive by `owner`.
struct OwnedTensor {
  TensorInfo info;
  std::shared_ptr<const void> owner;
};

/// @brief The prefix (path without `.index`) of the TF checkpoint in `dir`, or "" when the
/// folder has none: `bert_model.ckpt` when present, else the only `*.ckpt*.index`, else the
/// one named by the `checkpoint` state file.
/// @throws IoError when several checkpoints are present and none is chosen.
inline std::string find_tf_checkpoint(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;  // the non-throwing overloads: an unreadable folder is "no checkpoint"
  if (fs::is_regular_file(dir + "/bert_model.ckpt.index", ec)) return dir + "/bert_model.ckpt";
  std::vector<std::string> found;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string ext = ".index";
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0 &&
        name.find(".ckpt") != std::string::npos)
      found.push_back(name.substr(0, name.size() - ext.size()));
  }
  if (found.empty()) return "";
  if (found.size() == 1) return dir + "/" + found[0];
  std::ifstream state(dir + "/checkpoint");  // text proto: model_checkpoint_path: "model.ckpt-N"
  std::string line;
  while (std::getline(state, line)) {
    const std::string key = "model_checkpoint_path:";
    const auto q1 = line.find('"'), q2 = line.rfind('"');
    if (line.compare(0, key.size(), key) == 0 && q1 != std::string::npos && q2 > q1) {
      const std::string name = fs::path(line.substr(q1 + 1, q2 - q1 - 1)).filename().string();
      for (const auto& f : found)
        if (f == name) return dir + "/" + f;
    }
  }
  std::string list;
  for (const auto& f : found) list += (list.empty() ? "" : ", ") + f;
  throw IoError(dir + ": several TensorFlow checkpoints (" + list +
                ") and no 'checkpoint' file naming one of them");
}

/// @brief Whether TF1 variable `tf_name` is training state, not a weight: optimizer slots
/// (`adam_m`, `adam_v`, `AdamWeightDecayOptimizer*`), `global_step`, the object graph of
/// TF2 checkpoints, and the keys of a partitioned tensor's slices.
inline bool is_tf1_training_state(const std::string& tf_name) {
  auto ends_with = [&](const char* s) {
    const std::size_t n = std::strlen(s);
    return tf_name.size() >= n && tf_name.compare(tf_name.size() - n, n, s) == 0;
  };
  return ends_with("/adam_m") || ends_with("/adam_v") ||
         tf_name.find("AdamWeightDecayOptimizer") != std::string::npos ||
         tf_name == "global_step" || tf_name == "_CHECKPOINTABLE_OBJECT_GRAPH" ||
         (!tf_name.empty() && tf_name[0] == '\0');
}

/// @brief HF's name of TF1 variable `tf_name` (as HF's load_tf_weights_in_bert maps it):
/// '/' -> '.', `layer_N` -> `layer.N`, `kernel`/`gamma`/`output_weights` -> `weight`,
/// `beta`/`output_bias` -> `bias`, embedding tables get `.weight`. `transpose` is set for
/// `kernel` (TF stores dense kernels [in, out]).
inline std::string tf1_to_hf_name(const std::string& tf_name, bool& transpose) {
  transpose = false;
  std::string out;
  std::size_t start = 0;
  while (start <= tf_name.size()) {
    std::size_t slash = tf_name.find('/', start);
    if (slash == std::string::npos) slash = tf_name.size();
    std::string part = tf_name.substr(start, slash - start);
    const bool last = slash == tf_name.size();
    if (part.compare(0, 6, "layer_") == 0 && part.size() > 6 &&
        part.find_first_not_of("0123456789", 6) == std::string::npos)
      part = "layer." + part.substr(6);
    else if (last && part == "kernel") {
      part = "weight";
      transpose = true;
    } else if (last && (part == "gamma" || part == "output_weights"))
      part = "weight";
    else if (last && (part == "beta" || part == "output_bias"))
      part = "bias";
    else if (last && (part == "word_embeddings" || part == "position_embeddings" ||
                      part == "token_type_embeddings"))
      part += ".weight";
    out += (out.empty() ? "" : ".") + part;
    start = slash + 1;
  }
  return out;
}

namespace detail {

/// A 2-D tensor [r, c] of any element size, transposed into an owned buffer [c, r].
inline OwnedTensor transposed(const TensorInfo& t) {
  const std::size_t r = static_cast<std::size_t>(t.shape[0]),
                    c = static_cast<std::size_t>(t.shape[1]);
  const std::size_t es = dtype_size(t.dtype);
  auto buf = std::make_shared<std::vector<unsigned char>>(t.nbytes);
  for (std::size_t i = 0; i < r; ++i)
    for (std::size_t j = 0; j < c; ++j)
      std::memcpy(buf->data() + (j * r + i) * es, t.data + (i * c + j) * es, es);
  OwnedTensor o{t, buf};
  o.info.shape = {t.shape[1], t.shape[0]};
  o.info.data = buf->data();
  return o;
}

}  // namespace detail

/// @brief The weights of the TF1 checkpoint `prefix` under HF's names (`bert.embeddings.*`,
/// `bert.encoder.layer.N.*`, `bert.pooler.*`, `cls.*`), each checksum-checked: views of the
/// mapped shard, kernels transposed into owned buffers. Training state is skipped.
/// @throws IoError / FormatError from TfBundle::open; FormatError naming the TF variable
/// for a non-float dtype, a sliced tensor or a checksum mismatch.
inline std::vector<OwnedTensor> tf1_checkpoint_tensors(const std::string& prefix) {
  const auto bundle = TfBundle::open(prefix);
  std::vector<OwnedTensor> out;
  for (const auto& [tf_name, entry] : bundle->entries()) {
    if (is_tf1_training_state(tf_name)) continue;
    bool transpose = false;
    const std::string hf = tf1_to_hf_name(tf_name, transpose);
    TensorInfo t = bundle->tensor(tf_name);
    t.name = hf;
    t.file = bundle->index_path() + " (TF variable '" + tf_name + "')";
    if (transpose && t.shape.size() == 2)
      out.push_back(detail::transposed(t));
    else
      out.push_back(OwnedTensor{t, bundle});
  }
  return out;
}

}  // namespace bertpp
