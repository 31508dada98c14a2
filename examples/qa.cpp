// SPDX-License-Identifier: Apache-2.0
// qa: extractive question answering over a context (a long one is read in windows).
#include "example_common.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace {

const char* kUsage =
    R"(usage: qa --model DIR (--context TEXT | --context-file FILE) [options] [QUESTION...]
Answers each question (arguments, else stdin lines) from the context, as HF's
question-answering pipeline. DIR is an HF folder with a span head (BertForQuestionAnswering).
  --top-k K            answers per question (1)
  --max-seq-len N      tokens per window (min(384, model maximum))
  --doc-stride N       overlap of windows (min(max-seq-len / 2, 128))
  --max-answer-len N   tokens per answer (15)
  --impossible         also propose the empty answer
  --json               JSON output
A progress bar is drawn on stderr for 64 questions or more when stderr is a terminal.
)";

}  // namespace

int main(int argc, char** argv) {
  return example::run("qa", [&] {
    const auto a =
        example::parse(argc, argv,
                       {"--model", "--context", "--context-file", "--top-k", "--max-seq-len",
                        "--doc-stride", "--max-answer-len", "--threads"});
    if (a.flag("--help")) {
      std::cout << kUsage;
      return 0;
    }
    example::check_flags(a, {"--json", "--impossible"});
    if (!a.values.count("--model"))
      throw bertpp::InputError("--model DIR is required (see --help)");
    std::string context = a.get("--context", "");
    if (a.values.count("--context-file")) {
      context = example::read_file(a.get("--context-file", ""));
      while (!context.empty() && (context.back() == '\n' || context.back() == '\r'))
        context.pop_back();
    }
    if (context.empty())
      throw bertpp::InputError("give the context with --context or --context-file");
    const auto questions = example::texts(a);
    bertpp::PipelineOptions po;
    po.num_threads = static_cast<int>(a.get_int("--threads", 2));
    const auto qa = bertpp::QuestionAnswerer::load(a.get("--model", ""), po);
    bertpp::AnswerOptions o;
    o.top_k = a.get_size("--top-k", 1, 1);
    o.max_seq_len = a.get_size("--max-seq-len", 0, 0);
    o.doc_stride = a.get_size("--doc-stride", 0, 0);
    o.max_answer_len = a.get_size("--max-answer-len", 15, 1);
    o.handle_impossible_answer = a.flag("--impossible");
    example::Progress bar("answering", questions.size());
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = 0; i < questions.size(); ++i) {
      nlohmann::json answers = nlohmann::json::array();
      if (!a.flag("--json")) std::printf("%s\n", questions[i].c_str());
      for (const auto& ans : qa.answer(questions[i], context, o)) {
        answers.push_back(
            {{"answer", ans.answer}, {"score", ans.score}, {"start", ans.start}, {"end", ans.end}});
        if (!a.flag("--json"))
          std::printf("  %.4f  [%zu, %zu)  %s\n", ans.score, ans.start, ans.end,
                      ans.answer.c_str());
      }
      out.push_back({{"question", questions[i]}, {"answers", answers}});
      bar(i + 1, questions.size());
    }
    bar.finish();
    if (a.flag("--json")) example::print_json(out);
    return 0;
  });
}
