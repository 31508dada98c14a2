// SPDX-License-Identifier: Apache-2.0
// ner: entities of a text, as HF's "token-classification" pipeline with its aggregation
// strategies none / simple / first / average / max.
#pragma once

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bertpp/core/compiled.hpp"
#include "bertpp/heads/classification.hpp"
#include "bertpp/pipelines/common.hpp"
#include "bertpp/tokenizer/decoder.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"

namespace bertpp {

/// @brief HF's aggregation strategies: none (one result per token), simple (adjacent
/// tokens of one tag grouped), first / average / max (word-level label first, then grouped).
enum class Aggregation { none, simple, first, average, max };

/// @brief The Aggregation named as HF's `aggregation_strategy` ("none", "simple", "first",
/// "average", "max").
/// @throws InputError naming `option` for any other name.
inline Aggregation aggregation_from_name(const std::string& name,
                                         const std::string& option = "aggregation_strategy") {
  static constexpr std::pair<const char*, Aggregation> names[] = {{"none", Aggregation::none},
                                                                  {"simple", Aggregation::simple},
                                                                  {"first", Aggregation::first},
                                                                  {"average", Aggregation::average},
                                                                  {"max", Aggregation::max}};
  return detail::enum_from_name(name, option, names);
}

/// @brief One token (Aggregation::none) or one entity group (the others).
struct Entity {
  std::string entity;  ///< the label (none) or the group's tag without B-/I- (others)
  double score = 0.0;
  std::string word;                ///< the tokens joined as HF's convert_tokens_to_string
  std::size_t start = 0, end = 0;  ///< span in the text, in code points (HF's offsets)
  std::size_t index = 0;           ///< token position (Aggregation::none only)
};

/// @brief Tokenizer + TokenClassification<float>: text in, entities out.
class TokenClassifier {
 public:
  /// @brief Loads an HF folder with a token `classifier` head.
  /// @throws the loaders' errors; WeightError when it has no classifier or its label count
  /// disagrees with config.json.
  static TokenClassifier load(const std::string& dir, PipelineOptions options = {});
  TokenClassifier(Tokenizer tokenizer, TokenClassification<float> model,
                  PipelineOptions options = {})
      : tok_(std::move(tokenizer)), model_(std::move(model)), options_(options) {}

  /// @brief The entities of `text`; tokens or groups labelled with one of `ignore_labels`
  /// are left out.
  /// @throws InputError for an empty or (truncate = false) too long text.
  std::vector<Entity> ner(const std::string& text, Aggregation aggregation = Aggregation::none,
                          const std::set<std::string>& ignore_labels = {"O"}) const {
    return ner(std::vector<std::string>{text}, aggregation, ignore_labels)[0];
  }
  /// @brief ner() of each text, in batches.
  /// @throws InputError naming the text at fault.
  std::vector<std::vector<Entity>> ner(const std::vector<std::string>& texts,
                                       Aggregation aggregation = Aggregation::none,
                                       const std::set<std::string>& ignore_labels = {"O"}) const;

 private:
  struct Token {  // HF's "pre-entity"
    std::string word;
    std::vector<double> scores;
    std::size_t start, end, index;
    bool is_subword;
  };

  static std::size_t argmax(const std::vector<double>& v) {
    return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
  }

