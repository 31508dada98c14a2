// SPDX-License-Identifier: Apache-2.0
// bertpp-server: one model folder behind Hugging Face text-embeddings-inference's HTTP API
// (cpp-httplib serves it): POST /embed, /embed_all, /predict, /rerank, /tokenize,
// /v1/embeddings (OpenAI's), GET /health, /info; TEI's request fields, error bodies
// ({"error", "error_type"}) and status codes (413 Validation, 400 Empty, 422 Tokenizer,
// 424 Backend, 429 Overloaded). The model kind is TEI's: a sequence-classification folder
// with one label is a reranker, with more a classifier, anything else an embedding model.
// Embedding requests that arrive together are run as one batch (a queue packs them up to
// --max-batch-tokens, waiting up to --batch-wait-us for more); classifier and reranker
// requests run on the HTTP worker threads. SIGTERM or SIGINT stops it cleanly.
//
//   bertpp-server --model DIR [--host 127.0.0.1] [--port 8080] [--threads N] ...
#include "example_common.hpp"

// httplib's listen backlog is 5 by default: a burst of more simultaneous connections than
// that (a client sending its requests at once, as TEI's clients do and the tests do with
// 24) could overflow the kernel's accept queue while the accept loop was descheduled, and
// the overflowing connections were reset. 128 is Linux's usual SOMAXCONN.
#define CPPHTTPLIB_LISTEN_BACKLOG 128
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace {

const char* kUsage = R"(usage: bertpp-server --model DIR [options]
Serves the model folder DIR over HTTP with text-embeddings-inference's API:
  POST /embed /embed_all /v1/embeddings /tokenize   (embedding models)
  POST /predict                                     (classifiers)
  POST /rerank                                      (rerankers: one-label classifiers)
  GET  /health /info
Options:
  --host H                    address to listen on (default 127.0.0.1)
  --port P                    port (default 8080; 0 picks a free one)
  --threads N                 threads of each model call (default 1)
  --http-threads N            HTTP worker threads (default 32)
  --max-batch-tokens N        tokens per batched model call (default 16384)
  --batch-wait-us N           how long a batch waits for more requests (default 2000)
  --max-client-batch-size N   inputs per request (default 32)
  --max-concurrent-requests N requests in flight before 429 (default 512)
  --max-input-length N        tokens per input (default: the model's maximum)
  --max-payload-bytes N       request body size before 413 (default 2000000)
  --kind K                    embedding, classifier or reranker (default: from config.json's
                              architectures, as TEI: *ForSequenceClassification with one label
                              is a reranker, with more a classifier; else an embedding model)
Prints "bertpp-server: listening on http://HOST:PORT" on stdout once it accepts requests.
)";

using nlohmann::json;

/// @brief An error answered as TEI does: status code, error_type and message.
struct HttpError {
  int status;
  std::string type;
  std::string message;
};

HttpError validation(const std::string& m) { return {413, "Validation", m}; }
HttpError empty(const std::string& m) { return {400, "Empty", m}; }
HttpError backend(const std::string& m) { return {424, "Backend", m}; }

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }

