// SPDX-License-Identifier: Apache-2.0
// Stage 4: the post-processor (HF's TemplateProcessing / BertProcessing: [CLS] A [SEP]
// B [SEP] with token type ids), and the Encoding operations around it: truncation into
// overflowing windows, merging and padding, with HF's (Rust) semantics.
#pragma once

#include <bertpp/core/encoding.hpp>
#include <bertpp/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bertpp {

/// @brief One piece of a template: special tokens, or input sequence 0 (A) / 1 (B).
struct TemplatePiece {
  bool is_sequence = false;
  int sequence = 0;  ///< 0 = A, 1 = B (when is_sequence)
  std::int32_t type_id = 0;
  std::vector<std::int32_t> ids;    ///< special token ids (when !is_sequence)
  std::vector<std::string> tokens;  ///< their strings
};

namespace tokenizer_detail {

/// @brief Appends `src`'s positions to `dst` (overflowing windows are not copied).
inline void append_positions(Encoding& dst, const Encoding& src) {
  auto cat = [](auto& a, const auto& b) { a.insert(a.end(), b.begin(), b.end()); };
  cat(dst.ids, src.ids);
  cat(dst.type_ids, src.type_ids);
  cat(dst.attention_mask, src.attention_mask);
  cat(dst.special_tokens_mask, src.special_tokens_mask);
  cat(dst.tokens, src.tokens);
  cat(dst.offsets, src.offsets);
  cat(dst.byte_offsets, src.byte_offsets);
  cat(dst.word_ids, src.word_ids);
  cat(dst.sequence_ids, src.sequence_ids);
}

/// @brief Positions `[b, e)` of `src` as a new encoding.
inline Encoding slice(const Encoding& src, std::size_t b, std::size_t e) {
  Encoding out;
  auto cut = [b, e](auto& a, const auto& s) { a.assign(s.begin() + b, s.begin() + e); };
  cut(out.ids, src.ids);
  cut(out.type_ids, src.type_ids);
  cut(out.attention_mask, src.attention_mask);
  cut(out.special_tokens_mask, src.special_tokens_mask);
  cut(out.tokens, src.tokens);
  cut(out.offsets, src.offsets);
  cut(out.byte_offsets, src.byte_offsets);
  cut(out.word_ids, src.word_ids);
  cut(out.sequence_ids, src.sequence_ids);
  return out;
}

/// @brief HF's `Encoding::truncate`: returns the windows of at most `max_len` positions,
/// consecutive windows sharing `stride` positions; the first is the kept part. `right`
/// keeps the start (windows go left to right), otherwise the end.
/// `all` false: only the kept part (the overflowing windows are not wanted).
/// @throws TokenizerError if stride >= max_len (HF panics there).
/// `starts`, when given, receives where each window starts in `e`.
inline std::vector<Encoding> windows(const Encoding& e, std::size_t max_len, std::size_t stride,
                                     bool right, bool all = true,
                                     std::vector<std::size_t>* starts = nullptr) {
  const std::size_t n = e.ids.size();
  std::vector<Encoding> out;
  std::vector<std::size_t> ignored;
  auto& at = starts ? *starts : ignored;
  at.clear();
  if (max_len >= n) {
    out.push_back(e);
    at.push_back(0);
    return out;
  }
  if (max_len == 0) {
    out.emplace_back();
    at.push_back(n);
    if (all) {
      out.push_back(e);
      at.push_back(0);
    }
    return out;
  }
  if (stride >= max_len)
    throw TokenizerError("truncation: stride (" + std::to_string(stride) +
                         ") must be smaller than the space left for the sequence (" +
                         std::to_string(max_len) + ", max_length minus special tokens)");
  if (!all) {
    out.push_back(right ? slice(e, 0, max_len) : slice(e, n - max_len, n));
    at.push_back(right ? 0 : n - max_len);
    return out;
  }
  const std::size_t step = max_len - stride;
  if (right) {
    for (std::size_t start = 0; start < n; start += step) {
      const std::size_t stop = std::min(start + max_len, n);
      out.push_back(slice(e, start, stop));
      at.push_back(start);
      if (stop == n) break;
    }
  } else {
    for (std::size_t last = n; last > 0;) {  // `last` = stop of the window
      const std::size_t start = last < max_len ? 0 : last - max_len;
      out.push_back(slice(e, start, last));
      at.push_back(start);
      if (start == 0) break;
      if (last <= step) break;
      last -= step;
    }
  }
  return out;
}

/// @brief Applies a template to sequence A (and B when `b` is non-null).
inline Encoding apply_template(const std::vector<TemplatePiece>& tmpl, const Encoding& a,
                               const Encoding* b, bool add_special_tokens) {
  Encoding out;
  for (const auto& piece : tmpl) {
    if (piece.is_sequence) {
      const Encoding* s = piece.sequence == 0 ? &a : b;
      if (!s) continue;
      const std::size_t before = out.ids.size();
      append_positions(out, *s);
      for (std::size_t i = before; i < out.ids.size(); ++i) {
        out.type_ids[i] = piece.type_id;
        out.sequence_ids[i] = piece.sequence;
      }
    } else if (add_special_tokens) {
      for (std::size_t k = 0; k < piece.ids.size(); ++k) {
        out.ids.push_back(piece.ids[k]);
        out.type_ids.push_back(piece.type_id);
        out.attention_mask.push_back(1);
        out.special_tokens_mask.push_back(1);
        out.tokens.push_back(piece.tokens[k]);
        out.offsets.emplace_back(0, 0);
        out.byte_offsets.emplace_back(0, 0);
        out.word_ids.push_back(-1);
        out.sequence_ids.push_back(-1);
      }
    }
  }
  return out;
}

/// @brief Pads `e` (and its overflowing windows) to `target` positions.
inline void pad(Encoding& e, std::size_t target, std::int32_t pad_id, const std::string& pad_token,
                bool right) {
  for (auto& o : e.overflowing) pad(o, target, pad_id, pad_token, right);
  const std::size_t n = e.ids.size();
  if (n >= target) return;
  const std::size_t k = target - n;
  auto grow = [&](auto& v, const auto& value) {
    if (right) {
      v.insert(v.end(), k, value);
    } else {
      v.insert(v.begin(), k, value);
    }
  };
  grow(e.ids, pad_id);
  grow(e.type_ids, std::int32_t{0});
  grow(e.attention_mask, std::int32_t{0});
  grow(e.special_tokens_mask, std::int32_t{1});
  grow(e.tokens, pad_token);
  grow(e.offsets, std::pair<std::size_t, std::size_t>(0, 0));
  grow(e.byte_offsets, std::pair<std::size_t, std::size_t>(0, 0));
  grow(e.word_ids, std::int32_t{-1});
  grow(e.sequence_ids, std::int32_t{-1});
}

}  // namespace tokenizer_detail

