// SPDX-License-Identifier: Apache-2.0
// The Python bindings (nanobind): bertpp.Tokenizer, bertpp.Model and the pipelines. Inputs
// are converted to C++ while holding the GIL, the compute runs with the GIL released (other
// Python threads go on, and several threads may call one object at once: every bertpp object
// is immutable after loading), and results become numpy arrays or plain Python objects
// (lists, dicts with HF's field names) once the GIL is held again.
#include <bertpp/bertpp.hpp>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using FloatArray = nb::ndarray<nb::numpy, float>;
using IntArray = nb::ndarray<nb::numpy, std::int32_t>;

/// @brief A numpy array owning `data` (moved in), of shape `shape`.
template <typename T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T> data, std::initializer_list<std::size_t> shape) {
  auto* owned = new std::vector<T>(std::move(data));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(owned->data(), shape, owner);
}

/// @brief A row-major copy of `m` as a [rows x cols] numpy array.
FloatArray matrix_to_numpy(const bertpp::Matrix<float>& m) {
  std::vector<float> v(static_cast<std::size_t>(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      v[static_cast<std::size_t>(r * m.cols() + c)] = m(r, c);
  return to_numpy(std::move(v),
                  {static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())});
}

/// @brief The number of threads a call may use: `n` bounded by the CPUs this process may run
/// on (its affinity mask and cgroup quota); at least 1.
int threads(int n) {
  if (n < 1)
    throw bertpp::InputError("num_threads is " + std::to_string(n) + "; it must be at least 1");
  return bertpp::clamp_threads(n);
}

bertpp::PipelineOptions pipeline_options(int num_threads, std::size_t batch_size,
                                         std::size_t max_length, bool truncate) {
  bertpp::PipelineOptions o;
  o.num_threads = threads(num_threads);
  o.batch_size = batch_size;
  o.max_length = max_length;
  o.truncate = truncate;
  return o;
}

/// @brief f() run with the GIL released (f must not touch Python objects); its C++ result.
template <typename F>
auto without_gil(F&& f) {
  nb::gil_scoped_release release;
  return f();
}

/// @brief A dict of alternating keys and values: dict_of("label", l, "score", s).
inline void dict_set(nb::dict&) {}
template <typename V, typename... Rest>
void dict_set(nb::dict& d, const char* key, V&& value, Rest&&... rest) {
  d[key] = nb::cast(std::forward<V>(value));
  dict_set(d, std::forward<Rest>(rest)...);
}
template <typename... Args>
nb::dict dict_of(Args&&... args) {
  nb::dict d;
  dict_set(d, std::forward<Args>(args)...);
  return d;
}

nb::list label_scores(const std::vector<bertpp::LabelScore>& v) {
  nb::list out;
  for (const auto& s : v) out.append(dict_of("label", s.label, "score", s.score));
  return out;
}

nb::list label_scores(const std::vector<std::vector<bertpp::LabelScore>>& v) {
  nb::list out;
  for (const auto& s : v) out.append(label_scores(s));
  return out;
}

/// @brief A tokenizer and an encoder: HF's AutoTokenizer + AutoModel of one folder.
class Model {
 public:
  Model(std::optional<bertpp::Tokenizer> tokenizer, bertpp::EncoderModel<float> model,
        int num_threads)
      : tok_(std::move(tokenizer)), model_(std::move(model)), threads_(num_threads) {}

  /// @brief The folder's encoder, and its tokenizer when the folder has tokenizer files
  /// (a weights-only folder runs forward() on ids).
  static Model load(const std::string& dir, int num_threads) {
    std::optional<bertpp::Tokenizer> tok;
    for (const char* f :
         {"tokenizer.json", "spiece.model", "sentencepiece.bpe.model", "vocab.txt", "vocab.json"})
      if (std::filesystem::exists(std::filesystem::path(dir) / f)) {
        tok = bertpp::Tokenizer::load(dir);
        break;
      }
    return Model(std::move(tok), bertpp::EncoderModel<float>::load(dir), threads(num_threads));
  }

  /// @brief The model's outputs for `batch`, padded to the longest: last_hidden_state
  /// [batch x len x hidden], attention_mask [batch x len], pooler_output [batch x hidden]
  /// (None without a pooler).
  nb::dict run(const std::vector<bertpp::Encoding>& batch) const {
    if (batch.empty()) throw bertpp::InputError("Model: no inputs");
    bertpp::BertOutput<float> out;
    {
      nb::gil_scoped_release release;
      bertpp::ForwardOptions o;
      o.num_threads = threads_;
      out = model_.forward(batch, o);
    }
    std::size_t len = 0;
    for (const auto& e : batch) len = std::max(len, e.ids.size());
    const auto hidden = static_cast<std::size_t>(model_.config().hidden_size);
    std::vector<float> h(batch.size() * len * hidden, 0.0f);
    std::vector<std::int32_t> mask(batch.size() * len, 0);
    for (std::size_t b = 0; b < batch.size(); ++b) {
      const auto& m = out.last_hidden_state[b];
      for (Eigen::Index r = 0; r < m.rows(); ++r) {
        mask[b * len + static_cast<std::size_t>(r)] =
            batch[b].attention_mask[static_cast<std::size_t>(r)];
        for (Eigen::Index c = 0; c < m.cols(); ++c)
          h[(b * len + static_cast<std::size_t>(r)) * hidden + static_cast<std::size_t>(c)] =
              m(r, c);
      }
    }
    nb::dict d;
    d["last_hidden_state"] = to_numpy(std::move(h), {batch.size(), len, hidden});
    d["attention_mask"] = to_numpy(std::move(mask), {batch.size(), len});
    if (out.pooler_output.size())
      d["pooler_output"] = matrix_to_numpy(out.pooler_output);
    else
      d["pooler_output"] = nb::none();
    return d;
  }

  /// @brief Encodes `texts` (with `pairs` as second texts when given), truncated to the
  /// model's maximum (or `max_length`), and runs the model.
  nb::dict call(const std::vector<std::string>& texts,
                const std::optional<std::vector<std::string>>& pairs,
                std::size_t max_length) const {
    if (!tok_)
      throw bertpp::InputError(
          "Model: this folder has no tokenizer files; call forward() with ids");
    const bertpp::Tokenizer& tok = *tok_;
    if (pairs && pairs->size() != texts.size())
      throw bertpp::InputError("Model: " + std::to_string(texts.size()) + " texts and " +
                               std::to_string(pairs->size()) + " text_pair entries");
    bertpp::EncodeOptions eo;
    eo.truncation = bertpp::TruncationStrategy::longest_first;
    const auto most = static_cast<std::size_t>(model_.config().max_position_embeddings -
                                               model_.config().position_offset);
    eo.max_length =
        max_length ? std::min(max_length, most) : std::min(most, tok.options().model_max_length);
    std::vector<bertpp::Encoding> batch;
    {
      nb::gil_scoped_release release;
      if (pairs) {
        std::vector<std::pair<std::string, std::string>> p;
        for (std::size_t i = 0; i < texts.size(); ++i) p.emplace_back(texts[i], (*pairs)[i]);
        batch = tok.encode_batch(p, eo, threads_);
      } else {
        batch = tok.encode_batch(texts, eo, threads_);
      }
    }
    return run(batch);
  }

  /// @brief HF's model(input_ids=..., attention_mask=..., token_type_ids=...): [batch x len]
  /// integer arrays; the mask defaults to all ones, the token types to zeros.
  nb::dict forward(
      nb::ndarray<const std::int64_t, nb::ndim<2>, nb::c_contig> input_ids,
      std::optional<nb::ndarray<const std::int64_t, nb::ndim<2>, nb::c_contig>> attention_mask,
      std::optional<nb::ndarray<const std::int64_t, nb::ndim<2>, nb::c_contig>> token_type_ids)
      const {
    const std::size_t rows = input_ids.shape(0), cols = input_ids.shape(1);
    auto check = [&](const auto& a, const char* name) {
      if (a && (a->shape(0) != rows || a->shape(1) != cols))
        throw bertpp::InputError(std::string("Model.forward: ") + name + " has shape [" +
                                 std::to_string(a->shape(0)) + ", " + std::to_string(a->shape(1)) +
                                 "], input_ids [" + std::to_string(rows) + ", " +
                                 std::to_string(cols) + "]");
    };
    check(attention_mask, "attention_mask");
    check(token_type_ids, "token_type_ids");
    auto narrow = [](std::int64_t v, const char* name, std::size_t r, std::size_t c) {
      if (v < INT32_MIN || v > INT32_MAX)
        throw bertpp::InputError(std::string("Model.forward: ") + name + "[" + std::to_string(r) +
                                 ", " + std::to_string(c) + "] = " + std::to_string(v) +
                                 " is out of range");
      return static_cast<std::int32_t>(v);
    };
    std::vector<bertpp::Encoding> batch(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      auto& e = batch[r];
      for (std::size_t c = 0; c < cols; ++c) {
        e.ids.push_back(narrow(input_ids(r, c), "input_ids", r, c));
        e.attention_mask.push_back(
            attention_mask ? narrow((*attention_mask)(r, c), "attention_mask", r, c) : 1);
        e.type_ids.push_back(
            token_type_ids ? narrow((*token_type_ids)(r, c), "token_type_ids", r, c) : 0);
      }
    }
    return run(batch);
  }

  const std::optional<bertpp::Tokenizer>& tokenizer() const { return tok_; }
  const bertpp::EncoderModel<float>& model() const { return model_; }
  int num_threads() const { return threads_; }

 private:
  std::optional<bertpp::Tokenizer> tok_;
  bertpp::EncoderModel<float> model_;
  int threads_;
};

nb::list entities(const std::vector<bertpp::Entity>& v, bool grouped) {
  nb::list out;
  for (const auto& e : v) {
    nb::dict d;
    d[grouped ? "entity_group" : "entity"] = e.entity;
    d["score"] = e.score;
    if (!grouped) d["index"] = e.index;
    d["word"] = e.word;
    d["start"] = e.start;
    d["end"] = e.end;
    out.append(d);
  }
  return out;
}

}  // namespace

