// SPDX-License-Identifier: Apache-2.0
// answer: extractive question answering over a context of any length, cut into windows with
// the tokenizer's stride, as transformers 4.x's "question-answering" pipeline (removed from
// transformers 5; tools/make_head_fixtures.py keeps a port of it as the reference).
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bertpp/core/compiled.hpp"
#include "bertpp/heads/classification.hpp"
#include "bertpp/pipelines/common.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

/// @brief One answer: its text and span in the context (code points, HF's start / end).
struct Answer {
  double score = 0.0;  ///< start probability x end probability (summed over equal answers)
  std::size_t start = 0, end = 0;
  std::string answer;
};

/// @brief HF's question-answering parameters and defaults.
struct AnswerOptions {
  std::size_t top_k = 1;
  std::size_t max_seq_len = 0;            ///< tokens per window; 0: min(384, the model's maximum)
  std::size_t doc_stride = 0;             ///< overlap of windows; 0: min(max_seq_len / 2, 128)
  std::size_t max_answer_len = 15;        ///< tokens
  bool handle_impossible_answer = false;  ///< also propose the empty answer
  /// Longest context accepted, in bytes (0: no limit), checked before any tokenization.
  std::size_t max_context_bytes = std::size_t{1} << 20;
  /// Most windows one answer() runs the model on (0: no limit), counted before the windows
  /// are made; a context that needs more is refused with an InputError naming this option.
  /// The cost of answer() is one forward call per window (run batch_size at a time): the
  /// default, 256 windows of 384 tokens (a context of about 60,000 tokens), bounds it to
  /// seconds on a BERT-base encoder.
  std::size_t max_windows = 256;
};

/// @brief Tokenizer + QuestionAnswering<float>: question and context in, answers out.
class QuestionAnswerer {
 public:
  /// @brief Loads an HF folder with `qa_outputs`.
  /// @throws the loaders' errors; WeightError when it has no question-answering head.
  static QuestionAnswerer load(const std::string& dir, PipelineOptions options = {});
  QuestionAnswerer(Tokenizer tokenizer, QuestionAnswering<float> model,
                   PipelineOptions options = {})
      : tok_(std::move(tokenizer)), model_(std::move(model)), options_(options) {}

  /// @brief The `top_k` best answers to `question` in `context`, best first. A long context
  /// is cut into windows of max_seq_len tokens overlapping by doc_stride; spans are aligned
  /// to whole words; equal answers (ignoring ASCII case) found in several windows add their
  /// scores. Only spans of positive score are proposed.
  /// @throws InputError for an empty question or context, a question that leaves no room
  /// for the context in a window, a doc_stride given >= the room left for the context (a
  /// default doc_stride is lowered to half of that room instead), max_answer_len / top_k of
  /// 0, or a context over max_context_bytes / max_windows. Any top_k and max_answer_len up
  /// to SIZE_MAX are accepted (they are bounded by the spans that exist).
  std::vector<Answer> answer(const std::string& question, const std::string& context,
                             const AnswerOptions& o = {}) const;

  /// @brief The windows (question + part of the context, with specials) answer() runs the
  /// model on, first to last.
  /// @throws InputError as answer().
  std::vector<Encoding> windows(const std::string& question, const std::string& context,
                                const AnswerOptions& o = {}) const;