/// @brief HF's TemplateProcessing (BertProcessing is the same with [CLS] / [SEP]).
class TemplatePostProcessor {
 public:
  TemplatePostProcessor() = default;
  /// @brief Post-processor from the single and pair templates.
  TemplatePostProcessor(std::vector<TemplatePiece> single, std::vector<TemplatePiece> pair)
      : single_(std::move(single)), pair_(std::move(pair)) {}

  /// @brief BERT's templates: [CLS] A [SEP] and [CLS] A [SEP] B:1 [SEP]:1.
  static TemplatePostProcessor bert(std::int32_t cls_id, const std::string& cls,
                                    std::int32_t sep_id, const std::string& sep) {
    auto sp = [](std::int32_t id, const std::string& t, std::int32_t type) {
      TemplatePiece p;
      p.ids = {id};
      p.tokens = {t};
      p.type_id = type;
      return p;
    };
    auto seq = [](int s, std::int32_t type) {
      TemplatePiece p;
      p.is_sequence = true;
      p.sequence = s;
      p.type_id = type;
      return p;
    };
    return TemplatePostProcessor(
        {sp(cls_id, cls, 0), seq(0, 0), sp(sep_id, sep, 0)},
        {sp(cls_id, cls, 0), seq(0, 0), sp(sep_id, sep, 0), seq(1, 1), sp(sep_id, sep, 1)});
  }

  /// @brief Number of special tokens added to a single text or a pair.
  std::size_t added_tokens(bool is_pair) const {
    std::size_t n = 0;
    for (const auto& p : is_pair ? pair_ : single_) n += p.is_sequence ? 0 : p.ids.size();
    return n;
  }

  /// @brief Builds the final encoding from the windows of A (and B): the first windows
  /// form the result, the other combinations its `overflowing`, in HF's order.
  Encoding process(const std::vector<Encoding>& a, const std::vector<Encoding>* b,
                   bool add_special_tokens) const {
    const auto& tmpl = b ? pair_ : single_;
    const Encoding* b0 = b ? &(*b)[0] : nullptr;
    auto with_b = [&](const Encoding& ai, std::size_t j) {  // A window + B's window j >= 1
      Encoding o = tokenizer_detail::apply_template(tmpl, ai, &(*b)[j], add_special_tokens);
      if (b_overflow_type_ != 0 && !add_special_tokens)
        for (std::size_t k = 0; k < o.ids.size(); ++k)
          if (o.sequence_ids[k] == 1) o.type_ids[k] = b_overflow_type_;
      return o;
    };
    Encoding out = tokenizer_detail::apply_template(tmpl, a[0], b0, add_special_tokens);
    // TemplateProcessing sets the type ids of the first windows only: the positions of
    // overflowing windows keep the sequence's own type id (A 0, B 1).
    auto raw = [&](Encoding o, bool a_over, bool b_over) {
      if (raw_overflow_types_)
        for (std::size_t k = 0; k < o.ids.size(); ++k)
          if ((o.sequence_ids[k] == 0 && a_over) || (o.sequence_ids[k] == 1 && b_over))
            o.type_ids[k] = o.sequence_ids[k];
      return o;
    };
    for (std::size_t i = 1; i < a.size(); ++i) {
      out.overflowing.push_back(
          raw(tokenizer_detail::apply_template(tmpl, a[i], b0, add_special_tokens), true, false));
      if (b)
        for (std::size_t j = 1; j < b->size(); ++j)
          out.overflowing.push_back(raw(with_b(a[i], j), true, true));
    }
    if (b)
      for (std::size_t j = 1; j < b->size(); ++j)
        out.overflowing.push_back(raw(with_b(a[0], j), false, true));
    return out;
  }

  /// @brief RobertaProcessing without special tokens sets every type id to 0 but those of
  /// B's overflowing windows (they keep B's 1): set `t` = 1 for that (0 = off).
  void set_b_overflow_type(std::int32_t t) { b_overflow_type_ = t; }
  /// @brief HF's TemplateProcessing: overflowing windows keep their own type ids (A 0, B 1).
  void set_raw_overflow_types(bool on) { raw_overflow_types_ = on; }

 private:
  std::int32_t b_overflow_type_ = 0;
  bool raw_overflow_types_ = false;
  std::vector<TemplatePiece> single_ = {TemplatePiece{true, 0, 0, {}, {}}};
  std::vector<TemplatePiece> pair_ = {TemplatePiece{true, 0, 0, {}, {}},
                                      TemplatePiece{true, 1, 1, {}, {}}};
};

}  // namespace bertpp
