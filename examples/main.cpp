// SPDX-License-Identifier: Apache-2.0
// The README's main job: embeds the sentences given on the command line with
// all-MiniLM-L6-v2 (tokenizer, encoder, mean pooling, L2 normalisation) and prints their
// pairwise cosine similarities.
//
//   bertpp_main [--model DIR] [--threads N] "A man is eating." "Someone eats food." ...
#include <bertpp/bertpp.hpp>

#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::string default_model() {
  if (const char* m = std::getenv("BERTPP_MODEL")) return m;
  std::string cache;
  if (const char* c = std::getenv("BERTPP_CACHE"))
    cache = c;
  else if (const char* home = std::getenv("HOME"))
    cache = std::string(home) + "/.cache/bertpp";
  return cache + "/models/all-MiniLM-L6-v2";
}

void usage(std::ostream& os) {
  os << "usage: bertpp_main [--model DIR] [--threads N] SENTENCE...\n"
        "Embeds each sentence (mean pooling, as sentence-transformers) and prints the\n"
        "cosine similarity of every pair. Default model: $BERTPP_MODEL, else\n"
        "$BERTPP_CACHE/models/all-MiniLM-L6-v2 (tools/fetch_model.sh puts it there).\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir = default_model();
  int threads = 2;
  std::vector<std::string> sentences;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      usage(std::cout);
      return 0;
    } else if (a == "--model" && i + 1 < argc) {
      model_dir = argv[++i];
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else {
      sentences.push_back(a);
    }
  }
  if (sentences.empty())
    sentences = {"A man is eating food.", "A man is eating a piece of bread.",
                 "The girl is carrying a baby.", "A man is riding a horse."};
  try {
    auto embedder = bertpp::Embedder::load(model_dir);
    embedder.options().num_threads = threads;
    const auto v = embedder.embed(sentences);
    std::cout << "bertpp " << BERTPP_VERSION_STRING << ": " << sentences.size() << " sentences, "
              << v.cols() << "-dimensional embeddings from " << model_dir << "\n\n";
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      const auto enc = embedder.tokenizer().encode(sentences[i]);
      std::cout << "[" << i << "] " << sentences[i] << "\n    " << enc.size() << " tokens:";
      for (const auto& t : enc.tokens) std::cout << ' ' << t;
      std::cout << "\n    embedding[0:4] =" << std::fixed << std::setprecision(4);
      for (int k = 0; k < 4; ++k) std::cout << ' ' << v(static_cast<Eigen::Index>(i), k);
      std::cout << "\n";
    }
    std::cout << "\ncosine similarity\n";
    for (std::size_t i = 0; i < sentences.size(); ++i)
      for (std::size_t j = i + 1; j < sentences.size(); ++j)
        std::cout << "  [" << i << "] vs [" << j << "]  " << std::fixed << std::setprecision(4)
                  << bertpp::cosine(v.row(static_cast<Eigen::Index>(i)), v.row(static_cast<Eigen::Index>(j)))
                  << "\n";
  } catch (const bertpp::Error& e) {
    std::cerr << "bertpp_main: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