/// @brief Requests that arrive together, run as one model call: `compute` takes the
/// encodings of several requests and returns one matrix per encoding (the last hidden state
/// of an embedding model, the logits row of a classifier).
class Batcher {
 public:
  using Compute = std::function<std::vector<bertpp::Matrix<float>>(
      const std::vector<bertpp::Encoding>&, bertpp::Context&)>;
  Batcher(Compute compute, int threads, std::size_t max_tokens, std::chrono::microseconds wait)
      : compute_(std::move(compute)),
        threads_(threads),
        max_tokens_(max_tokens),
        wait_(wait),
        worker_([this] { loop(); }) {}
  ~Batcher() { stop(); }
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  /// @brief compute's matrix of each encoding, computed with whatever else is queued.
  std::vector<bertpp::Matrix<float>> run(std::vector<bertpp::Encoding> batch) {
    Job job;
    job.batch = std::move(batch);
    for (const auto& e : job.batch) job.tokens += e.size();
    auto done = job.done.get_future();
    {
      std::lock_guard<std::mutex> lock(m_);
      if (stopping_) throw backend("the server is shutting down");
      queue_.push_back(&job);
    }
    cv_.notify_one();
    return done.get();
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

 private:
  struct Job {
    std::vector<bertpp::Encoding> batch;
    std::size_t tokens = 0;
    std::promise<std::vector<bertpp::Matrix<float>>> done;
  };

  void loop() {
    bertpp::Context ctx(threads_);
    for (;;) {
      std::vector<Job*> jobs;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        std::size_t tokens = 0;
        const auto take = [&] {
          while (!queue_.empty() &&
                 (jobs.empty() || tokens + queue_.front()->tokens <= max_tokens_)) {
            tokens += queue_.front()->tokens;
            jobs.push_back(queue_.front());
            queue_.pop_front();
          }
        };
        take();
        const auto deadline = std::chrono::steady_clock::now() + wait_;
        while (tokens < max_tokens_ && !stopping_ && queue_.empty()) {
          if (!cv_.wait_until(lock, deadline, [&] { return stopping_ || !queue_.empty(); })) break;
          const std::size_t before = jobs.size();
          take();
          if (jobs.size() == before) break;  // the next request does not fit this batch
        }
      }
      std::vector<bertpp::Encoding> all;
      for (const Job* j : jobs) all.insert(all.end(), j->batch.begin(), j->batch.end());
      try {
        auto out = compute_(all, ctx);
        std::size_t at = 0;
        for (Job* j : jobs) {
          std::vector<bertpp::Matrix<float>> mine(
              std::make_move_iterator(out.begin() + static_cast<std::ptrdiff_t>(at)),
              std::make_move_iterator(out.begin() +
                                      static_cast<std::ptrdiff_t>(at + j->batch.size())));
          at += j->batch.size();
          j->done.set_value(std::move(mine));
        }
      } catch (...) {
        for (Job* j : jobs) j->done.set_exception(std::current_exception());
      }
    }
  }

  Compute compute_;
  int threads_;
  std::size_t max_tokens_;
  std::chrono::microseconds wait_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Job*> queue_;
  bool stopping_ = false;
  std::thread worker_;  // last: starts once the members above exist
};

struct Limits {
  std::size_t max_client_batch_size = 32;
  std::size_t max_concurrent_requests = 512;
  std::size_t max_input_length = 512;
  std::size_t max_batch_tokens = 16384;
};

/// @brief `j[key]` as a bool, `fallback` when absent or null.
bool get_bool(const json& j, const char* key, bool fallback) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    throw HttpError{422, "Validation", std::string("`") + key + "` must be a boolean"};
  return it->get<bool>();
}

/// @brief TEI's `inputs` (or OpenAI's `input`): a string or a list of strings.
std::vector<std::string> get_texts(const json& j, const char* key, const Limits& limits) {
  const auto it = j.find(key);
  if (it == j.end()) throw HttpError{422, "Validation", std::string("missing field `") + key + "`"};
  std::vector<std::string> texts;
  if (it->is_string()) {
    texts.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const auto& x : *it) {
      if (!x.is_string())
        throw HttpError{422, "Validation",
                        std::string("`") + key + "` must be a string or a list of strings"};
      texts.push_back(x.get<std::string>());
    }
  } else {
    throw HttpError{422, "Validation",
                    std::string("`") + key + "` must be a string or a list of strings"};
  }
  if (texts.empty())
    throw empty("Input validation error: `" + std::string(key) + "` cannot be empty");
  if (texts.size() > limits.max_client_batch_size)
    throw validation("Input validation error: batch size " + std::to_string(texts.size()) +
                     " > maximum allowed batch size " +
                     std::to_string(limits.max_client_batch_size));
  return texts;
}

/// @brief Refuses an empty (or all-whitespace) text of the field `what` (TEI's 413).
void require_text(const std::string& text, const char* what) {
  if (bertpp::is_blank(text))
    throw validation(std::string("Input validation error: ") + what + " holds an empty text");
}

