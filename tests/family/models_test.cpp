// SPDX-License-Identifier: Apache-2.0
// Every family's base model and heads against HF transformers, in float (<= 1e-5) and
// double (<= 1e-9): the tiny random checkpoints of tools/make_family_fixtures.py. The base
// folder holds the encoder and the family's pre-training or masked-LM head; each head
// folder holds only its head's tensors (loaded on top of the base encoder).
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "reference.hpp"
#include "testutil.hpp"

namespace {

using bertpp::Encoding;
using bertpp::Matrix;
using bertpp::test::fixture;
using bertpp::test::Reference;

const char* const kCases[] = {"single", "pair", "batch"};

std::string dir(const std::string& family, const std::string& sub) {
  return fixture("family/" + family + "/" + sub);
}

template <typename T>
double tolerance() {
  return sizeof(T) == 4 ? 1e-5 : 1e-9;
}

// Compares per-sequence [len_i x w] matrices with HF's [B, L, w] (or [B, L] when w == 1)
// on the unmasked rows; returns the largest difference.
template <typename T>
double compare_rows(const std::vector<Matrix<T>>& got, const std::vector<T>& want,
                    const std::vector<Encoding>& batch, const std::string& what) {
  double worst = 0;
  EXPECT_EQ(got.size(), batch.size()) << what;
  for (std::size_t b = 0; b < got.size() && b < batch.size(); ++b) {
    const auto L = batch[b].ids.size();
    const auto w = static_cast<std::size_t>(got[b].cols());
    EXPECT_EQ(static_cast<std::size_t>(got[b].rows()), L) << what;
    for (std::size_t j = 0; j < L; ++j) {
      if (batch[b].attention_mask[j] == 0) continue;
      const T* g = got[b].data() + j * w;
      const T* e = want.data() + (b * L + j) * w;
      worst = std::max(worst, bertpp::test::max_abs_diff(g, e, w));
      EXPECT_TRUE(bertpp::test::all_close(
          g, e, w, tolerance<T>(),
          what + " sequence " + std::to_string(b) + " row " + std::to_string(j)));
    }
  }
  return worst;
}

template <typename T>
double compare_matrix(const Matrix<T>& got, const std::vector<T>& want, const std::string& what) {
  EXPECT_EQ(static_cast<std::size_t>(got.size()), want.size()) << what;
  if (static_cast<std::size_t>(got.size()) != want.size()) return 1e300;
  EXPECT_TRUE(bertpp::test::all_close(got.data(), want.data(), want.size(), tolerance<T>(), what));
  return bertpp::test::max_abs_diff(got.data(), want.data(), want.size());
}

template <typename T>
const char* type_name() {
  return sizeof(T) == 4 ? "float" : "double";
}

void report(const std::string& what, const char* type, double worst) {
  std::cout << "[ max abs diff ] " << what << " (" << type << "): " << worst << "\n";
}

// The per-token column `col` of [len_i x cols] matrices, as [len_i x 1] matrices.
template <typename T>
std::vector<Matrix<T>> column(const std::vector<Matrix<T>>& m, Eigen::Index col) {
  std::vector<Matrix<T>> out;
  for (const auto& x : m) out.push_back(x.col(col));
  return out;
}

class Family : public ::testing::TestWithParam<std::string> {
 protected:
  std::string family() const { return GetParam(); }
  Reference ref() const { return Reference(dir(family(), "reference.safetensors")); }
  bool has(const Reference& r, const std::string& key) const {
    try {
      r.info(key);
      return true;
    } catch (const std::runtime_error&) {
      return false;
    }
  }

