// SPDX-License-Identifier: Apache-2.0
// ner: named entities (token classification) of texts, with HF's aggregation strategies.
#include "example_common.hpp"

#include <cstdio>

namespace {

const char* kUsage = R"(usage: ner --model DIR [--aggregation MODE] [--threads N] [--json] [TEXT...]
Tags each text (arguments, else stdin lines) with an HF token-classification folder
(BertForTokenClassification). MODE is none (every token), simple, first, average or max
(entity groups), as HF's token-classification pipeline; default simple. Tokens labelled O
are left out. Offsets are code points.
A progress bar is drawn on stderr for 64 texts or more when stderr is a terminal.
)";

}  // namespace

int main(int argc, char** argv) {
  return example::run("ner", [&] {
    const auto a = example::parse(argc, argv, {"--model", "--aggregation", "--threads"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--json"});
    if (!a.values.count("--model"))
      throw bertpp::InputError("--model DIR is required (see --help)");
    const auto agg =
        bertpp::aggregation_from_name(a.get("--aggregation", "simple"), "--aggregation");
    const auto texts = example::texts(a);
    bertpp::PipelineOptions po;
    po.num_threads = static_cast<int>(a.get_int("--threads", 2));
    const auto ner = bertpp::TokenClassifier::load(a.get("--model", ""), po);
    example::Progress bar("tagging", texts.size());
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t b = 0; b < texts.size(); b += po.batch_size) {
      const std::vector<std::string> chunk(
          texts.begin() + static_cast<std::ptrdiff_t>(b),
          texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), b + po.batch_size)));
      const auto res = ner.ner(chunk, agg);
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        nlohmann::json ents = nlohmann::json::array();
        if (!a.flag("--json")) std::printf("%s\n", chunk[i].c_str());
        for (const auto& e : res[i]) {
          nlohmann::json j = {{"entity", e.entity},
                              {"score", e.score},
                              {"word", e.word},
                              {"start", e.start},
                              {"end", e.end}};
          if (agg == bertpp::Aggregation::none) j["index"] = e.index;
          ents.push_back(j);
          if (!a.flag("--json"))
            std::printf("  %-8s %.4f  [%zu, %zu)  %s\n", e.entity.c_str(), e.score, e.start, e.end,
                        e.word.c_str());
        }
        out.push_back({{"text", chunk[i]}, {"entities", ents}});
      }
      bar(b + chunk.size(), texts.size());
    }
    bar.finish();
    if (a.flag("--json")) example::print_json(out);
    return 0;
  });
}