/// @brief The encodings of `texts` (pairs when `second` is given), truncated to the maximum
/// when `truncate`, else refused when longer (TEI's 413).
std::vector<bertpp::Encoding> encode(const bertpp::Tokenizer& tok,
                                     const std::vector<std::string>& texts,
                                     const std::vector<std::string>* second, bool truncate,
                                     const Limits& limits, bool add_special_tokens = true) {
  bertpp::EncodeOptions o;
  o.add_special_tokens = add_special_tokens;
  if (truncate) {
    o.truncation = bertpp::TruncationStrategy::longest_first;
    o.max_length = limits.max_input_length;
  }
  std::vector<bertpp::Encoding> out;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      out.push_back(second ? tok.encode(texts[i], (*second)[i], o) : tok.encode(texts[i], o));
    } catch (const bertpp::Error& e) {
      throw HttpError{422, "Tokenizer", e.what()};
    }
    if (out.back().size() > limits.max_input_length)
      throw validation("Input validation error: `inputs` must have less than " +
                       std::to_string(limits.max_input_length) +
                       " tokens. Given: " + std::to_string(out.back().size()));
  }
  return out;
}

json to_json(const bertpp::Matrix<float>& m, Eigen::Index row) {
  json v = json::array();
  for (Eigen::Index c = 0; c < m.cols(); ++c) v.push_back(m(row, c));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  return example::run("bertpp-server", [&] {
    const auto a = example::parse(
        argc, argv,
        {"--model", "--host", "--port", "--threads", "--http-threads", "--max-batch-tokens",
         "--batch-wait-us", "--max-client-batch-size", "--max-concurrent-requests",
         "--max-input-length", "--max-payload-bytes", "--kind"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {});
    if (!a.positional.empty())
      throw bertpp::InputError("bertpp-server takes no positional arguments (see --help)");
    const std::string dir = a.get("--model", example::default_model());
    const std::string host = a.get("--host", "127.0.0.1");
    const auto port = static_cast<int>(a.get_int("--port", 8080, 0, 65535));
    const int threads = bertpp::clamp_threads(static_cast<int>(a.get_int("--threads", 1, 1, 1024)));
    const auto http_threads = a.get_size("--http-threads", 32, 1, 1024);
    const auto wait_us = a.get_int("--batch-wait-us", 2000, 0, 10000000);
    const auto payload = a.get_size("--max-payload-bytes", 2000000, 1);
    Limits limits;
    limits.max_batch_tokens = a.get_size("--max-batch-tokens", 16384, 1);
    limits.max_client_batch_size = a.get_size("--max-client-batch-size", 32, 1);
    limits.max_concurrent_requests = a.get_size("--max-concurrent-requests", 512, 1);

    const example::Kind kind = example::kind_option(a, "--kind", dir);
    bertpp::PipelineOptions po;
    po.num_threads = threads;
    std::optional<bertpp::Embedder> embedder;
    std::optional<bertpp::TextClassifier> classifier;
    std::optional<bertpp::Reranker> reranker;
    const bertpp::Tokenizer* tok = nullptr;
    std::size_t model_max = 0;
    // Every kind runs its model on the batcher's thread, on the batches it gathers.
    Batcher::Compute compute;
    const auto split_rows = [](const bertpp::Matrix<float>& z) {
      std::vector<bertpp::Matrix<float>> out;
      for (Eigen::Index r = 0; r < z.rows(); ++r) out.emplace_back(z.row(r));
      return out;
    };
    if (kind == example::Kind::embedding) {
      embedder = bertpp::Embedder::load(dir);
      embedder->options().num_threads = threads;
      tok = &embedder->tokenizer();
      model_max = embedder->max_length();
      compute = [&](const std::vector<bertpp::Encoding>& b, bertpp::Context& ctx) {
        return embedder->model().forward(b, ctx).last_hidden_state;
      };
    } else if (kind == example::Kind::classifier) {
      classifier = bertpp::TextClassifier::load(dir, po);
      tok = &classifier->tokenizer();
      model_max = classifier->max_length();
      compute = [&](const std::vector<bertpp::Encoding>& b, bertpp::Context& ctx) {
        return split_rows(classifier->logits(b, ctx));
      };
    } else {
      reranker = bertpp::Reranker::load(dir, po);
      tok = &reranker->tokenizer();
      model_max = reranker->max_length();
      compute = [&](const std::vector<bertpp::Encoding>& b, bertpp::Context& ctx) {
        return split_rows(reranker->model().forward(b, ctx));
      };
    }
    limits.max_input_length = a.get_size("--max-input-length", static_cast<long>(model_max), 1,
                                         static_cast<long>(model_max));
    Batcher batcher(compute, threads, limits.max_batch_tokens, std::chrono::microseconds(wait_us));
    std::atomic<std::size_t> in_flight{0};

    httplib::Server svr;
    svr.new_task_queue = [n = http_threads] { return new httplib::ThreadPool(n); };
    svr.set_payload_max_length(payload);

    // Every POST route: the JSON body parsed, the request counted against the limit, errors
    // answered as TEI does.
    auto route = [&](const char* path, std::function<json(const json&)> handler,
                     bool openai = false) {
      svr.Post(path, [&, handler, openai](const httplib::Request& req, httplib::Response& res) {
        const auto reply_error = [&](const HttpError& e) {
          res.status = e.status;
          const json body = openai
                                ? json{{"message", e.message}, {"code", e.status}, {"type", e.type}}
                                : json{{"error", e.message}, {"error_type", e.type}};
          res.set_content(body.dump(), "application/json");
        };
        if (in_flight.fetch_add(1) >= limits.max_concurrent_requests) {
          in_flight.fetch_sub(1);
          return reply_error({429, "Overloaded", "Model is overloaded"});
        }
        try {
          json body;
          try {
            body = json::parse(req.body);
          } catch (const json::exception& e) {
            throw HttpError{400, "Validation",
                            std::string("Failed to parse the request body as JSON: ") + e.what()};
          }
          if (!body.is_object())
            throw HttpError{422, "Validation", "the request body must be a JSON object"};
          res.set_content(handler(body).dump(), "application/json");
        } catch (const HttpError& e) {
          reply_error(e);
        } catch (const bertpp::TokenizerError& e) {
          reply_error({422, "Tokenizer", e.what()});
        } catch (const bertpp::InputError& e) {
          reply_error(validation(e.what()));
        } catch (const std::exception& e) {
          reply_error(backend(e.what()));
        }
        in_flight.fetch_sub(1);
      });
    };
    const auto not_for = [&](const char* what) {
      return
          [what](const json&) -> json { throw backend(std::string("this model is not ") + what); };
    };

    // Embeddings (pooled as the folder's sentence-transformers modules say).
    const auto pooled = [&](const std::vector<std::string>& texts, bool truncate, bool normalize,
                            std::size_t* tokens) {
      auto batch = encode(*tok, texts, nullptr, truncate, limits);
      if (tokens)
        for (const auto& e : batch) *tokens += e.size();
      const auto hidden = batcher.run(batch);
      return bertpp::pool(hidden, batch, embedder->options().pooling, normalize);
    };
    if (embedder) {
      route("/embed", [&](const json& j) {
        const auto texts = get_texts(j, "inputs", limits);
        const auto m =
            pooled(texts, get_bool(j, "truncate", false), get_bool(j, "normalize", true), nullptr);
        json out = json::array();
        for (Eigen::Index r = 0; r < m.rows(); ++r) out.push_back(to_json(m, r));
        return out;
      });
      route("/embed_all", [&](const json& j) {
        const auto texts = get_texts(j, "inputs", limits);
        const auto batch = encode(*tok, texts, nullptr, get_bool(j, "truncate", false), limits);
        const auto hidden = batcher.run(batch);
        json out = json::array();
        for (const auto& h : hidden) {
          json rows = json::array();
          for (Eigen::Index r = 0; r < h.rows(); ++r) rows.push_back(to_json(h, r));
          out.push_back(rows);
        }
        return out;
      });
      route(
          "/v1/embeddings",
          [&](const json& j) {
            const auto texts = get_texts(j, "input", limits);
            if (j.contains("encoding_format") && j["encoding_format"] != "float")
              throw HttpError{422, "Validation", "`encoding_format` must be \"float\""};
            std::size_t tokens = 0;
            const auto m = pooled(texts, get_bool(j, "truncate", false), true, &tokens);
            json data = json::array();
            for (Eigen::Index r = 0; r < m.rows(); ++r)
              data.push_back({{"object", "embedding"}, {"embedding", to_json(m, r)}, {"index", r}});
            return json{{"object", "list"},
                        {"data", data},
                        {"model", j.value("model", dir)},
                        {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
          },
          true);
    } else {
      for (const char* p : {"/embed", "/embed_all"}) route(p, not_for("an embedding model"));
      route("/v1/embeddings", not_for("an embedding model"), true);
    }
    route("/tokenize", [&](const json& j) {
      const auto texts = get_texts(j, "inputs", limits);
      const bool special = get_bool(j, "add_special_tokens", true);
      bertpp::EncodeOptions o;
      o.add_special_tokens = special;
      json out = json::array();
      for (const auto& t : texts) {
        const auto e = tok->encode(t, o);
        json toks = json::array();
        for (std::size_t i = 0; i < e.size(); ++i) {
          const bool is_special = e.special_tokens_mask[i] != 0;
          json x = {{"id", e.ids[i]}, {"special", is_special}};
          if (is_special) {
            x["text"] = e.tokens[i];
            x["start"] = nullptr;
            x["stop"] = nullptr;
          } else {
            const auto [b0, b1] = e.byte_offsets[i];
            x["text"] = t.substr(b0, b1 - b0);
            x["start"] = b0;
            x["stop"] = b1;
          }
          toks.push_back(x);
        }
        out.push_back(toks);
      }
      return out;
    });

    // Classification: a string, a pair [a, b], or a batch of [a] and [a, b].
    if (classifier) {
      route("/predict", [&](const json& j) {
        const auto it = j.find("inputs");
        if (it == j.end()) throw HttpError{422, "Validation", "missing field `inputs`"};
        const auto fn = get_bool(j, "raw_scores", false) ? bertpp::ScoreFunction::none
                                                         : bertpp::ScoreFunction::automatic;
        std::vector<std::vector<std::string>> seqs;
        bool single = true;
        const auto bad =
            HttpError{422, "Validation",
                      "`inputs` must be a string, a pair of strings [string, string] or a batch of "
                      "mixed strings and pairs [[string], [string, string], ...]"};
        if (it->is_string()) {
          seqs.push_back({it->get<std::string>()});
        } else if (it->is_array() && !it->empty() && (*it)[0].is_string()) {
          if (it->size() > 2) throw bad;
          std::vector<std::string> s;
          for (const auto& x : *it) {
            if (!x.is_string()) throw bad;
            s.push_back(x.get<std::string>());
          }
          seqs.push_back(s);
        } else if (it->is_array()) {
          single = false;
          for (const auto& x : *it) {
            if (!x.is_array() || x.empty() || x.size() > 2) throw bad;
            std::vector<std::string> s;
            for (const auto& y : x) {
              if (!y.is_string()) throw bad;
              s.push_back(y.get<std::string>());
            }
            seqs.push_back(s);
          }
          if (seqs.empty()) throw empty("Input validation error: `inputs` cannot be empty");
        } else {
          throw bad;
        }
        if (seqs.size() > limits.max_client_batch_size)
          throw validation("Input validation error: batch size " + std::to_string(seqs.size()) +
                           " > maximum allowed batch size " +
                           std::to_string(limits.max_client_batch_size));
        const bool truncate = get_bool(j, "truncate", false);
        std::vector<bertpp::Encoding> batch;
        for (const auto& s : seqs) {
          for (const auto& t : s) require_text(t, "`inputs`");
          const std::vector<std::string> second(s.begin() + 1, s.end());
          batch.push_back(std::move(
              encode(*tok, {s[0]}, s.size() == 2 ? &second : nullptr, truncate, limits)[0]));
        }
        const auto z = batcher.run(batch);
        bertpp::Matrix<float> logits(static_cast<Eigen::Index>(z.size()), z[0].cols());
        for (std::size_t r = 0; r < z.size(); ++r) logits.row(static_cast<Eigen::Index>(r)) = z[r];
        json out = json::array();
        for (const auto& r : classifier->scores(logits, 0, fn)) {
          json preds = json::array();
          for (const auto& p : r) preds.push_back({{"score", p.score}, {"label", p.label}});
          out.push_back(preds);
        }
        return single ? out[0] : out;
      });
    } else {
      route("/predict", not_for("a classifier"));
    }

    if (reranker) {
      route("/rerank", [&](const json& j) {
        if (!j.contains("query") || !j["query"].is_string())
          throw HttpError{422, "Validation", "`query` must be a string"};
        const std::string query = j["query"].get<std::string>();
        const auto texts = get_texts(j, "texts", limits);
        require_text(query, "`query`");
        for (const auto& t : texts) require_text(t, "`texts`");
        const std::vector<std::string> queries(texts.size(), query);
        const auto z =
            batcher.run(encode(*tok, queries, &texts, get_bool(j, "truncate", false), limits));
        const bool raw = get_bool(j, "raw_scores", false);
        std::vector<double> scores;
        for (const auto& m : z) scores.push_back(raw ? m(0, 0) : reranker->activate(m(0, 0)));
        std::vector<std::size_t> order(scores.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t x, std::size_t y) { return scores[x] > scores[y]; });
        const bool with_text = get_bool(j, "return_text", false);
        json out = json::array();
        for (const auto i : order) {
          json r = {{"index", i}, {"score", scores[i]}};
          if (with_text) r["text"] = texts[i];
          out.push_back(r);
        }
        return out;
      });
    } else {
      route("/rerank", not_for("a reranker"));
    }

    svr.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
    svr.Get("/info", [&](const httplib::Request&, httplib::Response& res) {
      json type;
      if (embedder) {
        const char* names[] = {"cls", "mean", "max", "mean_sqrt_len"};
        type = {{"embedding", {{"pooling", names[static_cast<int>(embedder->options().pooling)]}}}};
      } else {
        json id2label = json::object();
        const auto& labels = classifier ? classifier->labels() : reranker->model().labels().names;
        for (std::size_t i = 0; i < labels.size(); ++i) id2label[std::to_string(i)] = labels[i];
        type = {{classifier ? "classifier" : "reranker", {{"id2label", id2label}}}};
      }
      const json info = {{"model_id", dir},
                         {"model_sha", nullptr},
                         {"model_dtype", "float32"},
                         {"model_type", type},
                         {"max_concurrent_requests", limits.max_concurrent_requests},
                         {"max_input_length", limits.max_input_length},
                         {"max_batch_tokens", limits.max_batch_tokens},
                         {"max_batch_requests", nullptr},
                         {"max_client_batch_size", limits.max_client_batch_size},
                         {"tokenization_workers", http_threads},
                         {"version", BERTPP_VERSION_STRING},
                         {"sha", nullptr},
                         {"docker_label", nullptr}};
      res.set_content(info.dump(), "application/json");
    });

    int bound = port;
    if (port == 0) {
      bound = svr.bind_to_any_port(host);
      if (bound < 0) throw bertpp::IoError("bertpp-server: cannot listen on " + host);
    } else if (!svr.bind_to_port(host, bound)) {
      throw bertpp::IoError("bertpp-server: cannot listen on " + host + ":" +
                            std::to_string(bound));
    }
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::thread watcher([&] {
      while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      svr.stop();
    });
    std::printf("bertpp-server: listening on http://%s:%d\n", host.c_str(), bound);
    std::fflush(stdout);
    const bool ok = svr.listen_after_bind();
    g_stop.store(true);
    watcher.join();
    batcher.stop();
    std::fprintf(stderr, "bertpp-server: stopped\n");
    return ok || g_stop.load() ? 0 : 1;
  });
}