  template <typename T>
  void base_model() {
    const auto model = bertpp::EncoderModel<T>::load(dir(family(), "base"));
    const Reference r = ref();
    const std::string tag = sizeof(T) == 4 ? "f32" : "f64";
    for (const char* c : {"single", "pair", "batch", "long"}) {
      const auto batch = r.batch(std::string(c) + ".");
      bertpp::ForwardOptions o;
      o.output_hidden_states = std::string(c) != "long";
      const auto out = model.forward(batch, o);
      const std::string key = std::string(c) + "." + tag + ".";
      const std::string what = family() + "/" + c;
      report(what + " last_hidden_state", type_name<T>(),
             compare_rows(out.last_hidden_state, r.floats<T>(key + "last_hidden_state"), batch,
                          what + " last_hidden_state"));
      const bool pooled = has(r, key + "pooler_output");
      EXPECT_EQ(model.has_pooler(), pooled) << what;
      if (pooled)
        compare_matrix(out.pooler_output, r.floats<T>(key + "pooler_output"),
                       what + " pooler_output");
      if (!o.output_hidden_states) continue;
      // Every hidden state, against HF's float64 run.
      const auto all = r.floats<T>(std::string(c) + ".f64.hidden_states");
      ASSERT_EQ(all.size() % out.hidden_states.size(), 0u) << what;
      const auto shape = r.shape(std::string(c) + ".f64.hidden_states");
      ASSERT_EQ(static_cast<std::size_t>(shape[0]), out.hidden_states.size())
          << what << ": number of hidden states";
      const std::size_t per = all.size() / out.hidden_states.size();
      double worst = 0;
      for (std::size_t l = 0; l < out.hidden_states.size(); ++l) {
        const std::vector<T> layer(all.begin() + static_cast<std::ptrdiff_t>(l * per),
                                   all.begin() + static_cast<std::ptrdiff_t>((l + 1) * per));
        worst = std::max(worst, compare_rows(out.hidden_states[l], layer, batch,
                                             what + " hidden_states[" + std::to_string(l) + "]"));
      }
      report(what + " hidden_states", type_name<T>(), worst);
    }
  }

  // Runs `run(batch)` on each case and compares with the float64 reference `key`.
  template <typename T, typename Run>
  void each_case(const std::string& head, const std::string& key, Run run) {
    const Reference r = ref();
    double worst = 0;
    for (const char* c : kCases) {
      const auto batch = r.batch(std::string(c) + ".");
      worst = std::max(worst, run(batch, r.floats<T>(std::string(c) + ".f64." + key),
                                  family() + "/" + c + " " + head + " " + key));
    }
    report(family() + " " + head + " " + key, type_name<T>(), worst);
  }

  bertpp::WeightStore head_store(const std::string& head) const {
    auto s = bertpp::WeightStore::from_dir(dir(family(), "base"));
    s.add_file(dir(family(), head + "/model.safetensors"));
    return s;
  }
  bertpp::EncoderConfig head_config(const std::string& head) const {
    return bertpp::EncoderConfig::from_file(dir(family(), head + "/config.json"));
  }

  template <typename T>
  void masked_lm(const std::string& head, const bertpp::MaskedLM<T>& m, const std::string& key) {
    each_case<T>(
        head, key,
        [&](const std::vector<Encoding>& b, const std::vector<T>& want, const std::string& what) {
          return compare_rows(m.forward(b), want, b, what);
        });
  }

