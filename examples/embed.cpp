// SPDX-License-Identifier: Apache-2.0
// embed: sentence embeddings (sentence-transformers pooling); the cosine similarity of every
// pair of texts, or top-k semantic search of queries over the lines of a text file.
#include "example_common.hpp"

#include <cstdio>
#include <fstream>

namespace {

const char* kUsage = R"(usage: embed [--model DIR] [--threads N] [--json] [TEXT...]
       embed --vectors [--model DIR] [--threads N] [--json] [TEXT...]
       embed --search FILE [--top-k K] [--model DIR] [--json] [QUERY...]
Embeds the texts (arguments, else stdin lines) with the pooling of the model folder
(default $BERTPP_MODEL or all-MiniLM-L6-v2 in the cache) and prints the cosine similarity
of every pair. With --search, embeds every non-empty line of FILE once and prints, for
each query, the K (5) most similar lines (cosine, line number from 1, text). With
--vectors, prints the embeddings themselves, one line of numbers per text.
A progress bar is drawn on stderr for 64 texts or more when stderr is a terminal.
)";

bertpp::Matrix<float> embed_all(const bertpp::Embedder& e, const std::vector<std::string>& texts,
                                const char* what) {
  example::Progress bar(what, texts.size());
  bertpp::Matrix<float> out(static_cast<Eigen::Index>(texts.size()),
                            e.model().config().hidden_size);
  const std::size_t step = 64;
  for (std::size_t b = 0; b < texts.size(); b += step) {
    const std::size_t end = std::min(texts.size(), b + step);
    const std::vector<std::string> chunk(texts.begin() + static_cast<std::ptrdiff_t>(b),
                                         texts.begin() + static_cast<std::ptrdiff_t>(end));
    out.middleRows(static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(chunk.size())) =
        e.embed(chunk);
    bar(end, texts.size());
  }
  bar.finish();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  return example::run("embed", [&] {
    const auto a = example::parse(argc, argv, {"--model", "--threads", "--search", "--top-k"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--json", "--vectors"});
    const bool json = a.flag("--json"), vectors = a.flag("--vectors");
    const auto texts = example::texts(a);
    if (texts.size() < 2 && !a.values.count("--search") && !vectors)
      throw bertpp::InputError(
          "one text gives no pair to compare: give two or more texts, or --search FILE");
    auto emb = bertpp::Embedder::load(a.get("--model", example::default_model()));
    emb.options().num_threads = static_cast<int>(a.get_int("--threads", 2));
    const auto q = embed_all(emb, texts, "embedding");
    if (vectors) {
      nlohmann::json rows = nlohmann::json::array();
      for (Eigen::Index i = 0; i < q.rows(); ++i) {
        std::vector<float> v(q.row(i).data(), q.row(i).data() + q.cols());
        if (!json) {
          for (std::size_t k = 0; k < v.size(); ++k)
            std::printf(k ? " %.9g" : "%.9g", static_cast<double>(v[k]));
          std::printf("\n");
        }
        rows.push_back(v);
      }
      if (json) example::print_json(nlohmann::json({{"texts", texts}, {"embeddings", rows}}));
      return 0;
    }
    if (!a.values.count("--search")) {
      nlohmann::json sim = nlohmann::json::array();
      for (Eigen::Index i = 0; i < q.rows(); ++i) {
        sim.push_back(nlohmann::json::array());
        for (Eigen::Index j = 0; j < q.rows(); ++j) {
          const double c = bertpp::cosine(q.row(i).transpose(), q.row(j).transpose());
          sim.back().push_back(c);
          if (!json && j > i)
            std::printf("[%ld] vs [%ld]  %.4f\n", static_cast<long>(i), static_cast<long>(j), c);
        }
      }
      if (json) example::print_json(nlohmann::json({{"texts", texts}, {"similarity", sim}}));
      return 0;
    }
    const std::string path = a.get("--search", "");
    std::ifstream in(path);
    if (!in) throw bertpp::IoError(path + ": cannot open");
    std::vector<std::string> lines;
    std::vector<std::size_t> numbers;
    std::string line;
    for (std::size_t no = 1; std::getline(in, line); ++no) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      lines.push_back(line);
      numbers.push_back(no);
    }
    if (lines.empty()) throw bertpp::InputError(path + ": no lines to search");
    const auto docs = embed_all(emb, lines, "indexing");
    const auto k = a.get_size("--top-k", 5, 1);
    nlohmann::json out = nlohmann::json::array();
    for (Eigen::Index i = 0; i < q.rows(); ++i) {
      std::vector<double> s;
      for (Eigen::Index j = 0; j < docs.rows(); ++j)
        s.push_back(bertpp::cosine(q.row(i).transpose(), docs.row(j).transpose()));
      nlohmann::json hits = nlohmann::json::array();
      if (!json) std::printf("%s\n", texts[static_cast<std::size_t>(i)].c_str());
      for (std::size_t j : bertpp::detail::top_k(s, k)) {
        hits.push_back({{"line", numbers[j]}, {"score", s[j]}, {"text", lines[j]}});
        if (!json) std::printf("  %.4f  %5zu  %s\n", s[j], numbers[j], lines[j].c_str());
      }
      out.push_back({{"query", texts[static_cast<std::size_t>(i)]}, {"hits", hits}});
    }
    if (json) example::print_json(out);
    return 0;
  });
}
