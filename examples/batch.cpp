// SPDX-License-Identifier: Apache-2.0
// bertpp-batch: JSON Lines in, JSON Lines out, for data engines that pipe records through a
// program (Spark's RDD.pipe, Hadoop streaming, shell pipelines). One output line per input
// line, in order, written as each batch is done; progress and errors on stderr.
#include "example_common.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>

namespace {

using Json = nlohmann::ordered_json;  // keeps the input's field order

const char* kUsage =
    R"(usage: bertpp-batch [--model DIR] [--kind K] [--head DIR] [--input FILE] [--output FILE]
                    [--text-field F] [--pair-field F] [--batch-size N] [--threads N]
                    [--max-length N] [--no-truncate] [--normalize | --no-normalize]
                    [--top-k K] [--function F] [--raw-scores] [--on-error stop|record]
                    [--progress-every N]
Runs a model over JSON Lines: each line of FILE (default stdin) is a JSON object whose
field F (--text-field, default "text") holds the text, and, for a pair, whose field
--pair-field (default "text_pair") holds the second text; a line may also be a bare JSON
string. Each output line (to --output, default stdout) is the input object with the result
added (a bare string gives the result alone), in input order:
  embedding   "embedding": [...]  (pooling and normalisation from the folder's
              sentence-transformers files; --normalize / --no-normalize override)
  classifier  "label" and "score" of the best label; with --top-k K, "labels": the K best
              [{"label", "score"}] (--top-k 0: all), scores by --function (auto, softmax,
              sigmoid, none; default auto, HF's rule); a line with a pair field is
              classified as a pair
  reranker    "score": the cross-encoder's score of (text, text_pair); the pair field is
              required; --raw-scores gives the logit
--kind is embedding, classifier or reranker (default: from config.json's architectures, as
text-embeddings-inference decides; a --head DIR, a bertpp head over the --model encoder,
makes a classifier). Lines are read and run --batch-size at a time (default 64) with
--threads threads (default: the CPUs this process may use). Inputs longer than the model's
maximum (or --max-length) are truncated, or refused with --no-truncate.
A bad line (not JSON, no text, a text over the limit with --no-truncate) stops the run with
a message naming FILE:LINE, after writing every line before it (--on-error stop, the
default); with --on-error record its output line is {"error": MESSAGE, "line": LINE} added
to the input object and the run goes on (the exit status is then 0). Progress goes to
stderr every N lines (--progress-every, default 10000; 0: only the summary at the end).
)";

/// One input line: its number, the parsed object (null for a bare string) and its texts.
struct Line {
  std::size_t no = 0;
  Json object;
  std::string text, pair;
  bool has_pair = false;
  std::string error;  ///< set when the line could not be read or run
};

/// Reads one JSONL line into `line` (its error set when it is not a usable record).
void read_line(const std::string& raw, const std::string& text_field, const std::string& pair_field,
               Line& line) {
  if (raw.find_first_not_of(" \t") == std::string::npos) {
    line.error = "an empty line (one JSON value per line)";
    return;
  }
  Json j;
  try {
    j = Json::parse(raw);
  } catch (const Json::parse_error& e) {
    line.error = std::string("not JSON: ") + e.what();
    return;
  }
  if (j.is_string()) {
    line.text = j.get<std::string>();
    return;
  }
  if (!j.is_object()) {
    line.error = std::string("a JSON ") + j.type_name() + ", want an object or a string";
    return;
  }
  line.object = j;  // kept with the error too, for --on-error record
  const auto t = j.find(text_field);
  if (t == j.end() || !t->is_string()) {
    line.error = "field '" + text_field + "' " + (t == j.end() ? "is missing" : "is not a string");
    return;
  }
  line.text = t->get<std::string>();
  const auto p = j.find(pair_field);
  if (p != j.end() && !p->is_null()) {
    if (!p->is_string()) {
      line.error = "field '" + pair_field + "' is not a string";
      return;
    }
    line.pair = p->get<std::string>();
    line.has_pair = true;
  }
}

/// `x` as the double whose shortest decimal form is the float's shortest (to_chars): the
/// output carries 9 digits, not the 17 of the widened float, and reads back as `x`.
double shortest(float x) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  *r.ptr = '\0';
  return std::strtod(buf, nullptr);
}

