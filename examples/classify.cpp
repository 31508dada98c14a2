// SPDX-License-Identifier: Apache-2.0
// classify: labels and scores of texts with an HF sequence-classification folder, or an
// encoder folder + a bertpp head (train_classifier's output).
#include "example_common.hpp"

#include <cstdio>

namespace {

const char* kUsage = R"(usage: classify [--model DIR] [--head DIR] [--top-k K] [--threads N] [--json] [TEXT...]
Classifies each text (arguments, else stdin lines). --model is an HF folder with a
sequence-classification head (BertForSequenceClassification), or an encoder folder used
with the bertpp head of --head (default: $BERTPP_MODEL or all-MiniLM-L6-v2 with the
committed SST-2 head). Prints every label (or the K best) with its score, best first.
A progress bar is drawn on stderr for 64 texts or more when stderr is a terminal.
)";

}  // namespace

int main(int argc, char** argv) {
  return example::run("classify", [&] {
    const auto a = example::parse(argc, argv, {"--model", "--head", "--top-k", "--threads"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--json"});
    const auto texts = example::texts(a);
    bertpp::PipelineOptions po;
    po.num_threads = static_cast<int>(a.get_int("--threads", 2));
    const bool given = a.values.count("--model") > 0;
    const std::string model = a.get("--model", example::default_model());
    const auto clf = a.values.count("--head") || !given
                         ? bertpp::TextClassifier::load(model, a.get("--head", example::default_head()), po)
                         : bertpp::TextClassifier::load(model, po);
    const auto top_k = a.get_size("--top-k", 0, 0);
    example::Progress bar("classifying", texts.size());
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t b = 0; b < texts.size(); b += po.batch_size) {
      const std::vector<std::string> chunk(texts.begin() + static_cast<std::ptrdiff_t>(b),
                                           texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), b + po.batch_size)));
      const auto res = clf.classify(chunk, top_k);
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        nlohmann::json labels = nlohmann::json::array();
        if (!a.flag("--json")) std::printf("%s\n", chunk[i].c_str());
        for (const auto& ls : res[i]) {
          labels.push_back({{"label", ls.label}, {"score", ls.score}});
          if (!a.flag("--json")) std::printf("  %-12s %.4f\n", ls.label.c_str(), ls.score);
        }
        out.push_back({{"text", chunk[i]}, {"labels", labels}});
      }
      bar(b + chunk.size(), texts.size());
    }
    bar.finish();
    if (a.flag("--json")) example::print_json(out);
    return 0;
  });
}