 private:
  void decode_window(const Encoding& e, const Matrix<float>& logits, const std::string& context,
                     const AnswerOptions& o, std::vector<Answer>& answers, double& min_null) const {
    const std::size_t n = e.ids.size();
    std::vector<char> ok(n);  // may hold an answer: context tokens, and [CLS]
    for (std::size_t i = 0; i < n; ++i)
      ok[i] = (e.sequence_ids[i] == 1 || e.ids[i] == tok_.cls_id()) &&
              (e.attention_mask.empty() || e.attention_mask[i] != 0);
    Vector<double> s(static_cast<Eigen::Index>(n)), en(static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) {
      s[static_cast<Eigen::Index>(i)] = ok[i] ? logits(static_cast<Eigen::Index>(i), 0) : -10000.0;
      en[static_cast<Eigen::Index>(i)] = ok[i] ? logits(static_cast<Eigen::Index>(i), 1) : -10000.0;
    }
    auto ps = detail::softmax(s), pe = detail::softmax(en);
    if (o.handle_impossible_answer) min_null = std::min(min_null, ps[0] * pe[0]);
    ps[0] = pe[0] = 0.0;
    std::vector<std::tuple<double, std::size_t, std::size_t>> spans;  // (score, start, end)
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = a; b < a + std::min(n - a, o.max_answer_len);
           ++b)  // no wrap at SIZE_MAX
        if (ps[a] * pe[b] > 0.0) spans.emplace_back(ps[a] * pe[b], a, b);
    // Candidates before word alignment: HF's top_k * 2 + 10, computed without a wrap.
    const std::size_t keep = std::min(spans.size(), std::min(o.top_k, spans.size()) * 2 + 10);
    std::partial_sort(spans.begin(), spans.begin() + static_cast<std::ptrdiff_t>(keep), spans.end(),
                      [](const auto& x, const auto& y) {
                        return std::get<0>(x) > std::get<0>(y) ||
                               (std::get<0>(x) == std::get<0>(y) &&
                                std::make_pair(std::get<1>(x), std::get<2>(x)) <
                                    std::make_pair(std::get<1>(y), std::get<2>(y)));
                      });
    spans.resize(keep);
    for (const auto& [score, a, b] : spans) {
      if (!ok[a] || !ok[b]) continue;
      const auto [cs, bs] = word_start(e, a);
      const auto [ce, be] = word_end(e, b);
      if (be < bs) continue;
      std::string text = context.substr(bs, be - bs);
      auto same = std::find_if(answers.begin(), answers.end(),
                               [&](const Answer& x) { return lower(x.answer) == lower(text); });
      if (same != answers.end())
        same->score += score;
      else
        answers.push_back({score, cs, ce, std::move(text)});
    }
  }

  // Start (code point, byte) of the context word holding token i (HF's word_to_chars).
  static std::pair<std::size_t, std::size_t> word_start(const Encoding& e, std::size_t i) {
    std::size_t j = i;
    while (j > 0 && e.sequence_ids[j - 1] == 1 && e.word_ids[j - 1] == e.word_ids[i]) --j;
    return {e.offsets[j].first, e.byte_offsets[j].first};
  }
  static std::pair<std::size_t, std::size_t> word_end(const Encoding& e, std::size_t i) {
    std::size_t j = i;
    while (j + 1 < e.ids.size() && e.sequence_ids[j + 1] == 1 && e.word_ids[j + 1] == e.word_ids[i])
      ++j;
    return {e.offsets[j].second, e.byte_offsets[j].second};
  }
  static std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }

  Tokenizer tok_;
  QuestionAnswering<float> model_;
  PipelineOptions options_;
};

#if BERTPP_DEFINITIONS

BERTPP_INLINE QuestionAnswerer QuestionAnswerer::load(const std::string& dir,
                                                      PipelineOptions options) {
  return QuestionAnswerer(Tokenizer::load(dir), QuestionAnswering<float>::load(dir), options);
}

BERTPP_INLINE std::vector<Answer> QuestionAnswerer::answer(const std::string& question,
                                                           const std::string& context,
                                                           const AnswerOptions& o) const {
  if (o.top_k == 0 || o.max_answer_len == 0)
    throw InputError("answer: top_k and max_answer_len must be >= 1");
  const std::vector<Encoding> windows = this->windows(question, context, o);
  std::vector<Answer> answers;
  double min_null = 1000000.0;
  ForwardOptions fwd;
  fwd.num_threads = options_.num_threads;
  detail::for_batches(windows.size(), options_.batch_size, [&](std::size_t b0, std::size_t b1) {
    const std::vector<Encoding> batch(windows.begin() + static_cast<std::ptrdiff_t>(b0),
                                      windows.begin() + static_cast<std::ptrdiff_t>(b1));
    const auto logits = model_.forward(batch, fwd);  // [len x 2] per window
    for (std::size_t k = 0; k < batch.size(); ++k)
      decode_window(batch[k], logits[k], context, o, answers, min_null);
  });
  if (o.handle_impossible_answer) answers.push_back({min_null, 0, 0, ""});
  std::stable_sort(answers.begin(), answers.end(),
                   [](const Answer& a, const Answer& b) { return a.score > b.score; });
  if (answers.size() > o.top_k) answers.resize(o.top_k);
  return answers;
}