/// The loaded model of one kind and how its results become JSON fields.
class Task {
 public:
  Task(const example::Args& a, const std::string& dir, int threads) {
    batch_size_ = a.get_size("--batch-size", 64, 1, 1 << 20);
    bertpp::PipelineOptions po;
    po.num_threads = threads;
    po.batch_size = batch_size_;
    po.max_length = a.get_size("--max-length", 0, 0);
    po.truncate = !a.flag("--no-truncate");
    top_k_ = a.values.count("--top-k") ? std::optional<std::size_t>(a.get_size("--top-k", 0, 0))
                                       : std::nullopt;
    fn_ = bertpp::score_function_from_name(a.get("--function", "auto"), "--function");
    raw_ = a.flag("--raw-scores");
    kind_ = a.values.count("--head") ? example::Kind::classifier
                                     : example::kind_option(a, "--kind", dir);
    if (kind_ == example::Kind::embedding) {
      embedder_ = bertpp::Embedder::load(dir);
      auto& o = embedder_->options();
      const bool normalize = o.normalize;
      static_cast<bertpp::PipelineOptions&>(o) = po;
      o.normalize = a.flag("--normalize") || (normalize && !a.flag("--no-normalize"));
    } else if (kind_ == example::Kind::classifier) {
      classifier_ = a.values.count("--head")
                        ? bertpp::TextClassifier::load(dir, a.get("--head", ""), po)
                        : bertpp::TextClassifier::load(dir, po);
    } else {
      reranker_ = bertpp::Reranker::load(dir, po);
    }
    if (a.flag("--normalize") && a.flag("--no-normalize"))
      throw bertpp::InputError("--normalize and --no-normalize exclude each other");
    if ((a.flag("--normalize") || a.flag("--no-normalize")) && kind_ != example::Kind::embedding)
      throw bertpp::InputError("--normalize and --no-normalize apply to embedding models only");
    if ((top_k_ || a.values.count("--function")) && kind_ != example::Kind::classifier)
      throw bertpp::InputError("--top-k and --function apply to classifiers only");
    if (raw_ && kind_ != example::Kind::reranker)
      throw bertpp::InputError("--raw-scores applies to rerankers only");
  }

  std::size_t batch_size() const { return batch_size_; }

  /// The result fields of each line of `lines` (none of them with an error).
  /// @throws bertpp::Error when the model refuses one of them.
  std::vector<Json> run(const std::vector<const Line*>& lines) const {
    std::vector<Json> out(lines.size());
    if (kind_ == example::Kind::embedding) {
      std::vector<std::string> texts;
      for (const auto* l : lines) texts.push_back(l->text);
      const bertpp::Matrix<float> e = embedder_->embed(texts);
      for (std::size_t i = 0; i < lines.size(); ++i) {
        Json v = Json::array();
        for (Eigen::Index c = 0; c < e.cols(); ++c)
          v.push_back(shortest(e(static_cast<Eigen::Index>(i), c)));
        out[i] = {{"embedding", std::move(v)}};
      }
    } else if (kind_ == example::Kind::reranker) {
      std::vector<bertpp::TextPair> pairs;
      for (const auto* l : lines) {
        if (!l->has_pair)
          throw bertpp::InputError("a reranker scores pairs: the pair field is missing");
        pairs.emplace_back(l->text, l->pair);
      }
      const auto s = raw_ ? reranker_->logits(pairs) : reranker_->score(pairs);
      for (std::size_t i = 0; i < lines.size(); ++i) out[i] = {{"score", s[i]}};
    } else {
      // Single texts and pairs are run apart, then put back in line order.
      std::vector<std::size_t> single_at, pair_at;
      std::vector<std::string> singles;
      std::vector<bertpp::TextPair> pairs;
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i]->has_pair) {
          pair_at.push_back(i);
          pairs.emplace_back(lines[i]->text, lines[i]->pair);
        } else {
          single_at.push_back(i);
          singles.push_back(lines[i]->text);
        }
      }
      const std::size_t k = top_k_.value_or(1);
      const auto put = [&](const std::vector<std::vector<bertpp::LabelScore>>& res,
                           const std::vector<std::size_t>& at) {
        for (std::size_t r = 0; r < res.size(); ++r) {
          if (!top_k_) {
            out[at[r]] = {{"label", res[r].front().label}, {"score", res[r].front().score}};
            continue;
          }
          Json labels = Json::array();
          for (const auto& ls : res[r])
            labels.push_back({{"label", ls.label}, {"score", ls.score}});
          out[at[r]] = {{"labels", std::move(labels)}};
        }
      };
      if (!singles.empty()) put(classifier_->classify(singles, k, fn_), single_at);
      if (!pairs.empty()) put(classifier_->classify_pairs(pairs, k, fn_), pair_at);
    }
    return out;
  }

 private:
  example::Kind kind_{};
  std::size_t batch_size_ = 64;
  std::optional<std::size_t> top_k_;
  bertpp::ScoreFunction fn_ = bertpp::ScoreFunction::automatic;
  bool raw_ = false;
  std::optional<bertpp::Embedder> embedder_;
  std::optional<bertpp::TextClassifier> classifier_;
  std::optional<bertpp::Reranker> reranker_;
};

}  // namespace

