// SPDX-License-Identifier: Apache-2.0
// EncoderModel<T> (BertModel<T>): embeddings, encoder and pooler of any BERT family
// (EncoderConfig::family), composed; the BertBase / BertLarge presets.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bertpp/core/compiled.hpp"
#include "bertpp/core/config.hpp"
#include "bertpp/core/context.hpp"
#include "bertpp/core/encoding.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/exec/linear.hpp"
#include "bertpp/io/synthetic.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/io/weight_store.hpp"
#include "bertpp/layers/embeddings.hpp"
#include "bertpp/layers/encoder.hpp"
#include "bertpp/layers/pooler.hpp"
#include "bertpp/models/detail/pack.hpp"

namespace bertpp {

/// @brief How a model is loaded.
struct LoadOptions {
  /// Stored tensors the model does not use are an error (WeightError) instead of being
  /// listed in unused_tensors().
  bool strict = false;
  /// Kernel family and weight precision of the layers (prepared once, here).
  ExecOptions exec;
};

/// @brief How one forward call runs.
struct ForwardOptions {
  /// Threads for a call without an explicit Context (the calling thread's own context with
  /// this many threads is used, clamped to available_cpus()); a Context passed to the call
  /// brings its own threads and this field is not read.
  int num_threads = 1;
  bool output_hidden_states = false;  ///< also return every layer's hidden states
};

/// @brief What EncoderModel::forward returns, per sequence of the batch.
template <typename T>
struct BertOutput {
  /// One [len_i x hidden] matrix per sequence, len_i its length as given (padded positions
  /// are rows of zeros).
  std::vector<Matrix<T>> last_hidden_state;
  /// [batch x hidden]; empty when the checkpoint has no pooler.
  Matrix<T> pooler_output;
  /// When asked: [num_layers + 1][batch], embeddings first, laid out as last_hidden_state.
  std::vector<std::vector<Matrix<T>>> hidden_states;
};

/// @brief A BERT-family encoder (HF's BertModel, RobertaModel, XLMRobertaModel,
/// DistilBertModel, AlbertModel, ElectraModel, ErnieModel: the family comes from
/// config.json's `model_type`). Immutable after loading; `forward` is const and safe to call
/// from several threads at once.
template <typename T>
class EncoderModel {
 public:
  /// @brief The table of every tensor an encoder with config `c` expects (names without the
  /// task models' prefix; the pooler is optional).
  static std::vector<TensorSpec> tensor_table(const EncoderConfig& c) {
    std::vector<TensorSpec> table;
    Embeddings<T>::table(c, table);
    Encoder<T>::table(c, table);
    Pooler<T>::table(c, table);
    return table;
  }

  /// @brief The prefix under which `store` holds the encoder: the family's ("bert.",
  /// "roberta.", ...) for HF task models (BertForMaskedLM, ...), "" for a bare model.
  static std::string detect_prefix(const WeightStore& store, const EncoderConfig& c = {}) {
    for (const std::string& p : {std::string(), c.base_prefix()})
      for (const auto& name : stored_name_candidates(p + "embeddings.LayerNorm.weight"))
        if (store.find(name)) return p;
    return "";
  }

  /// @brief Loads `dir`/config.json and the safetensors weights of an HF checkpoint folder.
  /// @throws IoError, FormatError, ConfigError or WeightError naming the file, field or tensor.
  static EncoderModel load(const std::string& dir, const LoadOptions& options = {}) {
    return EncoderModel(EncoderConfig::from_dir(dir), WeightStore::from_dir(dir), options);
  }

  /// @brief Builds the model from `config` and the tensors of `store`. `head_tensors` are
  /// stored names a task head built on this model consumes: they are not reported unused
  /// (nor refused in strict mode).
  /// @throws ConfigError for an invalid config; WeightError for a missing tensor, a wrong
  /// shape or dtype, or (strict) an unused tensor.
  EncoderModel(const EncoderConfig& config, const WeightStore& store,
               const LoadOptions& options = {}, const std::set<std::string>& head_tensors = {});

  /// @brief Runs the encoder on a batch of sequences of any lengths, on the calling
  /// thread's own context with `options.num_threads` threads (see thread_context()).
  ///
  /// Each Encoding gives ids, and optionally type_ids and attention_mask of the same length.
  /// Masked positions are dropped before the model and come back as zero rows; positions
  /// count from the first unmasked token.
  /// @throws InputError naming the sequence and position of an out-of-range id or type id,
  /// a length mismatch, an empty sequence or one longer than max_position_embeddings.
  BertOutput<T> forward(const std::vector<Encoding>& batch, const ForwardOptions& options = {},
                        const Callback<T>& callback = {}) const {
    BertOutput<T> out;
    forward(batch, thread_context(options.num_threads), out, options, callback);
    return out;
  }

  /// @brief As above, on the threads and scratch memory of `ctx`.
  BertOutput<T> forward(const std::vector<Encoding>& batch, Context& ctx,
                        const ForwardOptions& options = {},
                        const Callback<T>& callback = {}) const {
    BertOutput<T> out;
    forward(batch, ctx, out, options, callback);
    return out;
  }

