// SPDX-License-Identifier: Apache-2.0
// rerank: orders passages by relevance to a query with a cross-encoder, as
// sentence-transformers' CrossEncoder.rank().
#include "example_common.hpp"

#include <cstdio>

namespace {

const char* kUsage =
    R"(usage: rerank --model DIR --query Q [--top-k K] [--max-length N] [--threads N] [--json]
              [PASSAGE...]
Scores each passage (arguments, else stdin lines) against the query with a cross-encoder
(DIR: an HF folder with a one-label sequence-classification head, e.g.
cross-encoder/ms-marco-MiniLM-L6-v2) and prints them best first (the K best with --top-k).
Pairs are encoded as [CLS] query [SEP] passage [SEP], cut to N tokens (default: the
model's maximum) longest first; the score is the activation the model's config names
(sigmoid by default), as sentence-transformers' CrossEncoder.
)";

}  // namespace

int main(int argc, char** argv) {
  return example::run("rerank", [&] {
    const auto a =
        example::parse(argc, argv, {"--model", "--query", "--top-k", "--max-length", "--threads"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--json"});
    if (!a.values.count("--model"))
      throw bertpp::InputError("--model DIR is required (see --help)");
    if (!a.values.count("--query")) throw bertpp::InputError("--query Q is required (see --help)");
    const auto passages = example::texts(a);
    bertpp::PipelineOptions po;
    po.num_threads = static_cast<int>(a.get_int("--threads", 2));
    po.max_length = a.get_size("--max-length", 0, 0);
    const auto top_k = a.get_size("--top-k", 0, 0);
    const auto reranker = bertpp::Reranker::load(a.get("--model", ""), po);
    const std::string query = a.get("--query", "");
    const auto hits = reranker.rerank(query, passages, top_k);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : hits) {
      out.push_back({{"index", h.index}, {"score", h.score}, {"text", passages[h.index]}});
      if (!a.flag("--json"))
        std::printf("%8.4f  [%zu] %s\n", h.score, h.index, passages[h.index].c_str());
    }
    if (a.flag("--json")) example::print_json(out);
    return 0;
  });
}
