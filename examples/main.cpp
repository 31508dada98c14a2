// SPDX-License-Identifier: Apache-2.0
// The README's main job: classifies the sentences given on the command line (or stdin, one
// per line) as positive or negative with the default encoder, all-MiniLM-L6-v2 (mean
// pooling), and the committed SST-2 head (examples/models/sst2-minilm-head, trained by
// train_classifier): one line per sentence with its label and probability.
//
//   bertpp_main [--model DIR] [--head DIR] [--threads N] [--json] "A gripping film." ...
#include "example_common.hpp"

#include <cstdio>

namespace {

const char* kUsage =
    R"(usage: bertpp_main [--model DIR] [--head DIR] [--threads N] [--json] [SENTENCE...]
Classifies each sentence (arguments, else stdin lines; three samples when neither is
given) as positive or negative: the
encoder (default $BERTPP_MODEL, else $BERTPP_CACHE/models/all-MiniLM-L6-v2, which
tools/fetch_model.sh puts there) with the SST-2 head of examples/models/sst2-minilm-head
(or --head / $BERTPP_HEAD). Prints "label  probability  sentence" per line.
A progress bar is drawn on stderr for 64 sentences or more when stderr is a terminal.
)";

}  // namespace

int main(int argc, char** argv) {
  return example::run("bertpp_main", [&] {
    const auto a = example::parse(argc, argv, {"--model", "--head", "--threads"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--json"});
    // No sentences and nothing piped in: a few samples, so that the bare command shows something.
    const auto texts = a.positional.empty() && isatty(0)
                           ? std::vector<std::string>{"a charming and often affecting journey.",
                                                      "unflinchingly bleak and desperate",
                                                      "the acting, costumes, music, cinematography "
                                                      "and sound are all astounding"}
                           : example::texts(a);
    bertpp::PipelineOptions po;
    po.num_threads = static_cast<int>(a.get_int("--threads", 2));
    po.batch_size = 16;
    const auto clf = bertpp::TextClassifier::load(a.get("--model", example::default_model()),
                                                  a.get("--head", example::default_head()), po);
    example::Progress bar("classifying", texts.size());
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t b = 0; b < texts.size(); b += po.batch_size) {
      const std::vector<std::string> chunk(
          texts.begin() + static_cast<std::ptrdiff_t>(b),
          texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), b + po.batch_size)));
      const auto res = clf.classify(chunk, 1);
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        if (a.flag("--json"))
          out.push_back(
              {{"text", chunk[i]}, {"label", res[i][0].label}, {"score", res[i][0].score}});
        else
          std::printf("%-8s  %.4f  %s\n", res[i][0].label.c_str(), res[i][0].score,
                      chunk[i].c_str());
      }
      bar(b + chunk.size(), texts.size());
    }
    bar.finish();
    if (a.flag("--json")) example::print_json(out);
    return 0;
  });
}