BERTPP_INLINE std::vector<Encoding> QuestionAnswerer::windows(const std::string& question,
                                                              const std::string& context,
                                                              const AnswerOptions& o) const {
  detail::require_text(question, "answer: the question");
  detail::require_text(context, "answer: the context");
  if (o.max_context_bytes && context.size() > o.max_context_bytes)
    throw InputError("answer: the context has " + std::to_string(context.size()) +
                     " bytes, more than " + "AnswerOptions::max_context_bytes (" +
                     std::to_string(o.max_context_bytes) +
                     "); split it, or raise the limit (0: none)");
  const std::size_t model_max = detail::max_length(options_, model_.config(), tok_);
  const std::size_t max_seq =
      o.max_seq_len ? std::min(o.max_seq_len, model_max) : std::min<std::size_t>(384, model_max);
  if (max_seq < 4)
    throw InputError("answer: AnswerOptions::max_seq_len " + std::to_string(max_seq) +
                     " leaves no room for the question, the context and 3 special tokens");
  EncodeOptions q_only;
  q_only.add_special_tokens = false;
  const std::size_t q_len = tok_.encode(question, q_only).size();
  if (q_len + 3 >= max_seq)
    throw InputError("answer: the question has " + std::to_string(q_len) +
                     " tokens, which with 3 special "
                     "tokens leaves no room for the context in a window of " +
                     std::to_string(max_seq) + " tokens (AnswerOptions::max_seq_len)");
  const std::size_t room = max_seq - 3 - q_len;  // context tokens per window
  std::size_t stride = o.doc_stride;
  if (stride == 0) {  // HF's default, lowered to half the room when that is too small
    stride = std::min<std::size_t>(max_seq / 2, 128);
    if (stride >= room) stride = room / 2;
  } else if (stride >= room) {
    throw InputError("answer: AnswerOptions::doc_stride " + std::to_string(stride) +
                     " must be smaller than the " + std::to_string(room) +
                     " context tokens of each window (max_seq_len " + std::to_string(max_seq) +
                     " less the question's " + std::to_string(q_len) +
                     " tokens and 3 special tokens)");
  }
  if (o.max_windows) {  // the number of windows, before making them
    EncodeOptions c_only;
    c_only.add_special_tokens = false;
    const std::size_t c_len = tok_.encode(context, c_only).size();
    const std::size_t step = room - stride;
    const std::size_t needed = c_len <= room ? 1 : 1 + (c_len - room + step - 1) / step;
    if (needed > o.max_windows)
      throw InputError("answer: the context needs " + std::to_string(needed) + " windows of " +
                       std::to_string(max_seq) + " tokens, more than AnswerOptions::max_windows (" +
                       std::to_string(o.max_windows) + "); split it, or raise the limit (0: none)");
  }
  EncodeOptions opt;
  opt.truncation = TruncationStrategy::only_second;
  opt.max_length = max_seq;
  opt.stride = stride;
  opt.return_overflowing_tokens = true;
  Encoding first = tok_.encode(question, context, opt);
  std::vector<Encoding> windows(1);
  windows[0] = first;
  windows[0].overflowing.clear();
  for (auto& w : first.overflowing) windows.push_back(std::move(w));
  return windows;
}

#endif  // BERTPP_DEFINITIONS

}  // namespace bertpp