  std::vector<Entity> postprocess(const std::string& text, const Encoding& e,
                                  const Matrix<float>& logits, Aggregation agg) const {
    const auto& labels = model_.labels().names;
    std::vector<Token> tokens;  // gather_pre_entities
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
      if (e.special_tokens_mask[i]) continue;
      Token t{e.tokens[i],
              detail::softmax(logits.row(static_cast<Eigen::Index>(i))),
              e.offsets[i].first,
              e.offsets[i].second,
              i,
              false};
      if (tok_.marks_subwords()) {
        t.is_subword = detail::code_points(t.word) != t.end - t.start;
      } else {  // HF's fallback: a token not after a space (byte-level BPE, Unigram)
        const std::size_t b = e.byte_offsets[i].first;
        t.is_subword = e.offsets[i].first > 0 && b > 0 && b < text.size() && text[b - 1] != ' ' &&
                       text[b] != ' ';
      }
      if (e.ids[i] == tok_.unk_id()) {
        t.word = text.substr(e.byte_offsets[i].first,
                             e.byte_offsets[i].second - e.byte_offsets[i].first);
        t.is_subword = false;
      }
      tokens.push_back(std::move(t));
    }
    std::vector<Entity> entities;
    if (agg == Aggregation::none || agg == Aggregation::simple) {
      for (const auto& t : tokens) {
        const std::size_t c = argmax(t.scores);
        entities.push_back({labels[c], t.scores[c], t.word, t.start, t.end, t.index});
      }
      if (agg == Aggregation::none) return entities;
    } else {  // aggregate_words: tokens of one word agree on a label
      std::vector<const Token*> group;
      auto flush = [&] {
        if (group.empty()) return;
        std::vector<std::string> words;
        for (const Token* t : group) words.push_back(t->word);
        std::vector<double> s;
        if (agg == Aggregation::first) {
          s = group.front()->scores;
        } else if (agg == Aggregation::max) {
          const Token* best = group.front();
          for (const Token* t : group)
            if (*std::max_element(t->scores.begin(), t->scores.end()) >
                *std::max_element(best->scores.begin(), best->scores.end()))
              best = t;
          s = best->scores;
        } else {
          s.assign(labels.size(), 0.0);
          for (const Token* t : group)
            for (std::size_t c = 0; c < s.size(); ++c)
              s[c] += t->scores[c] / static_cast<double>(group.size());
        }
        const std::size_t c = argmax(s);
        entities.push_back({labels[c], s[c], tok_.convert_tokens_to_string(words),
                            group.front()->start, group.back()->end, 0});
        group.clear();
      };
      for (const auto& t : tokens) {
        if (!group.empty() && !t.is_subword) flush();
        group.push_back(&t);
      }
      flush();
    }
    return group_entities(entities);
  }

  // HF's get_tag: ("B" | "I", tag).
  static std::pair<char, std::string> tag_of(const std::string& label) {
    if (label.rfind("B-", 0) == 0) return {'B', label.substr(2)};
    if (label.rfind("I-", 0) == 0) return {'I', label.substr(2)};
    return {'I', label};
  }

  std::vector<Entity> group_entities(const std::vector<Entity>& entities) const {
    std::vector<Entity> groups;
    std::vector<const Entity*> run;
    auto flush = [&] {
      const std::string& first = run.front()->entity;
      const auto dash = first.find('-');
      Entity g;
      g.entity = dash == std::string::npos ? first : first.substr(dash + 1);
      std::vector<std::string> words;
      for (const Entity* x : run) {
        g.score += x->score / static_cast<double>(run.size());
        words.push_back(x->word);
      }
      g.word = tok_.convert_tokens_to_string(words);
      g.start = run.front()->start;
      g.end = run.back()->end;
      groups.push_back(std::move(g));
      run.clear();
    };
    for (const auto& x : entities) {
      if (!run.empty()) {
        const auto [bi, tag] = tag_of(x.entity);
        if (!(tag == tag_of(run.back()->entity).second && bi != 'B')) flush();
      }
      run.push_back(&x);
    }
    if (!run.empty()) flush();
    return groups;
  }

  Tokenizer tok_;
  TokenClassification<float> model_;
  PipelineOptions options_;
};

#if BERTPP_DEFINITIONS

BERTPP_INLINE TokenClassifier TokenClassifier::load(const std::string& dir,
                                                    PipelineOptions options) {
  return TokenClassifier(Tokenizer::load(dir), TokenClassification<float>::load(dir), options);
}

BERTPP_INLINE std::vector<std::vector<Entity>> TokenClassifier::ner(
    const std::vector<std::string>& texts, Aggregation aggregation,
    const std::set<std::string>& ignore_labels) const {
  const std::size_t max_len = detail::max_length(options_, model_.config(), tok_);
  std::vector<std::vector<Entity>> out;
  ForwardOptions fwd;
  fwd.num_threads = options_.num_threads;
  detail::for_batches(texts.size(), options_.batch_size, [&](std::size_t b0, std::size_t b1) {
    const std::vector<Encoding> batch =
        detail::encode_texts(tok_, texts, b0, b1, max_len, options_.truncate, "ner");
    const auto logits = model_.forward(batch, fwd);
    for (std::size_t k = 0; k < batch.size(); ++k) {
      std::vector<Entity> kept;
      for (auto& e : postprocess(texts[b0 + k], batch[k], logits[k], aggregation))
        if (!ignore_labels.count(e.entity)) kept.push_back(std::move(e));
      out.push_back(std::move(kept));
    }
  });
  return out;
}

#endif  // BERTPP_DEFINITIONS

}  // namespace bertpp
