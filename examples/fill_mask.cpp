// SPDX-License-Identifier: Apache-2.0
// fill_mask: the most likely tokens for the [MASK] of each text (a masked-LM folder).
#include "example_common.hpp"

#include <cstdio>

namespace {

const char* kUsage = R"(usage: fill_mask --model DIR [--top-k K] [--threads N] [--json] [TEXT...]
For each text (arguments, else stdin lines) with one [MASK] (the tokenizer's mask token),
prints the K (5) most likely tokens with their probability and the completed text.
DIR is an HF folder with a masked-LM head (BertForMaskedLM, BertForPreTraining).
A progress bar is drawn on stderr for 64 texts or more when stderr is a terminal.
)";

}  // namespace

int main(int argc, char** argv) {
  return example::run("fill_mask", [&] {
    const auto a = example::parse(argc, argv, {"--model", "--top-k", "--threads"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--json"});
    if (!a.values.count("--model"))
      throw bertpp::InputError("--model DIR is required (see --help)");
    const auto texts = example::texts(a);
    bertpp::PipelineOptions po;
    po.num_threads = static_cast<int>(a.get_int("--threads", 2));
    const auto fm = bertpp::FillMask::load(a.get("--model", ""), po);
    const auto top_k = a.get_size("--top-k", 5, 1);
    example::Progress bar("filling", texts.size());
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const auto preds = fm.fill_mask(texts[i], top_k);
      nlohmann::json js = nlohmann::json::array();
      if (!a.flag("--json")) std::printf("%s\n", texts[i].c_str());
      for (const auto& p : preds) {
        js.push_back({{"token", p.token},
                      {"token_str", p.token_str},
                      {"score", p.score},
                      {"sequence", p.sequence}});
        if (!a.flag("--json"))
          std::printf("  %-14s %.4f  %s\n", p.token_str.c_str(), p.score, p.sequence.c_str());
      }
      out.push_back({{"text", texts[i]}, {"predictions", js}});
      bar(i + 1, texts.size());
    }
    bar.finish();
    if (a.flag("--json")) example::print_json(out);
    return 0;
  });
}