int main(int argc, char** argv) {
  return example::run("bertpp-batch", [&] {
    const auto a =
        example::parse(argc, argv,
                       {"--model", "--kind", "--head", "--input", "--output", "--text-field",
                        "--pair-field", "--batch-size", "--threads", "--max-length", "--top-k",
                        "--function", "--on-error", "--progress-every"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--no-truncate", "--normalize", "--no-normalize", "--raw-scores"});
    if (!a.positional.empty())
      throw bertpp::InputError("bertpp-batch takes no positional arguments (see --help)");
    const std::string on_error = a.get("--on-error", "stop");
    if (on_error != "stop" && on_error != "record")
      throw bertpp::InputError("--on-error must be stop or record, got '" + on_error + "'");
    const bool record = on_error == "record";
    const auto every = a.get_size("--progress-every", 10000, 0);
    const std::string text_field = a.get("--text-field", "text");
    const std::string pair_field = a.get("--pair-field", "text_pair");
    const int threads = bertpp::clamp_threads(
        static_cast<int>(a.get_int("--threads", bertpp::available_cpus(), 1, 1024)));

    // Files are opened before the model loads, so that a wrong path fails at once.
    const std::string in_name = a.get("--input", "stdin");
    std::ifstream in_file;
    if (a.values.count("--input")) {
      std::error_code ec;
      if (std::filesystem::is_directory(in_name, ec))
        throw bertpp::IoError(in_name + ": is a folder, not a file");
      in_file.open(in_name, std::ios::binary);
      if (!in_file) throw bertpp::IoError(in_name + ": cannot open");
    }
    std::istream& in = a.values.count("--input") ? static_cast<std::istream&>(in_file) : std::cin;
    std::ofstream out_file;
    if (a.values.count("--output")) {
      out_file.open(a.get("--output", ""), std::ios::binary | std::ios::trunc);
      if (!out_file) throw bertpp::IoError(a.get("--output", "") + ": cannot open for writing");
    }
    std::ostream& out =
        a.values.count("--output") ? static_cast<std::ostream&>(out_file) : std::cout;

    const Task task(a, a.get("--model", example::default_model()), threads);
    const auto t0 = std::chrono::steady_clock::now();
    const auto seconds = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    std::size_t done = 0, errors = 0, next_report = every;
    std::string raw;
    std::size_t no = 0;
    bool eof = false;
    while (!eof) {
      std::vector<Line> lines;
      while (lines.size() < task.batch_size() && std::getline(in, raw)) {
        if (!raw.empty() && raw.back() == '\r') raw.pop_back();
        lines.emplace_back();
        lines.back().no = ++no;
        read_line(raw, text_field, pair_field, lines.back());
      }
      if (in.bad())
        throw bertpp::IoError(in_name + ": read error after line " + std::to_string(no));
      eof = lines.size() < task.batch_size();
      std::vector<std::size_t> good;  // the lines read without error
      std::vector<const Line*> batch;
      for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i].error.empty()) {
          good.push_back(i);
          batch.push_back(&lines[i]);
        }
      std::vector<Json> results(lines.size());
      try {
        const auto got = task.run(batch);
        for (std::size_t g = 0; g < good.size(); ++g) results[good[g]] = got[g];
      } catch (const bertpp::InputError&) {
        // One line spoils the batch: run them one by one to find it (and keep the others).
        for (const std::size_t i : good) {
          try {
            results[i] = task.run({&lines[i]}).front();
          } catch (const bertpp::InputError& e) {
            lines[i].error = e.what();
          }
        }
      }
      for (std::size_t i = 0; i < lines.size(); ++i) {
        Line& l = lines[i];
        Json line_out;
        if (!l.error.empty()) {
          const std::string where = in_name + ":" + std::to_string(l.no);
          if (!record) {
            out.flush();
            throw bertpp::InputError(where + ": " + l.error);
          }
          ++errors;
          line_out = l.object.is_object() ? l.object : Json::object();
          line_out["error"] = l.error;
          line_out["line"] = l.no;
        } else if (l.object.is_object()) {
          line_out = std::move(l.object);
          line_out.update(results[i]);
        } else {
          line_out = std::move(results[i]);
        }
        out << line_out.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
      }
      out.flush();
      if (!out) throw bertpp::IoError(a.get("--output", "stdout") + ": write error");
      done += lines.size();
      if (every && done >= next_report) {
        std::fprintf(stderr, "bertpp-batch: %zu lines, %.1f lines/s\n", done,
                     static_cast<double>(done) / seconds());
        while (next_report <= done) next_report += every;
      }
    }
    std::fprintf(stderr, "bertpp-batch: done, %zu lines (%zu errors) in %.2f s\n", done, errors,
                 seconds());
    return 0;
  });
}
