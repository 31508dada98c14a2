// SPDX-License-Identifier: Apache-2.0
// train_classifier: the classic BERT text-classification recipe on a frozen encoder. Pooled
// features (BERT's pooled output; for sentence-transformers folders, their own pooling) are
// computed once per text and cached, then Dropout(0.1) + Dense(1, sigmoid) (2 labels) or
// Dense(N, softmax) is trained with Adam and (binary) cross-entropy. Writes head.json +
// head.safetensors, which TextClassifier::load(encoder_dir, head_dir) and `classify` use.
#include "example_common.hpp"

#include <bertpp/heads/head_training.hpp>  // the trainer is not in the umbrella header

#include <sys/stat.h>
#include <chrono>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace {

const char* kUsage = R"(usage: train_classifier --train FILE [--eval FILE] [--out DIR] [options]
Trains a classifier head on a frozen encoder (features computed once and cached).
FILE is TSV (or CSV when it ends in .csv) with a header row; the text column is
'sentence' or 'text' (else the first), the label column 'label' (else the last).
  --model DIR          encoder folder (default $BERTPP_MODEL or all-MiniLM-L6-v2 in the cache)
  --eval FILE          held-out file: accuracy reported after training
  --out DIR            write DIR/head.json and DIR/head.safetensors
  --epochs N           (10)      --batch-size N  (32)      --learning-rate X (0.001)
  --dropout X          (0.1)     --seed N        (42)      --threads N       (2)
  --max-length N       tokens per text (sentence-transformers config, else 128)
  --pooling MODE       pooler|cls|mean|max|mean_sqrt_len_tokens (default: from the folder:
                       modules.json present -> its pooling, else BERT's pooled output)
  --label-names A,B    names of the labels, in sorted label order (default: the labels)
  --cache-dir DIR      feature cache (default $BERTPP_CACHE/features); --no-cache: none
  --dump-features DIR  also write DIR/train.safetensors, DIR/eval.safetensors
                       (tensors 'features' [n x hidden], 'labels' [n]) for other trainers
  --json               print a JSON summary instead of text
       train_classifier --reidentify HEAD_DIR [--model DIR]
Rewrites HEAD_DIR/head.json with the current (sampled) digest of the encoder DIR, after
checking that the head's stored digest (of any scheme) is that encoder's.
A progress bar is drawn on stderr while encoding when stderr is a terminal.
)";

struct Table {
  std::vector<std::string> texts, labels;
};

std::vector<std::string> split_row(const std::string& line, char sep) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (sep == ',' && c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == sep && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

Table read_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw bertpp::IoError(path + ": cannot open");
  const char sep = path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0 ? ',' : '\t';
  std::string line;
  if (!std::getline(in, line))
    throw bertpp::InputError(path + ": empty file (expected a header row)");
  const auto header = split_row(trim(line), sep);
  if (header.size() < 2)
    throw bertpp::InputError(path + ": the header needs a text and a label column");
  std::size_t tc = 0, lc = header.size() - 1;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "sentence" || header[i] == "text") tc = i;
    if (header[i] == "label") lc = i;
  }
  Table t;
  for (std::size_t no = 2; std::getline(in, line); ++no) {
    if (trim(line).empty()) continue;
    const auto row = split_row(line, sep);
    if (row.size() != header.size())
      throw bertpp::InputError(path + " line " + std::to_string(no) + ": " +
                               std::to_string(row.size()) + " columns, the header has " +
                               std::to_string(header.size()));
    if (trim(row[lc]).empty())
      throw bertpp::InputError(path + " line " + std::to_string(no) + ": empty label");
    t.texts.push_back(row[tc]);
    t.labels.push_back(trim(row[lc]));
  }
  if (t.texts.empty()) throw bertpp::InputError(path + ": no examples after the header");
  return t;
}

std::vector<int> label_ids(const Table& t, const std::vector<std::string>& values,
                           const std::string& path) {
  std::vector<int> ids;
  for (std::size_t i = 0; i < t.labels.size(); ++i) {
    const auto it = std::find(values.begin(), values.end(), t.labels[i]);
    if (it == values.end()) {
      std::string known;
      for (const auto& v : values) known += (known.empty() ? "" : ", ") + v;
      throw bertpp::InputError(path + ": example " + std::to_string(i + 1) + " has label '" +
                               t.labels[i] + "', which is not one of the training labels (" +
                               known + ")");
    }
    ids.push_back(static_cast<int>(it - values.begin()));
  }
  return ids;
}

