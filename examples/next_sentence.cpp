// SPDX-License-Identifier: Apache-2.0
// next_sentence: the probability that sentence B follows sentence A (BERT's NSP head).
#include "example_common.hpp"

#include <cstdio>

namespace {

const char* kUsage = R"(usage: next_sentence --model DIR [--threads N] [--json] [A B]...
Prints, for each pair of sentences, the probability that B follows A. Pairs are
consecutive arguments, else stdin lines "A<TAB>B". DIR is an HF folder with a
next-sentence head (BertForPreTraining, BertForNextSentencePrediction).
A progress bar is drawn on stderr for 64 pairs or more when stderr is a terminal.
)";

}  // namespace

int main(int argc, char** argv) {
  return example::run("next_sentence", [&] {
    const auto a = example::parse(argc, argv, {"--model", "--threads"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--json"});
    if (!a.values.count("--model"))
      throw bertpp::InputError("--model DIR is required (see --help)");
    const auto pairs = example::pairs(a);
    bertpp::PipelineOptions po;
    po.num_threads = static_cast<int>(a.get_int("--threads", 2));
    const auto nsp = bertpp::NextSentencePredictor::load(a.get("--model", ""), po);
    example::Progress bar("scoring", pairs.size());
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t b = 0; b < pairs.size(); b += po.batch_size) {
      const std::vector<std::pair<std::string, std::string>> chunk(
          pairs.begin() + static_cast<std::ptrdiff_t>(b),
          pairs.begin() + static_cast<std::ptrdiff_t>(std::min(pairs.size(), b + po.batch_size)));
      const auto p = nsp.next_sentence(chunk);
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        out.push_back({{"a", chunk[i].first}, {"b", chunk[i].second}, {"is_next", p[i]}});
        if (!a.flag("--json"))
          std::printf("%.4f  %s | %s\n", p[i], chunk[i].first.c_str(), chunk[i].second.c_str());
      }
      bar(b + chunk.size(), pairs.size());
    }
    bar.finish();
    if (a.flag("--json")) example::print_json(out);
    return 0;
  });
}