  /// @brief As above, into `out`: once `ctx` and `out` have seen a batch of these sizes, the
  /// call allocates nothing and starts no thread.
  void forward(const std::vector<Encoding>& batch, Context& ctx, BertOutput<T>& out,
               const ForwardOptions& options = {}, const Callback<T>& callback = {}) const;

  /// @brief The model's configuration.
  const EncoderConfig& config() const noexcept { return config_; }
  /// @brief Stored tensors this model did not use (heads, unknown names), sorted.
  const std::vector<std::string>& unused_tensors() const noexcept { return unused_; }
  /// @brief The prefix the encoder's tensors had in the store ("" or the family's).
  const std::string& prefix() const noexcept { return prefix_; }
  /// @brief Whether the checkpoint had pooler weights.
  bool has_pooler() const noexcept { return pooler_.present(); }
  /// @brief The embeddings layer (its word embeddings are tied to the MLM decoder).
  const Embeddings<T>& embeddings() const noexcept { return embeddings_; }
  /// @brief The encoder layers (to run or trace one layer on its own).
  const Encoder<T>& encoder() const noexcept { return encoder_; }
  /// @brief How the layers were prepared (kernel family, precision); heads built on this
  /// model prepare theirs the same way.
  const ExecOptions& exec_options() const noexcept { return exec_; }

 private:
  EncoderConfig config_;
  ExecOptions exec_;
  std::string prefix_;
  Embeddings<T> embeddings_;
  Encoder<T> encoder_;
  Pooler<T> pooler_;
  std::vector<std::string> unused_;
};

// The two members that do the work are defined out of the class, so that a program in
// compiled mode (which declares `extern template class EncoderModel<float>` below) does not
// instantiate them: src/pipelines.cpp does, once.
template <typename T>
EncoderModel<T>::EncoderModel(const EncoderConfig& config, const WeightStore& store,
                              const LoadOptions& options, const std::set<std::string>& head_tensors)
    : config_(config) {
  config_.validate();
  prefix_ = detect_prefix(store, config_);
  exec_ = options.exec;
  WeightSet<T> w(store, tensor_table(config_), prefix_);
  embeddings_ = Embeddings<T>(w, config_, exec_);
  encoder_ = Encoder<T>(w, config_, exec_);
  pooler_ = Pooler<T>(w, config_, exec_);
  // HF buffers saved by some versions; not weights.
  std::set<std::string> buffers = {prefix_ + "embeddings.position_ids",
                                   prefix_ + "embeddings.token_type_ids"};
  buffers.insert(head_tensors.begin(), head_tensors.end());
  unused_ = bertpp::unused_tensors(store, w.consumed(), buffers);
  if (options.strict && !unused_.empty()) {
    std::string list;
    for (const auto& n : unused_) list += (list.empty() ? "" : ", ") + n;
    throw WeightError("strict loading: " + std::to_string(unused_.size()) +
                      " tensors are not used by the encoder: " + list);
  }
}

template <typename T>
void EncoderModel<T>::forward(const std::vector<Encoding>& batch, Context& ctx, BertOutput<T>& out,
                              const ForwardOptions& options, const Callback<T>& callback) const {
  auto& ws = ctx.scratch<Workspace<T>>();
  detail::pack(batch, config_, ws.packed);
  const PackedBatch& packed = ws.packed;
  const std::size_t states = options.output_hidden_states ? encoder_.size() + 1 : 0;
  out.hidden_states.resize(states);
  embeddings_.forward(packed, ws.hidden, ws.tmp, ctx);
  if (callback) callback("embeddings", ws.hidden);
  if (states) detail::unpack(ws.hidden, packed, batch, out.hidden_states[0]);
  // Layer groups (docs/design-notes.md): each layer runs over groups of whole sequences,
  // on the same scratch buffers; on several threads, each thread runs the groups of its own
  // lane, and a batch that does not split evenly into lanes runs as one group, each
  // operation on all threads (small groups there cost more in synchronisation than their
  // cache gains). The callback and the hidden states see the whole batch after every
  // layer: one group.
  const std::int64_t group_tokens = exec_.group_tokens == 0 ? 128 : exec_.group_tokens;
  GroupPlan& plan = ws.plan;
  plan.first.clear();
  plan.lane_first.clear();
  if (group_tokens > 0 && !states && !callback) {
    const auto threads = static_cast<std::size_t>(ctx.num_threads());
    plan_groups(packed, static_cast<std::size_t>(group_tokens), threads, plan);
    if (threads > 1 && plan.lanes() != threads) plan.first.clear();
  }
  const std::size_t groups = plan.groups();
  if (groups > 1) {
    if (ws.group_batch.size() < groups) {
      ws.group_batch.resize(groups);
      ws.group_hidden.resize(groups);
    }
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t s0 = plan.first[g], s1 = plan.first[g + 1];
      const std::size_t r0 = packed.start[s0];
      PackedBatch& gb = ws.group_batch[g];
      gb.start.resize(s1 - s0);
      gb.length.resize(s1 - s0);
      for (std::size_t s = s0; s < s1; ++s) {
        gb.start[s - s0] = packed.start[s] - r0;
        gb.length[s - s0] = packed.length[s];
      }
      const std::size_t rows = packed.start[s1 - 1] + packed.length[s1 - 1] - r0;
      ws.group_hidden[g] =
          ws.hidden.middleRows(static_cast<Eigen::Index>(r0), static_cast<Eigen::Index>(rows));
    }
    const std::size_t lanes = plan.lanes();
    if (lanes == 1) {
      for (std::size_t i = 0; i < encoder_.size(); ++i)
        for (std::size_t g = 0; g < groups; ++g)
          encoder_.layer(i).forward(ws.group_hidden[g], ws.group_batch[g], ws, ctx,
                                    static_cast<int>(i), callback);
    } else {
      auto& lane = ctx.scratch<Lanes<T>>();
      lane.ensure(lanes);
      for (std::size_t l = 0; l < lanes; ++l) {
        lane.ctx[l]->set_profiling(ctx.profiling());
        lane.ctx[l]->clear_profile();
      }
      ctx.parallel_for(lanes, [&](std::size_t l0, std::size_t l1) {
        for (std::size_t l = l0; l < l1; ++l)
          for (std::size_t i = 0; i < encoder_.size(); ++i)
            for (std::size_t g = plan.lane_first[l]; g < plan.lane_first[l + 1]; ++g)
              encoder_.layer(i).forward(ws.group_hidden[g], ws.group_batch[g], lane.ws[l],
                                        *lane.ctx[l], static_cast<int>(i), callback);
      });
      // The profile in wall time: each operation's time, averaged over the lanes.
      if (ctx.profiling())
        for (std::size_t l = 0; l < lanes; ++l)
          for (const auto& t : lane.ctx[l]->profile())
            ctx.add_time(t.op, t.seconds / static_cast<double>(lanes));
    }
    for (std::size_t g = 0; g < groups; ++g)
      ws.hidden.middleRows(static_cast<Eigen::Index>(packed.start[plan.first[g]]),
                           ws.group_hidden[g].rows()) = ws.group_hidden[g];
  } else {
    for (std::size_t i = 0; i < encoder_.size(); ++i) {
      encoder_.layer(i).forward(ws.hidden, packed, ws, ctx, static_cast<int>(i), callback);
      if (states) detail::unpack(ws.hidden, packed, batch, out.hidden_states[i + 1]);
    }
  }
  detail::unpack(ws.hidden, packed, batch, out.last_hidden_state);
  if (pooler_.present()) {
    pooler_.forward(ws.hidden, packed, ws.first, out.pooler_output, ctx);
    if (callback) callback("pooler", out.pooler_output);
  } else {
    out.pooler_output.resize(0, 0);
  }
}