NB_MODULE(_bertpp, m) {
  m.doc() = "bertpp: BERT-family inference (HF transformers' numbers and tokens) from C++";
  m.attr("__version__") = BERTPP_VERSION_STRING;

  // Errors: bertpp.Error (a RuntimeError) and one subclass per kind, each naming the file,
  // tensor, field or position at fault.
  static nb::exception<bertpp::Error> error(m, "Error", PyExc_RuntimeError);
  static nb::exception<bertpp::IoError> io_error(m, "IoError", error);
  static nb::exception<bertpp::FormatError> format_error(m, "FormatError", error);
  static nb::exception<bertpp::ConfigError> config_error(m, "ConfigError", error);
  static nb::exception<bertpp::WeightError> weight_error(m, "WeightError", error);
  static nb::exception<bertpp::InputError> input_error(m, "InputError", error);
  static nb::exception<bertpp::TokenizerError> tokenizer_error(m, "TokenizerError", error);

  m.def("available_cpus", &bertpp::available_cpus,
        "The CPUs this process may run on (affinity mask and cgroup quota): the most threads a "
        "call uses.");

  nb::class_<bertpp::Encoding>(m, "Encoding", "One tokenized input (HF's BatchEncoding fields).")
      .def_ro("ids", &bertpp::Encoding::ids)
      .def_ro("type_ids", &bertpp::Encoding::type_ids)
      .def_ro("attention_mask", &bertpp::Encoding::attention_mask)
      .def_ro("special_tokens_mask", &bertpp::Encoding::special_tokens_mask)
      .def_ro("tokens", &bertpp::Encoding::tokens)
      .def_ro("offsets", &bertpp::Encoding::offsets, "(start, end) of each token in code points")
      .def_ro("word_ids", &bertpp::Encoding::word_ids)
      .def_ro("sequence_ids", &bertpp::Encoding::sequence_ids)
      .def("__len__", [](const bertpp::Encoding& e) { return e.ids.size(); });

  nb::class_<bertpp::Tokenizer>(m, "Tokenizer",
                                "HF's fast tokenizer of a model folder, token for token.")
      .def_static(
          "load", &bertpp::Tokenizer::load, "dir"_a,
          "Loads tokenizer.json, a SentencePiece .model, RoBERTa's files or vocab.txt from `dir`.")
      .def(
          "encode",
          [](const bertpp::Tokenizer& t, const std::string& text,
             const std::optional<std::string>& pair, bool add_special_tokens,
             std::size_t max_length, bool truncation) {
            bertpp::EncodeOptions o;
            o.add_special_tokens = add_special_tokens;
            o.max_length = max_length;
            if (truncation) o.truncation = bertpp::TruncationStrategy::longest_first;
            nb::gil_scoped_release release;
            return pair ? t.encode(text, *pair, o) : t.encode(text, o);
          },
          "text"_a, "pair"_a = nb::none(), "add_special_tokens"_a = true, "max_length"_a = 0,
          "truncation"_a = false)
      .def(
          "encode_batch",
          [](const bertpp::Tokenizer& t, const std::vector<std::string>& texts,
             bool add_special_tokens, std::size_t max_length, bool truncation, bool padding,
             int num_threads) {
            bertpp::EncodeOptions o;
            o.add_special_tokens = add_special_tokens;
            o.max_length = max_length;
            if (truncation) o.truncation = bertpp::TruncationStrategy::longest_first;
            if (padding) o.padding = bertpp::Padding::longest;
            const int n = threads(num_threads);
            nb::gil_scoped_release release;
            return t.encode_batch(texts, o, n);
          },
          "texts"_a, "add_special_tokens"_a = true, "max_length"_a = 0, "truncation"_a = false,
          "padding"_a = false, "num_threads"_a = 1)
      .def(
          "decode",
          [](const bertpp::Tokenizer& t, const std::vector<std::int32_t>& ids,
             bool skip_special_tokens) { return t.decode(ids, skip_special_tokens); },
          "ids"_a, "skip_special_tokens"_a = true)
      .def("token_to_id", &bertpp::Tokenizer::token_to_id, "token"_a,
           "The id of `token`, or the unknown token's id (-1 without one).")
      .def("id_to_token", &bertpp::Tokenizer::id_to_token, "id"_a)
      .def_prop_ro("vocab_size", &bertpp::Tokenizer::vocab_size);

  nb::class_<Model>(m, "Model",
                    "A tokenizer and a BERT-family encoder of one HF folder (AutoModel).")
      .def_static("load", &Model::load, "dir"_a, "num_threads"_a = 1,
                  "The folder's encoder, with its tokenizer when the folder has tokenizer files.")
      .def("__call__", &Model::call, "texts"_a, "text_pair"_a = nb::none(), "max_length"_a = 0,
           "Tokenizes (truncating to the model's maximum) and runs the encoder: a dict of "
           "last_hidden_state, attention_mask and pooler_output arrays.")
      .def("forward", &Model::forward, "input_ids"_a, "attention_mask"_a = nb::none(),
           "token_type_ids"_a = nb::none(),
           "HF's model(input_ids, attention_mask, token_type_ids) on int64 arrays.")
      .def_prop_ro(
          "tokenizer",
          [](const Model& x) -> const bertpp::Tokenizer* {
            return x.tokenizer() ? &*x.tokenizer() : nullptr;
          },
          nb::rv_policy::reference_internal,
          "The folder's tokenizer (None without tokenizer files).")
      .def_prop_ro("hidden_size", [](const Model& x) { return x.model().config().hidden_size; })
      .def_prop_ro("model_type", [](const Model& x) { return x.model().config().model_type; })
      .def_prop_ro("num_threads", &Model::num_threads);

  nb::class_<bertpp::Embedder>(m, "Embedder",
                               "Sentence embeddings (sentence-transformers' encode()).")
      .def_static(
          "load",
          [](const std::string& dir, int num_threads, std::size_t batch_size,
             std::optional<bool> normalize) {
            auto e = bertpp::Embedder::load(dir);
            e.options().num_threads = threads(num_threads);
            e.options().batch_size = batch_size;
            if (normalize) e.options().normalize = *normalize;
            return e;
          },
          "dir"_a, "num_threads"_a = 1, "batch_size"_a = 32, "normalize"_a = nb::none(),
          "Loads an HF or sentence-transformers folder (pooling and normalisation from its "
          "modules).")
      .def(
          "embed",
          [](const bertpp::Embedder& e, const std::vector<std::string>& texts) {
            const auto out = without_gil([&] { return e.embed(texts); });
            return matrix_to_numpy(out);
          },
          "texts"_a, "[len(texts) x hidden] float32 embeddings.")
      .def(
          "similarity",
          [](const bertpp::Embedder& e, const std::vector<std::string>& a,
             const std::vector<std::string>& b) {
            const auto out = without_gil([&] { return e.similarity(a, b); });
            return matrix_to_numpy(out);
          },
          "a"_a, "b"_a, "[len(a) x len(b)] cosine similarities.");

  nb::class_<bertpp::TextClassifier>(m, "TextClassifier", "HF's text-classification pipeline.")
      .def_static(
          "load",
          [](const std::string& dir, const std::optional<std::string>& head, int num_threads,
             std::size_t batch_size, std::size_t max_length, bool truncate) {
            const auto o = pipeline_options(num_threads, batch_size, max_length, truncate);
            return head ? bertpp::TextClassifier::load(dir, *head, o)
                        : bertpp::TextClassifier::load(dir, o);
          },
          "dir"_a, "head"_a = nb::none(), "num_threads"_a = 1, "batch_size"_a = 32,
          "max_length"_a = 0, "truncate"_a = true,
          "An HF sequence-classification folder, or an encoder folder and a bertpp head folder.")
      .def(
          "classify",
          [](const bertpp::TextClassifier& c, const std::vector<std::string>& texts,
             std::size_t top_k, const std::string& fn) {
            const auto f = bertpp::score_function_from_name(fn);
            const auto r = without_gil([&] { return c.classify(texts, top_k, f); });
            return label_scores(r);
          },
          "texts"_a, "top_k"_a = 0, "function_to_apply"_a = "auto",
          "Per text, [{'label', 'score'}] best first (every label, or the top_k best).")
      .def(
          "classify_pairs",
          [](const bertpp::TextClassifier& c, const std::vector<bertpp::TextPair>& pairs,
             std::size_t top_k, const std::string& fn) {
            const auto f = bertpp::score_function_from_name(fn);
            const auto r = without_gil([&] { return c.classify_pairs(pairs, top_k, f); });
            return label_scores(r);
          },
          "pairs"_a, "top_k"_a = 0, "function_to_apply"_a = "auto",
          "Per (text, text_pair), e.g. (premise, hypothesis): [{'label', 'score'}] best first.")
      .def_prop_ro("labels", &bertpp::TextClassifier::labels);

  nb::class_<bertpp::ZeroShotClassifier>(
      m, "ZeroShotClassifier", "HF's zero-shot-classification pipeline on an NLI checkpoint.")
      .def_static(
          "load",
          [](const std::string& dir, int num_threads, std::size_t batch_size,
             std::size_t max_length) {
            return bertpp::ZeroShotClassifier::load(
                dir, pipeline_options(num_threads, batch_size, max_length, true));
          },
          "dir"_a, "num_threads"_a = 1, "batch_size"_a = 32, "max_length"_a = 0)
      .def(
          "classify",
          [](const bertpp::ZeroShotClassifier& z, const std::vector<std::string>& texts,
             const std::vector<std::string>& candidate_labels, bool multi_label,
             const std::optional<std::string>& hypothesis_template) {
            const std::string tmpl =
                hypothesis_template.value_or(bertpp::ZeroShotClassifier::kDefaultTemplate);
            const auto r =
                without_gil([&] { return z.classify(texts, candidate_labels, multi_label, tmpl); });
            nb::list out;
            for (std::size_t i = 0; i < r.size(); ++i) {
              nb::list labels, scores;
              for (const auto& s : r[i]) {
                labels.append(s.label);
                scores.append(s.score);
              }
              out.append(dict_of("sequence", texts[i], "labels", labels, "scores", scores));
            }
            return out;
          },
          "texts"_a, "candidate_labels"_a, "multi_label"_a = false,
          "hypothesis_template"_a = nb::none(),
          "Per text, HF's {'sequence', 'labels', 'scores'} (labels best first).");

  nb::class_<bertpp::Reranker>(m, "Reranker",
                               "A cross-encoder (sentence-transformers' CrossEncoder).")
      .def_static(
          "load",
          [](const std::string& dir, int num_threads, std::size_t batch_size,
             std::size_t max_length) {
            return bertpp::Reranker::load(
                dir, pipeline_options(num_threads, batch_size, max_length, true));
          },
          "dir"_a, "num_threads"_a = 1, "batch_size"_a = 32, "max_length"_a = 0)
      .def(
          "score",
          [](const bertpp::Reranker& r, const std::vector<bertpp::TextPair>& pairs) {
            const auto s = without_gil([&] { return r.score(pairs); });
            std::vector<float> f(s.begin(), s.end());
            const std::size_t n = f.size();
            return to_numpy(std::move(f), {n});
          },
          "pairs"_a, "CrossEncoder.predict(): one score per (query, passage).")
      .def(
          "rerank",
          [](const bertpp::Reranker& r, const std::string& query,
             const std::vector<std::string>& passages, std::size_t top_k) {
            const auto hits = without_gil([&] { return r.rerank(query, passages, top_k); });
            nb::list out;
            for (const auto& h : hits) out.append(dict_of("corpus_id", h.index, "score", h.score));
            return out;
          },
          "query"_a, "passages"_a, "top_k"_a = 0,
          "CrossEncoder.rank(): [{'corpus_id', 'score'}] best first (all, or the top_k best).");

  nb::class_<bertpp::FillMask>(m, "FillMask", "HF's fill-mask pipeline.")
      .def_static(
          "load",
          [](const std::string& dir, int num_threads) {
            return bertpp::FillMask::load(dir, pipeline_options(num_threads, 32, 0, true));
          },
          "dir"_a, "num_threads"_a = 1)
      .def(
          "__call__",
          [](const bertpp::FillMask& f, const std::string& text, std::size_t top_k) {
            const auto r = without_gil([&] { return f.fill_masks(text, top_k); });
            auto one = [](const std::vector<bertpp::MaskPrediction>& v) {
              nb::list l;
              for (const auto& p : v)
                l.append(dict_of("score", p.score, "token", p.token, "token_str", p.token_str,
                                 "sequence", p.sequence));
              return l;
            };
            if (r.size() == 1) return nb::object(one(r[0]));
            nb::list all;
            for (const auto& v : r) all.append(one(v));
            return nb::object(all);
          },
          "text"_a, "top_k"_a = 5,
          "HF's list of {'score', 'token', 'token_str', 'sequence'}; a list of such lists for "
          "several masks.");

  nb::class_<bertpp::TokenClassifier>(m, "TokenClassifier",
                                      "HF's token-classification (NER) pipeline.")
      .def_static(
          "load",
          [](const std::string& dir, int num_threads, std::size_t batch_size) {
            return bertpp::TokenClassifier::load(
                dir, pipeline_options(num_threads, batch_size, 0, true));
          },
          "dir"_a, "num_threads"_a = 1, "batch_size"_a = 32)
      .def(
          "__call__",
          [](const bertpp::TokenClassifier& t, const std::vector<std::string>& texts,
             const std::string& aggregation_strategy,
             const std::vector<std::string>& ignore_labels) {
            const auto a = bertpp::aggregation_from_name(aggregation_strategy);
            const std::set<std::string> ignore(ignore_labels.begin(), ignore_labels.end());
            const auto r = without_gil([&] { return t.ner(texts, a, ignore); });
            nb::list out;
            for (const auto& v : r) out.append(entities(v, a != bertpp::Aggregation::none));
            return out;
          },
          "texts"_a, "aggregation_strategy"_a = "none",
          "ignore_labels"_a = std::vector<std::string>{"O"},
          "Per text, HF's entities ({'entity' or 'entity_group', 'score', 'word', 'start', "
          "'end'}).");

  nb::class_<bertpp::QuestionAnswerer>(m, "QuestionAnswerer", "HF's question-answering pipeline.")
      .def_static(
          "load",
          [](const std::string& dir, int num_threads, std::size_t batch_size) {
            return bertpp::QuestionAnswerer::load(
                dir, pipeline_options(num_threads, batch_size, 0, true));
          },
          "dir"_a, "num_threads"_a = 1, "batch_size"_a = 32)
      .def(
          "__call__",
          [](const bertpp::QuestionAnswerer& q, const std::string& question,
             const std::string& context, std::size_t top_k, std::size_t max_answer_len,
             std::size_t max_seq_len, std::size_t doc_stride, bool handle_impossible_answer) {
            bertpp::AnswerOptions o;
            o.top_k = top_k;
            o.max_answer_len = max_answer_len;
            o.max_seq_len = max_seq_len;
            o.doc_stride = doc_stride;
            o.handle_impossible_answer = handle_impossible_answer;
            const auto r = without_gil([&] { return q.answer(question, context, o); });
            nb::list out;
            for (const auto& a : r)
              out.append(
                  dict_of("score", a.score, "start", a.start, "end", a.end, "answer", a.answer));
            return out;
          },
          "question"_a, "context"_a, "top_k"_a = 1, "max_answer_len"_a = 15, "max_seq_len"_a = 0,
          "doc_stride"_a = 0, "handle_impossible_answer"_a = false,
          "HF's answers [{'score', 'start', 'end', 'answer'}], best first.");
}
