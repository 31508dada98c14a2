// SPDX-License-Identifier: Apache-2.0
// Google's original checkpoint layout (bert_config.json, vocab.txt, bert_model.ckpt.*),
// written by TensorFlow from the tiny random BERT: the encoder and the pre-training heads
// against TensorFlow's outputs and HF's, in float and double; the name mapping; and the
// checkpoint-level bad inputs (fixtures from tools/make_tf_fixtures.py).
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <iostream>

#include "bundle_edit.hpp"
#include "compare.hpp"
#include "reference.hpp"
#include "scratch.hpp"
#include "testutil.hpp"

namespace {

using bertpp::test::dense_diff;
using bertpp::test::expect_error_naming;
using bertpp::test::fixture;
using bertpp::test::IndexImage;
using bertpp::test::masked_diff;
using bertpp::test::read_bytes;
using bertpp::test::Reference;
using bertpp::test::ScratchDir;
using bertpp::test::write_bytes;

const std::string kCheckpointDir = fixture("tf/uncased_L-2_H-36_A-6");

void report(const std::string& what, double diff, double tol) {
  std::cout << "[ max abs diff ] " << what << ": " << diff << "\n";
  EXPECT_LE(diff, tol) << what;
}

template <typename T>
void check_encoder(const char* tag, double tol) {
  const Reference tf_ref(kCheckpointDir + "/reference.safetensors");
  const Reference hf_ref(fixture("tiny-bert/reference.safetensors"));
  const auto model = bertpp::BertModel<T>::load(kCheckpointDir);
  EXPECT_EQ(model.prefix(), "bert.");
  for (const std::string c : {"single", "pair", "batch", "long"}) {
    const auto batch = tf_ref.batch(c + ".");
    const auto out = model.forward(batch);
    const std::string k = c + "." + tag + ".";
    report("TF " + k + "last_hidden_state",
           masked_diff(out.last_hidden_state, tf_ref.floats<T>("tf." + k + "last_hidden_state"),
                       batch),
           tol);
    report("HF " + k + "last_hidden_state",
           masked_diff(out.last_hidden_state, hf_ref.floats<T>(k + "last_hidden_state"), batch),
           tol);
    report("TF " + k + "pooler_output",
           dense_diff(out.pooler_output, tf_ref.floats<T>("tf." + k + "pooler_output")), tol);
    report("HF " + k + "pooler_output",
           dense_diff(out.pooler_output, hf_ref.floats<T>(k + "pooler_output")), tol);
  }
}

TEST(TfCheckpoint, EncoderMatchesTensorFlowAndHfInFloat) { check_encoder<float>("f32", 1e-5); }
TEST(TfCheckpoint, EncoderMatchesTensorFlowAndHfInDouble) { check_encoder<double>("f64", 1e-9); }

template <typename T>
void check_heads(const char* tag, double tol) {
  const Reference ref(kCheckpointDir + "/reference.safetensors");
  bertpp::LoadOptions strict;
  strict.strict = true;  // every tensor but the skipped optimizer slots and global_step is used
  const auto pre = bertpp::PreTraining<T>::load(kCheckpointDir, strict);
  const auto batch = ref.batch("batch.");
  const auto out = pre.forward(batch);
  const std::string k = std::string("batch.") + tag + ".";
  for (const std::string src : {"tf.", "hf."}) {
    report(src + k + "prediction_logits",
           masked_diff(out.prediction_logits, ref.floats<T>(src + k + "prediction_logits"), batch),
           tol);
    report(
        src + k + "seq_relationship_logits",
        dense_diff(out.seq_relationship_logits, ref.floats<T>(src + k + "seq_relationship_logits")),
        tol);
  }
  const auto mlm = bertpp::MaskedLM<T>::load(kCheckpointDir).forward(batch);
  EXPECT_LE(masked_diff(mlm, ref.floats<T>("tf." + k + "prediction_logits"), batch), tol);
  const auto nsp = bertpp::NextSentence<T>::load(kCheckpointDir).forward(batch);
  EXPECT_LE(dense_diff(nsp, ref.floats<T>("tf." + k + "seq_relationship_logits")), tol);
}

TEST(TfCheckpoint, PreTrainingHeadsMatchTensorFlowAndHfInFloat) { check_heads<float>("f32", 1e-5); }
TEST(TfCheckpoint, PreTrainingHeadsMatchTensorFlowAndHfInDouble) {
  check_heads<double>("f64", 1e-9);
}

TEST(TfCheckpoint, ReadsBertConfigJsonAndSkipsTrainingState) {
  EXPECT_FALSE(std::filesystem::exists(kCheckpointDir + "/config.json"));
  const auto c = bertpp::BertConfig::from_dir(kCheckpointDir);
  EXPECT_EQ(c.hidden_size, 36);
  EXPECT_EQ(c.intermediate_size, 37);
  EXPECT_NE(c.source.find("bert_config.json"), std::string::npos);
  const auto store = bertpp::WeightStore::from_dir(kCheckpointDir);
  const auto bundle = bertpp::TfBundle::open(kCheckpointDir + "/bert_model.ckpt");
  ASSERT_NE(bundle->find("global_step"), nullptr);
  ASSERT_NE(bundle->find("bert/pooler/dense/kernel/adam_m"), nullptr);
  for (const auto& n : store.names()) {
    EXPECT_EQ(n.find("adam"), std::string::npos) << n;
    EXPECT_EQ(n.find("global_step"), std::string::npos) << n;
  }
  // A kernel is transposed ([in, out] -> [out, in]); output_weights is not.
  EXPECT_EQ(store.find("bert.encoder.layer.0.intermediate.dense.weight")->shape,
            (std::vector<std::int64_t>{37, 36}));
  EXPECT_EQ(bundle->find("bert/encoder/layer_0/intermediate/dense/kernel")->shape,
            (std::vector<std::int64_t>{36, 37}));
  EXPECT_EQ(store.find("cls.seq_relationship.weight")->shape, (std::vector<std::int64_t>{2, 36}));
  // The encoder alone leaves the heads unused, and maps untransposed tensors in place.
  const auto model = bertpp::BertModel<float>::load(kCheckpointDir);
  EXPECT_TRUE(model.embeddings().word_embeddings().is_view());
  for (const auto& n : model.unused_tensors()) EXPECT_EQ(n.rfind("cls.", 0), 0u) << n;
}

TEST(TfCheckpoint, MapsGoogleNamesToHfNames) {
  bool t = false;
  EXPECT_EQ(bertpp::tf1_to_hf_name("bert/encoder/layer_11/attention/self/query/kernel", t),
            "bert.encoder.layer.11.attention.self.query.weight");
  EXPECT_TRUE(t);
  EXPECT_EQ(bertpp::tf1_to_hf_name("bert/embeddings/LayerNorm/gamma", t),
            "bert.embeddings.LayerNorm.weight");
  EXPECT_FALSE(t);
  EXPECT_EQ(bertpp::tf1_to_hf_name("bert/embeddings/word_embeddings", t),
            "bert.embeddings.word_embeddings.weight");
  EXPECT_EQ(bertpp::tf1_to_hf_name("cls/predictions/output_bias", t), "cls.predictions.bias");
  EXPECT_EQ(bertpp::tf1_to_hf_name("cls/seq_relationship/output_weights", t),
            "cls.seq_relationship.weight");
  EXPECT_FALSE(t);
  EXPECT_TRUE(bertpp::is_tf1_training_state("bert/pooler/dense/bias/adam_v"));
  EXPECT_TRUE(bertpp::is_tf1_training_state("global_step"));
  EXPECT_FALSE(bertpp::is_tf1_training_state("bert/pooler/dense/bias"));
}

// Copies the fixture folder into `dir` (under `name` when given).
std::string copy_fixture(const ScratchDir& dir, const std::string& name = "") {
  std::filesystem::create_directories(dir.path(name));
  for (const auto& e : std::filesystem::directory_iterator(kCheckpointDir))
    std::filesystem::copy_file(e.path(), dir.path(name) + "/" + e.path().filename().string());
  return dir.path(name);
}

TEST(TfCheckpoint, TokenizerLowercasesAsTheFolderNameSays) {
  // Google's uncased and cased releases differ only in do_lower_case; the vocab has only
  // lower-case words, so "The Dog" is [the, dog] when lowercased and [UNK, UNK] when not.
  const auto uncased = bertpp::Tokenizer::load(kCheckpointDir).encode("The Dog");
  EXPECT_EQ(uncased.tokens, (std::vector<std::string>{"[CLS]", "the", "dog", "[SEP]"}));
  ScratchDir dir;
  const auto cased =
      bertpp::Tokenizer::load(copy_fixture(dir, "cased_L-2_H-36_A-6")).encode("The Dog");
  EXPECT_EQ(cased.tokens, (std::vector<std::string>{"[CLS]", "[UNK]", "[UNK]", "[SEP]"}));
  const std::string multi = copy_fixture(dir, "multi_cased_L-2_H-36_A-6");
  write_bytes(multi + "/tokenizer_config.json",
              "{\"do_lower_case\": true}");  // an explicit option wins
  EXPECT_EQ(bertpp::Tokenizer::load(multi).encode("The Dog").tokens, uncased.tokens);
}

TEST(TfCheckpoint, ShapeThatDisagreesWithTheConfigIsAWeightError) {
  ScratchDir dir;
  copy_fixture(dir);
  std::string cfg = read_bytes(dir.path("bert_config.json"));
  const auto at = cfg.find("\"intermediate_size\": 37");
  ASSERT_NE(at, std::string::npos);
  cfg.replace(at, 23, "\"intermediate_size\": 38");
  write_bytes(dir.path("bert_config.json"), cfg);
  expect_error_naming<bertpp::WeightError>(
      [&] { bertpp::BertModel<float>::load(dir.path()); },
      {"bert/encoder/layer_0/intermediate/dense/", "[37", "expected [38"});
}

TEST(TfCheckpoint, NonFloatVariableIsRefusedByName) {
  ScratchDir dir;
  copy_fixture(dir);
  IndexImage img(read_bytes(dir.path("bert_model.ckpt.index")));
  const auto& e = img.entry("bert/pooler/dense/bias");
  img.bytes()[e.value_at + 1] = 3;  // DT_INT32
  img.reseal(e);
  write_bytes(dir.path("bert_model.ckpt.index"), img.bytes());
  expect_error_naming<bertpp::FormatError>([&] { bertpp::BertModel<float>::load(dir.path()); },
                                           {"bert/pooler/dense/bias", "DT_INT32"});
}

TEST(TfCheckpoint, CorruptWeightIsAFormatError) {
  ScratchDir dir;
  copy_fixture(dir);
  const auto entry = *bertpp::TfBundle::open(kCheckpointDir + "/bert_model.ckpt")
                          ->find("bert/encoder/layer_1/output/dense/kernel");
  std::string data = read_bytes(dir.path("bert_model.ckpt.data-00000-of-00001"));
  data[static_cast<std::size_t>(entry.offset + entry.size / 2)] ^= 0x04;
  write_bytes(dir.path("bert_model.ckpt.data-00000-of-00001"), data);
  expect_error_naming<bertpp::FormatError>(
      [&] { bertpp::BertModel<float>::load(dir.path()); },
      {"bert/encoder/layer_1/output/dense/kernel", "crc32c mismatch"});
}

TEST(TfCheckpoint, MissingShardIsAnIoError) {
  ScratchDir dir;
  copy_fixture(dir);
  std::filesystem::remove(dir.path("bert_model.ckpt.data-00000-of-00001"));
  expect_error_naming<bertpp::IoError>([&] { bertpp::BertModel<float>::load(dir.path()); },
                                       {"bert_model.ckpt.data-00000-of-00001"});
}

std::string normal(const std::string& p) {
  return std::filesystem::path(p).lexically_normal().string();
}

TEST(TfCheckpoint, FindsTheCheckpointOfAFolder) {
  ScratchDir dir;
  EXPECT_EQ(bertpp::find_tf_checkpoint(dir.path()), "");
  write_bytes(dir.path("model.ckpt-100.index"), "");
  EXPECT_EQ(normal(bertpp::find_tf_checkpoint(dir.path())), normal(dir.path("model.ckpt-100")));
  write_bytes(dir.path("model.ckpt-200.index"), "");
  expect_error_naming<bertpp::IoError>([&] { bertpp::find_tf_checkpoint(dir.path()); },
                                       {"model.ckpt-100", "model.ckpt-200"});
  write_bytes(dir.path("checkpoint"),
              "model_checkpoint_path: \"model.ckpt-200\"\nall_model_checkpoint_paths: "
              "\"model.ckpt-100\"\n");
  EXPECT_EQ(normal(bertpp::find_tf_checkpoint(dir.path())), normal(dir.path("model.ckpt-200")));
  expect_error_naming<bertpp::IoError>([&] { bertpp::WeightStore::from_dir(dir.path() + "/none"); },
                                       {"ckpt.index"});
}

}  // namespace