std::string hex64(std::uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Features of `texts`, from the cache when present (keyed by encoder, pooling and texts).
bertpp::Matrix<float> features(const bertpp::Embedder& emb, const std::vector<std::string>& texts,
                               const bertpp::LinearHead& head, const std::string& cache,
                               int threads, const std::string& what, double& seconds) {
  std::uint64_t key = 14695981039346656037ULL;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) key = (key ^ c) * 1099511628211ULL;
    key = (key ^ 0xFFu) * 1099511628211ULL;
  };
  mix(head.encoder.weights_digest);
  mix(head.pooling.mode + (head.pooling.normalize ? "+norm" : "") +
      std::to_string(head.max_length));
  for (const auto& t : texts) mix(t);
  const std::string file = cache.empty() ? "" : cache + "/" + hex64(key) + ".safetensors";
  const auto n = static_cast<std::int64_t>(texts.size());
  if (!file.empty() && std::ifstream(file).good()) {
    bertpp::WeightStore store;
    store.add_file(file);
    std::cerr << what << ": features from the cache " << file << "\n";
    return store.get<float>("features", {n, head.encoder.hidden_size}).matrix();
  }
  const auto t0 = std::chrono::steady_clock::now();
  example::Progress bar("encoding " + what, texts.size());
  auto f = bertpp::encode_features(emb.tokenizer(), emb.model(), texts, head.pooling,
                                   head.max_length, threads, 32, bar.callback());
  bar.finish();
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!file.empty()) {
    ::mkdir(cache.c_str(), 0755);
    bertpp::write_safetensors(file, {{"features", {n, f.cols()}, f.data()}});
  }
  return f;
}

void dump(const std::string& path, const bertpp::Matrix<float>& f, const std::vector<int>& ids) {
  std::vector<float> l(ids.begin(), ids.end());
  bertpp::write_safetensors(path, {{"features", {f.rows(), f.cols()}, f.data()},
                                   {"labels", {static_cast<std::int64_t>(l.size())}, l.data()}});
}

