// SPDX-License-Identifier: Apache-2.0
// What the example programs share: a tiny option parser, input texts from the command line
// or stdin (one per line), the default model folders, a progress bar on stderr (drawn only
// when stderr is a terminal) and JSON output.
#pragma once

#include <bertpp/bertpp.hpp>

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace example {

/// The bertpp cache: $BERTPP_CACHE, else ~/.cache/bertpp.
inline std::string cache_dir() {
  if (const char* c = std::getenv("BERTPP_CACHE")) return c;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/bertpp";
}

/// The default encoder: $BERTPP_MODEL, else all-MiniLM-L6-v2 in the cache.
inline std::string default_model() {
  if (const char* m = std::getenv("BERTPP_MODEL")) return m;
  return cache_dir() + "/models/all-MiniLM-L6-v2";
}

/// The committed SST-2 head next to the sources: $BERTPP_HEAD, else models/sst2-minilm-head.
inline std::string default_head() {
  if (const char* h = std::getenv("BERTPP_HEAD")) return h;
  return BERTPP_EXAMPLE_SOURCE_DIR "/models/sst2-minilm-head";
}

/// Command line: `--name value` options (given in `valued`), `--flag`s and positionals.
struct Args {
  std::map<std::string, std::string> values;
  std::vector<std::string> flags, positional;

  bool flag(const std::string& f) const {
    for (const auto& x : flags)
      if (x == f) return true;
    return false;
  }
  std::string get(const std::string& k, const std::string& def) const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
  long get_int(const std::string& k, long def) const {
    auto it = values.find(k);
    if (it == values.end()) return def;
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end)
      throw bertpp::InputError(k + ": not an integer: '" + it->second + "'");
    if (errno == ERANGE) throw bertpp::InputError(k + ": " + it->second + " is out of range");
    return v;
  }
  /// An integer option that must lie in [lo, hi] (else an InputError naming the option).
  long get_int(const std::string& k, long def, long lo, long hi) const {
    const long v = get_int(k, def);
    if (v < lo || v > hi)
      throw bertpp::InputError(k + " must be in [" + std::to_string(lo) + ", " +
                               std::to_string(hi) + "], got " + std::to_string(v));
    return v;
  }
  /// A size option in [lo, hi].
  std::size_t get_size(const std::string& k, long def, long lo, long hi = kMaxSize) const {
    return static_cast<std::size_t>(get_int(k, def, lo, hi));
  }
  /// The largest size an option takes (2^30): far above any model's tokens or labels.
  static constexpr long kMaxSize = 1L << 30;
  double get_double(const std::string& k, double def) const {
    auto it = values.find(k);
    if (it == values.end()) return def;
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end || !std::isfinite(v))
      throw bertpp::InputError(k + ": not a finite number: '" + it->second + "'");
    return v;
  }
};