#if BERTPP_EXTERN_TEMPLATES
extern template class EncoderModel<float>;
#endif

/// @brief The name of the BERT-only versions: the same class, for every family.
template <typename T>
using BertModel = EncoderModel<T>;

/// @brief BERT-base (12 layers, hidden 768, 12 heads): a BertModel whose config must equal
/// BertConfig::base() in every size.
template <typename T = float>
class BertBase : public BertModel<T> {
 public:
  /// @throws ConfigError when `config` is not BERT-base sized.
  BertBase(const BertConfig& config, const WeightStore& store, const LoadOptions& options = {})
      : BertModel<T>(detail::check_preset(config, BertConfig::base(), "BertBase"), store, options) {
  }
  /// @brief The preset config with the tensors of `store`.
  explicit BertBase(const WeightStore& store, const LoadOptions& options = {})
      : BertBase(BertConfig::base(), store, options) {}
  /// @brief Loads a BERT-base checkpoint folder.
  static BertBase load(const std::string& dir, const LoadOptions& options = {}) {
    return BertBase(BertConfig::from_dir(dir), WeightStore::from_dir(dir), options);
  }
};

/// @brief BERT-large (24 layers, hidden 1024, 16 heads), as BertBase.
template <typename T = float>
class BertLarge : public BertModel<T> {
 public:
  /// @throws ConfigError when `config` is not BERT-large sized.
  BertLarge(const BertConfig& config, const WeightStore& store, const LoadOptions& options = {})
      : BertModel<T>(detail::check_preset(config, BertConfig::large(), "BertLarge"), store,
                     options) {}
  /// @brief The preset config with the tensors of `store`.
  explicit BertLarge(const WeightStore& store, const LoadOptions& options = {})
      : BertLarge(BertConfig::large(), store, options) {}
  /// @brief Loads a BERT-large checkpoint folder.
  static BertLarge load(const std::string& dir, const LoadOptions& options = {}) {
    return BertLarge(BertConfig::from_dir(dir), WeightStore::from_dir(dir), options);
  }
};

}  // namespace bertpp

namespace bertpp {

/// @brief A WeightStore holding every tensor of a BertModel with config `c` (pooler
/// included), from the deterministic generator of io/synthetic.hpp.
inline WeightStore synthetic_bert_weights(const BertConfig& c) {
  return synthetic_weights(EncoderModel<float>::tensor_table(c));
}

}  // namespace bertpp