int train(const example::Args& a) {
  const std::string train_path = a.get("--train", "");
  if (train_path.empty()) throw bertpp::InputError("--train FILE is required (see --help)");
  const std::string model_dir = a.get("--model", example::default_model());
  const std::string eval_path = a.get("--eval", ""), out_dir = a.get("--out", "");
  const int threads = static_cast<int>(a.get_int("--threads", 2));
  bertpp::HeadTrainOptions o;
  o.epochs = static_cast<int>(a.get_int("--epochs", 10, 1, 1000000));
  o.batch_size = a.get_size("--batch-size", 32, 1);
  o.learning_rate = a.get_double("--learning-rate", 1e-3);
  o.dropout = a.get_double("--dropout", 0.1);
  o.seed = static_cast<std::uint64_t>(a.get_int("--seed", 42, 0, std::numeric_limits<long>::max()));

  const Table train_t = read_table(train_path);
  const Table eval_t = eval_path.empty() ? Table{} : read_table(eval_path);
  std::set<std::string> distinct(train_t.labels.begin(), train_t.labels.end());
  std::vector<std::string> values(distinct.begin(), distinct.end());
  std::stable_sort(values.begin(), values.end(), [](const std::string& x, const std::string& y) {
    return x.size() < y.size() || (x.size() == y.size() && x < y);  // "2" before "10"
  });
  if (values.size() < 2)
    throw bertpp::InputError(train_path + ": at least 2 distinct labels are needed");

  bertpp::LinearHead head;
  head.labels = values;
  if (a.values.count("--label-names")) {
    head.labels.clear();
    std::stringstream ss(a.get("--label-names", ""));
    for (std::string s; std::getline(ss, s, ',');) head.labels.push_back(s);
    if (head.labels.size() != values.size())
      throw bertpp::InputError("--label-names gives " + std::to_string(head.labels.size()) +
                               " names for " + std::to_string(values.size()) + " labels");
  }
  head.activation = values.size() == 2 ? "sigmoid" : "softmax";
  auto emb = bertpp::Embedder::load(model_dir);
  const bool st = std::ifstream(model_dir + "/modules.json").good();
  head.pooling.mode = st ? bertpp::pooling_mode_name(emb.options().pooling) : "pooler";
  head.pooling.normalize = st && emb.options().normalize;
  head.pooling.mode = a.get("--pooling", head.pooling.mode);
  head.max_length = a.get_size("--max-length", st ? static_cast<long>(emb.max_length()) : 128, 2,
                               bertpp::LinearHead::kMaxLength);
  head.encoder = bertpp::EncoderIdentity::of_dir(model_dir);
  const std::string cache =
      a.flag("--no-cache") ? "" : a.get("--cache-dir", example::cache_dir() + "/features");

  double enc_s = 0.0, enc_eval_s = 0.0;
  const auto y = label_ids(train_t, values, train_path);
  const auto x = features(emb, train_t.texts, head, cache, threads, "train", enc_s);
  std::vector<int> ey;
  bertpp::Matrix<float> ex;
  if (!eval_path.empty()) {
    ey = label_ids(eval_t, values, eval_path);
    ex = features(emb, eval_t.texts, head, cache, threads, "eval", enc_eval_s);
  }
  if (a.values.count("--dump-features")) {
    const std::string d = a.get("--dump-features", "");
    ::mkdir(d.c_str(), 0755);
    dump(d + "/train.safetensors", x, y);
    if (!eval_path.empty()) dump(d + "/eval.safetensors", ex, ey);
  }
  const bool json = a.flag("--json");
  nlohmann::json summary = {{"train_examples", x.rows()},
                            {"labels", head.labels},
                            {"pooling", head.pooling.mode},
                            {"activation", head.activation},
                            {"epochs", nlohmann::json::array()}};
  const auto t0 = std::chrono::steady_clock::now();
  bertpp::train_linear_head(head, x, y, o, [&](const bertpp::EpochReport& r) {
    summary["epochs"].push_back({{"epoch", r.epoch}, {"loss", r.loss}});
    if (!json)
      std::printf("epoch %d/%d  loss %.4f  (%.2f s)\n", r.epoch, o.epochs, r.loss, r.seconds);
  });
  const double train_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  summary["encode_seconds"] = enc_s + enc_eval_s;
  summary["train_seconds"] = train_s;
  if (!eval_path.empty()) {
    const auto pred = bertpp::predict_linear_head(head, ex);
    std::size_t ok = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) ok += pred[i] == ey[i];
    const double acc = static_cast<double>(ok) / static_cast<double>(pred.size());
    summary["eval_accuracy"] = acc;
    summary["eval_examples"] = pred.size();
    if (!json) std::printf("eval accuracy %.4f (%zu/%zu)\n", acc, ok, pred.size());
  }
  if (!json) std::printf("time: encoding %.1f s, training %.1f s\n", enc_s + enc_eval_s, train_s);
  if (!out_dir.empty()) {
    ::mkdir(out_dir.c_str(), 0755);
    head.save(out_dir);
    summary["out"] = out_dir;
    if (!json)
      std::printf("wrote %s/head.json and %s/head.safetensors\n", out_dir.c_str(), out_dir.c_str());
  }
  if (json) example::print_json(summary);
  return 0;
}

// --reidentify: a head of an older digest scheme, updated to the current one, for the same
// encoder only.
int reidentify(const example::Args& a) {
  const std::string head_dir = a.get("--reidentify", "");
  const std::string model_dir = a.get("--model", example::default_model());
  bertpp::LinearHead head = bertpp::LinearHead::load(head_dir);
  const auto scheme = bertpp::EncoderIdentity::scheme_of(head.encoder.weights_digest);
  head.check_encoder(bertpp::EncoderIdentity::of_dir(model_dir, scheme), model_dir);
  const std::string old = head.encoder.weights_digest;
  head.encoder.weights_digest = bertpp::EncoderIdentity::of_dir(model_dir).weights_digest;
  head.save(head_dir);
  std::printf("%s: weights_digest %s -> %s\n", head_dir.c_str(), old.c_str(),
              head.encoder.weights_digest.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return example::run("train_classifier", [&] {
    const auto a = example::parse(
        argc, argv,
        {"--train", "--eval", "--out", "--model", "--epochs", "--batch-size", "--learning-rate",
         "--dropout", "--seed", "--threads", "--max-length", "--pooling", "--label-names",
         "--cache-dir", "--dump-features", "--reidentify"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--json", "--no-cache"});
    if (a.values.count("--reidentify")) return reidentify(a);
    return train(a);
  });
}
