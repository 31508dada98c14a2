// SPDX-License-Identifier: Apache-2.0
// classify: labels and scores of texts (or, --pair, of text pairs such as NLI's premise and
// hypothesis) with an HF sequence-classification folder, or an encoder folder + a bertpp
// head (train_classifier's output).
#include "example_common.hpp"

#include <cstdio>

namespace {

const char* kUsage =
    R"(usage: classify [--model DIR] [--head DIR] [--top-k K] [--threads N] [--json] [TEXT...]
       classify --pair --model DIR [--top-k K] [--threads N] [--json] [A B]...
Classifies each text (arguments, else stdin lines); with --pair, each pair of texts
(consecutive arguments, else stdin lines "A<TAB>B"), e.g. premise and hypothesis with an
NLI checkpoint, encoded as [CLS] A [SEP] B [SEP]. --model is an HF folder with a
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
    example::check_flags(a, {"--json", "--pair"});
    const bool pair = a.flag("--pair");
    std::vector<std::pair<std::string, std::string>> inputs;
    if (pair) {
      inputs = example::pairs(a);
    } else {
      for (auto& t : example::texts(a)) inputs.emplace_back(std::move(t), std::string());
    }
    bertpp::PipelineOptions po;
    po.num_threads = static_cast<int>(a.get_int("--threads", 2));
    const bool given = a.values.count("--model") > 0;
    const std::string model = a.get("--model", example::default_model());
    const auto clf =
        a.values.count("--head") || !given
            ? bertpp::TextClassifier::load(model, a.get("--head", example::default_head()), po)
            : bertpp::TextClassifier::load(model, po);
    const auto top_k = a.get_size("--top-k", 0, 0);
    example::Progress bar("classifying", inputs.size());
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t b = 0; b < inputs.size(); b += po.batch_size) {
      const std::vector<std::pair<std::string, std::string>> chunk(
          inputs.begin() + static_cast<std::ptrdiff_t>(b),
          inputs.begin() + static_cast<std::ptrdiff_t>(std::min(inputs.size(), b + po.batch_size)));
      std::vector<std::vector<bertpp::LabelScore>> res;
      if (pair) {
        res = clf.classify_pairs(chunk, top_k);
      } else {
        std::vector<std::string> texts;
        for (const auto& c : chunk) texts.push_back(c.first);
        res = clf.classify(texts, top_k);
      }
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        nlohmann::json labels = nlohmann::json::array();
        if (!a.flag("--json"))
          std::printf("%s%s%s\n", chunk[i].first.c_str(), pair ? " | " : "",
                      chunk[i].second.c_str());
        for (const auto& ls : res[i]) {
          labels.push_back({{"label", ls.label}, {"score", ls.score}});
          if (!a.flag("--json")) std::printf("  %-12s %.4f\n", ls.label.c_str(), ls.score);
        }
        nlohmann::json item = {{"text", chunk[i].first}, {"labels", labels}};
        if (pair) item["text_pair"] = chunk[i].second;
        out.push_back(std::move(item));
      }
      bar(b + chunk.size(), inputs.size());
    }
    bar.finish();
    if (a.flag("--json")) example::print_json(out);
    return 0;
  });
}