  template <typename T>
  void heads() {
    const std::string f = family();
    // The base folder's own head.
    const std::string base = dir(f, "base");
    if (f == "albert" || f == "ernie") {
      const auto m = bertpp::PreTraining<T>::load(base);
      each_case<T>("base", "base.prediction_logits",
                   [&](const auto& b, const auto& want, const auto& what) {
                     return compare_rows(m.forward(b).prediction_logits, want, b, what);
                   });
      const std::string pair = f == "albert" ? "base.sop_logits" : "base.seq_relationship_logits";
      each_case<T>("base", pair, [&](const auto& b, const auto& want, const auto& what) {
        return compare_matrix(m.forward(b).seq_relationship_logits, want, what);
      });
    } else if (f == "electra") {
      const auto m = bertpp::ReplacedTokenDetection<T>::load(base);
      each_case<T>("base", "base.logits", [&](const auto& b, const auto& want, const auto& what) {
        return compare_rows(m.forward(b), want, b, what);
      });
    } else {
      masked_lm<T>("base", bertpp::MaskedLM<T>::load(base), "base.logits");
    }
    // The head folders.
    {
      const bertpp::SequenceClassification<T> m(head_config("seqcls"), head_store("seqcls"));
      EXPECT_EQ(m.labels().names, (std::vector<std::string>{"neg", "neutral", "pos"}));
      each_case<T>("seqcls", "seqcls.logits",
                   [&](const auto& b, const auto& want, const auto& what) {
                     return compare_matrix(m.forward(b), want, what);
                   });
    }
    {
      const bertpp::TokenClassification<T> m(head_config("ner"), head_store("ner"));
      each_case<T>("ner", "ner.logits", [&](const auto& b, const auto& want, const auto& what) {
        return compare_rows(m.forward(b), want, b, what);
      });
    }
    {
      const bertpp::QuestionAnswering<T> m(head_config("qa"), head_store("qa"));
      each_case<T>("qa", "qa.start_logits", [&](const auto& b, const auto& want, const auto& what) {
        return compare_rows(column(m.forward(b), 0), want, b, what);
      });
      each_case<T>("qa", "qa.end_logits", [&](const auto& b, const auto& want, const auto& what) {
        return compare_rows(column(m.forward(b), 1), want, b, what);
      });
    }
    if (has(ref(), "single.f64.mlm.logits"))  // a whole model (see the fixture script)
      masked_lm<T>("mlm", bertpp::MaskedLM<T>::load(dir(f, "mlm")), "mlm.logits");
    if (f == "electra")  // the generator's head on the discriminator's encoder
      masked_lm<T>("generator",
                   bertpp::MaskedLM<T>(head_config("generator"), head_store("generator")),
                   "generator.logits");
    if (f == "ernie") {
      const auto m = bertpp::NextSentence<T>::load(dir(f, "nsp"));  // a whole model
      each_case<T>("nsp", "nsp.logits", [&](const auto& b, const auto& want, const auto& what) {
        return compare_matrix(m.forward(b), want, what);
      });
    }
  }
};

TEST_P(Family, BaseModelFloat) { base_model<float>(); }
TEST_P(Family, BaseModelDouble) { base_model<double>(); }
TEST_P(Family, HeadsFloat) { heads<float>(); }
TEST_P(Family, HeadsDouble) { heads<double>(); }

TEST_P(Family, StrictLoadingOfTheBaseFolderUsesEveryTensor) {
  // The base folder holds the encoder and its head: the encoder alone reports the head's
  // tensors unused, and the task model consumes all of them.
  const auto model = bertpp::EncoderModel<float>::load(dir(family(), "base"));
  EXPECT_FALSE(model.unused_tensors().empty());
  EXPECT_EQ(model.prefix(), model.config().base_prefix());
  bertpp::LoadOptions strict;
  strict.strict = true;
  if (family() == "albert" || family() == "ernie")
    EXPECT_NO_THROW(bertpp::PreTraining<float>::load(dir(family(), "base"), strict));
  else if (family() == "electra")
    EXPECT_NO_THROW(bertpp::ReplacedTokenDetection<float>::load(dir(family(), "base"), strict));
  else
    EXPECT_NO_THROW(bertpp::MaskedLM<float>::load(dir(family(), "base"), strict));
}

TEST(MPNet, RelativePositionBucketsAreHfs) {
  const Reference r(dir("mpnet", "reference.safetensors"));
  const auto rel = r.ints("relative_position"), want = r.ints("relative_position_bucket");
  ASSERT_EQ(rel.size(), want.size());
  for (std::size_t i = 0; i < rel.size(); ++i)
    EXPECT_EQ(bertpp::RelativeBias<float>::bucket_of(rel[i]), want[i])
        << "relative position " << rel[i];
}

INSTANTIATE_TEST_SUITE_P(Hf, Family,
                         ::testing::Values("distilbert", "roberta", "xlm-roberta", "albert",
                                           "electra", "ernie", "mpnet"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