/// Parses argv; an option in `valued` takes the next argument; "--" ends the options.
inline Args parse(int argc, char** argv, const std::vector<std::string>& valued) {
  Args a;
  bool opts = true;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    if (opts && s == "--") {
      opts = false;
    } else if (opts && s.size() > 1 && s[0] == '-' && s != "-") {
      bool takes = false;
      for (const auto& v : valued) takes = takes || v == s;
      if (takes) {
        if (i + 1 >= argc) throw bertpp::InputError(s + " needs a value (see --help)");
        a.values[s] = argv[++i];
      } else {
        a.flags.push_back(s == "-h" ? "--help" : s);
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

/// Throws unless every flag is one of `known`.
inline void check_flags(const Args& a, const std::vector<std::string>& known) {
  for (const auto& f : a.flags) {
    bool ok = false;
    for (const auto& k : known) ok = ok || k == f;
    if (!ok) throw bertpp::InputError("unknown option " + f + " (see --help)");
  }
}

/// The texts: the positional arguments, else the non-empty lines of stdin.
inline std::vector<std::string> texts(const Args& a) {
  if (!a.positional.empty()) return a.positional;
  std::vector<std::string> out;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  if (out.empty())
    throw bertpp::InputError("no input: give texts as arguments or on stdin, one per line");
  return out;
}

/// Text pairs: consecutive positional arguments (A B A B ...), else stdin lines "A<TAB>B".
inline std::vector<std::pair<std::string, std::string>> pairs(const Args& a) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!a.positional.empty()) {
    if (a.positional.size() % 2)
      throw bertpp::InputError("give texts in pairs (A B), got " +
                               std::to_string(a.positional.size()));
    for (std::size_t i = 0; i < a.positional.size(); i += 2)
      out.emplace_back(a.positional[i], a.positional[i + 1]);
    return out;
  }
  std::size_t no = 0;
  for (const auto& line : texts(a)) {
    ++no;
    const auto tab = line.find('\t');
    if (tab == std::string::npos)
      throw bertpp::InputError("stdin line " + std::to_string(no) + ": expected 'A<TAB>B'");
    out.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return out;
}

/// What a model folder serves, as text-embeddings-inference decides it.
enum class Kind { embedding, classifier, reranker };

/// @brief The kind of the folder `dir` from its config.json, as TEI finds it: an
/// `architectures` entry ending in ForSequenceClassification makes a classifier, or a
/// reranker when it has one label; anything else is an embedding model.
inline Kind kind_of(const std::string& dir) {
  const auto c = bertpp::BertConfig::from_dir(dir);
  bool seqcls = false;
  if (c.raw.contains("architectures") && c.raw["architectures"].is_array())
    for (const auto& a : c.raw["architectures"])
      if (a.is_string() &&
          a.get<std::string>().find("ForSequenceClassification") != std::string::npos)
        seqcls = true;
  if (!seqcls) return Kind::embedding;
  std::size_t labels = 2;
  if (c.raw.contains("id2label") && c.raw["id2label"].is_object())
    labels = c.raw["id2label"].size();
  if (c.raw.contains("num_labels") && c.raw["num_labels"].is_number_unsigned())
    labels = c.raw["num_labels"].get<std::size_t>();
  return labels == 1 ? Kind::reranker : Kind::classifier;
}

/// @brief The kind named by option `option` ("embedding", "classifier" or "reranker"), or
/// the folder's own (kind_of) when the option is not given.
/// @throws bertpp::InputError naming the option for any other name.
inline Kind kind_option(const Args& a, const std::string& option, const std::string& dir) {
  const std::string name = a.get(option, "");
  if (name.empty()) return kind_of(dir);
  if (name == "embedding") return Kind::embedding;
  if (name == "classifier") return Kind::classifier;
  if (name == "reranker") return Kind::reranker;
  throw bertpp::InputError(option + " must be embedding, classifier or reranker, got '" + name +
                           "'");
}

/// A progress bar on stderr, drawn only when stderr is a terminal and there are at least
/// `min_total` items (long inputs); finish() ends the line.
class Progress {
 public:
  Progress(std::string what, std::size_t total, std::size_t min_total = 64)
      : what_(std::move(what)), total_(total), on_(isatty(2) && total >= min_total) {}
  void operator()(std::size_t done, std::size_t /*total*/) {
    if (!on_) return;
    const int width = 30,
              filled = static_cast<int>(width * done / std::max<std::size_t>(total_, 1));
    std::fprintf(stderr, "\r%s [%s%s] %zu/%zu", what_.c_str(),
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '.').c_str(), done, total_);
    std::fflush(stderr);
  }
  void finish() {
    if (on_) std::fprintf(stderr, "\n");
    on_ = false;
  }
  std::function<void(std::size_t, std::size_t)> callback() {
    return [this](std::size_t d, std::size_t t) { (*this)(d, t); };
  }

 private:
  std::string what_;
  std::size_t total_;
  bool on_;
};

/// Prints `j` (indented) to stdout. Invalid UTF-8 in strings (texts read from stdin or
/// files) becomes U+FFFD instead of an exception.
inline void print_json(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

/// The contents of the text file `path`.
/// @throws bertpp::IoError when it cannot be opened or is not a regular file (a folder).
inline std::string read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw bertpp::IoError(path + ": is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw bertpp::IoError(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw bertpp::IoError(path + ": cannot read");
  return ss.str();
}

/// Runs `body`, turning bertpp::Error (and JSON errors) into "name: message" and exit code 1.
inline int run(const char* name, const std::function<int()>& body) {
  try {
    return body();
  } catch (const bertpp::Error& e) {
    std::cerr << name << ": " << e.what() << "\n";
  } catch (const nlohmann::json::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
  }
  return 1;
}

}  // namespace example
