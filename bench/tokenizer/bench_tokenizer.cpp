// SPDX-License-Identifier: Apache-2.0
// Times bertpp's tokenizer: encode_batch over every text of an input file (with special
// tokens, no truncation or padding), at 1 thread and at N threads; prints one JSON line per
// run with the median over repeats (after one warm-up). bench/tokenizer/run.py runs it beside
// HF tokenizers; see --help.
#include <bertpp/tokenizer/tokenizer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

const char* kUsage =
    "usage: bench_tokenizer --vocab VOCAB_TXT_OR_DIR --input FILE [--cased] [--repeats N]\n"
    "                       [--threads N] [--label NAME]\n"
    "  FILE: .jsonl (one JSON string per line), .tsv (first column, header skipped),\n"
    "        otherwise one text per line. --threads: the multi-thread run (default: all\n"
    "        hardware threads); a 1-thread run is always made. --cased: do_lower_case=false.\n";

std::vector<std::string> read_texts(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  const bool jsonl = ends_with(".jsonl"), tsv = ends_with(".tsv");
  std::vector<std::string> out;
  std::string line;
  if (tsv) std::getline(f, line);  // header
  while (std::getline(f, line)) {
    if (jsonl)
      out.push_back(nlohmann::json::parse(line).get<std::string>());
    else if (tsv)
      out.push_back(line.substr(0, line.find('\t')));
    else
      out.push_back(line);
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  std::string vocab, input, label;
  bool cased = false;
  int repeats = 5;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n" << kUsage;
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--vocab")
      vocab = value();
    else if (a == "--input")
      input = value();
    else if (a == "--label")
      label = value();
    else if (a == "--cased")
      cased = true;
    else if (a == "--repeats")
      repeats = std::max(1, std::atoi(value().c_str()));
    else if (a == "--threads")
      threads = std::max(1, std::atoi(value().c_str()));
    else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "unknown argument " << a << "\n" << kUsage;
      return 2;
    }
  }
  if (vocab.empty() || input.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  try {
    bertpp::TokenizerOptions opt;
    opt.do_lower_case = !cased;
    const bool is_txt = vocab.size() > 4 && vocab.compare(vocab.size() - 4, 4, ".txt") == 0;
    const auto t_load = std::chrono::steady_clock::now();
    const auto tok =
        is_txt ? bertpp::Tokenizer::from_vocab_file(vocab, opt) : bertpp::Tokenizer::load(vocab);
    const double load_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
    const auto texts = read_texts(input);
    std::size_t bytes = 0;
    for (const auto& t : texts) bytes += t.size();
    std::vector<int> runs{1};
    if (threads > 1) runs.push_back(threads);
    for (const int n : runs) {
      std::size_t tokens = 0;
      std::vector<double> secs;
      for (int r = 0; r <= repeats; ++r) {  // r == 0: warm-up
        const auto t0 = std::chrono::steady_clock::now();
        const auto encs = tok.encode_batch(texts, {}, n);
        const auto t1 = std::chrono::steady_clock::now();
        tokens = 0;
        for (const auto& e : encs) tokens += e.ids.size();
        if (r > 0) secs.push_back(std::chrono::duration<double>(t1 - t0).count());
      }
      const double m = median(secs);
      nlohmann::json j = {{"engine", "bertpp"},
                          {"input", label.empty() ? input : label},
                          {"threads", n},
                          {"texts", texts.size()},
                          {"bytes", bytes},
                          {"tokens", tokens},
                          {"repeats", repeats},
                          {"median_s", m},
                          {"tokens_per_s", static_cast<double>(tokens) / m},
                          {"load_s", load_s}};
      std::cout << j.dump() << std::endl;
    }
  } catch (const std::exception& ex) {
    std::cerr << "bench_tokenizer: " << ex.what() << "\n";
    return 1;
  }
  return 0;
}
