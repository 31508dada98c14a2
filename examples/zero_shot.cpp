// SPDX-License-Identifier: Apache-2.0
// zero_shot: classification into labels given at run time with an NLI checkpoint, as HF's
// zero-shot-classification pipeline.
#include "example_common.hpp"

#include <cstdio>

namespace {

const char* kUsage =
    R"(usage: zero_shot --model DIR --labels L1,L2,... [--template T] [--multi-label]
                 [--threads N] [--json] [TEXT...]
Scores each candidate label for each text (arguments, else stdin lines) with an NLI
checkpoint (DIR: an HF sequence-classification folder whose labels name entailment, e.g.
contradiction / neutral / entailment). Each label becomes the hypothesis T with {} replaced
by it (default "This example is {}."); the scores of a text sum to 1, or with
--multi-label each label is scored on its own (entailment against contradiction).
Prints the labels, best first.
)";

}  // namespace

int main(int argc, char** argv) {
  return example::run("zero_shot", [&] {
    const auto a = example::parse(argc, argv, {"--model", "--labels", "--template", "--threads"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--json", "--multi-label"});
    if (!a.values.count("--model"))
      throw bertpp::InputError("--model DIR is required (see --help)");
    if (!a.values.count("--labels"))
      throw bertpp::InputError("--labels L1,L2,... is required (see --help)");
    const auto labels = bertpp::ZeroShotClassifier::parse_labels(a.get("--labels", ""));
    if (labels.empty())
      throw bertpp::InputError("--labels: no label in '" + a.get("--labels", "") + "'");
    const std::string tmpl = a.get("--template", bertpp::ZeroShotClassifier::kDefaultTemplate);
    const auto texts = example::texts(a);
    bertpp::PipelineOptions po;
    po.num_threads = static_cast<int>(a.get_int("--threads", 2));
    const auto zs = bertpp::ZeroShotClassifier::load(a.get("--model", ""), po);
    const auto res = zs.classify(texts, labels, a.flag("--multi-label"), tmpl);
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = 0; i < texts.size(); ++i) {
      nlohmann::json names = nlohmann::json::array(), scores = nlohmann::json::array();
      if (!a.flag("--json")) std::printf("%s\n", texts[i].c_str());
      for (const auto& ls : res[i]) {
        names.push_back(ls.label);
        scores.push_back(ls.score);
        if (!a.flag("--json")) std::printf("  %-16s %.4f\n", ls.label.c_str(), ls.score);
      }
      out.push_back({{"sequence", texts[i]}, {"labels", names}, {"scores", scores}});
    }
    if (a.flag("--json")) example::print_json(out);
    return 0;
  });
}
