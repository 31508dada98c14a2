// SPDX-License-Identifier: Apache-2.0
// A TF2 SavedModel of a BERT encoder as TF Model Garden exports it for TF Hub (written by
// tools/make_tf_fixtures.py from the tiny random BERT): loaded through its object graph,
// against the SavedModel's own outputs run by TensorFlow (float32) and HF's (float, double).
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <filesystem>
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
using bertpp::test::masked_diff;
using bertpp::test::read_bytes;
using bertpp::test::Reference;
using bertpp::test::ScratchDir;
using bertpp::test::write_bytes;

const std::string kSavedModelDir = fixture("tf/bert_en_uncased_L-2_H-36_A-6");

template <typename T>
void check(const char* tag, double tol, bool with_tf) {
  const Reference ref(kSavedModelDir + "/reference.safetensors");
  bertpp::LoadOptions strict;
  strict.strict = true;  // every float variable of the SavedModel is an encoder weight
  const auto model = bertpp::BertModel<T>::load(kSavedModelDir, strict);
  EXPECT_EQ(model.prefix(), "");
  for (const std::string c : {"single", "pair", "batch", "long"}) {
    const auto batch = ref.batch(c + ".");
    const auto out = model.forward(batch);
    for (const std::string& src :
         with_tf ? std::vector<std::string>{"tf.", "hf."} : std::vector<std::string>{"hf."}) {
      const std::string k = src + c + "." + tag + ".";
      const double worst =
          masked_diff(out.last_hidden_state, ref.floats<T>(k + "last_hidden_state"), batch);
      const double pd = dense_diff(out.pooler_output, ref.floats<T>(k + "pooler_output"));
      std::cout << "[ max abs diff ] SavedModel " << k << "last_hidden_state: " << worst
                << ", pooler_output: " << pd << "\n";
      EXPECT_LE(worst, tol) << k;
      EXPECT_LE(pd, tol) << k;
    }
  }
}

TEST(TfSavedModel, EncoderMatchesTensorFlowAndHfInFloat) { check<float>("f32", 1e-5, true); }
TEST(TfSavedModel, EncoderMatchesHfInDouble) { check<double>("f64", 1e-9, false); }

TEST(TfSavedModel, ConfigDerivedFromTheVariablesEqualsConfigJson) {
  const auto derived = bertpp::tf2_bert_config(kSavedModelDir);
  const auto written = bertpp::BertConfig::from_file(kSavedModelDir + "/config.json");
  EXPECT_EQ(derived.vocab_size, written.vocab_size);
  EXPECT_EQ(derived.hidden_size, written.hidden_size);
  EXPECT_EQ(derived.num_hidden_layers, written.num_hidden_layers);
  EXPECT_EQ(derived.num_attention_heads, written.num_attention_heads);
  EXPECT_EQ(derived.intermediate_size, written.intermediate_size);
  EXPECT_EQ(derived.max_position_embeddings, written.max_position_embeddings);
  EXPECT_EQ(derived.type_vocab_size, written.type_vocab_size);
  EXPECT_EQ(derived.hidden_act, written.hidden_act);
  EXPECT_EQ(derived.layer_norm_eps, written.layer_norm_eps);
  // A SavedModel without config.json: the derived config and the store give TF's outputs.
  const Reference ref(kSavedModelDir + "/reference.safetensors");
  const bertpp::BertModel<float> model(derived, bertpp::WeightStore::from_dir(kSavedModelDir));
  const auto batch = ref.batch("batch.");
  const auto out = model.forward(batch);
  EXPECT_LE(masked_diff(out.last_hidden_state, ref.floats<float>("tf.batch.f32.last_hidden_state"),
                        batch),
            1e-5);
}

TEST(TfSavedModel, ReadsDoLowerCaseFromTheObjectGraph) {
  EXPECT_TRUE(bertpp::is_tf_saved_model(kSavedModelDir));
  EXPECT_EQ(bertpp::tf2_do_lower_case(kSavedModelDir), std::optional<bool>(true));
  // The keys are Hub's `variables/N/...`: the names come from the object graph.
  const auto bundle = bertpp::TfBundle::open(kSavedModelDir + "/variables/variables");
  EXPECT_NE(bundle->find("variables/0/.ATTRIBUTES/VARIABLE_VALUE"), nullptr);
  const auto store = bertpp::WeightStore::from_dir(kSavedModelDir);
  EXPECT_EQ(store.find("encoder.layer.1.attention.self.query.weight")->shape,
            (std::vector<std::int64_t>{36, 36}));
  EXPECT_EQ(store.find("encoder.layer.1.attention.self.query.bias")->shape,
            (std::vector<std::int64_t>{36}));
  EXPECT_EQ(store.find("encoder.layer.0.attention.output.dense.weight")->shape,
            (std::vector<std::int64_t>{36, 36}));
}

TEST(TfSavedModel, MapsTf2NamesWhateverTheScope) {
  bertpp::detail::Tf2Layout layout;
  EXPECT_EQ(bertpp::detail::tf2_to_hf_name(
                "bert_encoder/transformer/layer_3/self_attention/query/kernel:0", layout),
            "encoder.layer.3.attention.self.query.weight");
  EXPECT_EQ(layout, bertpp::detail::Tf2Layout::qkv_kernel);
  EXPECT_EQ(bertpp::detail::tf2_to_hf_name(
                "transformer/layer_0/self_attention/attention_output/kernel", layout),
            "encoder.layer.0.attention.output.dense.weight");
  EXPECT_EQ(layout, bertpp::detail::Tf2Layout::out_kernel);
  EXPECT_EQ(bertpp::detail::tf2_to_hf_name("model/word_embeddings/embeddings", layout),
            "embeddings.word_embeddings.weight");
  EXPECT_EQ(bertpp::detail::tf2_to_hf_name("my_word_embeddings/embeddings", layout), "");
  EXPECT_EQ(bertpp::detail::tf2_to_hf_name("xtransformer/layer_0/output/kernel", layout), "");
  EXPECT_EQ(bertpp::detail::tf2_to_hf_name("transformer/layer_x/output/kernel", layout), "");
  EXPECT_EQ(bertpp::detail::tf2_to_hf_name("transformer/layer_99999999999999999999/output/kernel",
                                           layout),
            "");
}

TEST(TfSavedModel, TokenizerFromTheAssetsAndTheLowerCaseFlag) {
  bertpp::TokenizerOptions o;
  o.do_lower_case = bertpp::tf2_do_lower_case(kSavedModelDir).value_or(true);
  const auto tok = bertpp::Tokenizer::from_vocab_file(kSavedModelDir + "/assets/vocab.txt", o);
  EXPECT_EQ(tok.encode("The Dog").tokens,
            (std::vector<std::string>{"[CLS]", "the", "dog", "[SEP]"}));
  // Tokenizer::load finds assets/vocab.txt and the do_lower_case variable itself.
  const auto loaded = bertpp::Tokenizer::load(kSavedModelDir);
  EXPECT_TRUE(loaded.options().do_lower_case);
  EXPECT_EQ(loaded.encode("The Dog").tokens, tok.encode("The Dog").tokens);
  EXPECT_EQ(loaded.vocab_size(), tok.vocab_size());
}

TEST(TfSavedModel, TokenizerLowerCaseFromTheVariableElseTheName) {
  // A SavedModel whose do_lower_case variable is false keeps case, whatever its name; one
  // without variables goes by its folder's name.
  ScratchDir dir;
  std::filesystem::copy(kSavedModelDir, dir.path("bert_en_uncased"),
                        std::filesystem::copy_options::recursive);
  std::filesystem::create_directories(dir.path("bert_en_cased_preprocess/assets"));
  std::filesystem::copy_file(kSavedModelDir + "/assets/vocab.txt",
                             dir.path("bert_en_cased_preprocess/assets/vocab.txt"));
  EXPECT_FALSE(
      bertpp::Tokenizer::load(dir.path("bert_en_cased_preprocess")).options().do_lower_case);
  EXPECT_FALSE(bertpp::TfHubPreprocessor::load(dir.path("bert_en_cased_preprocess")).lower_case());
  EXPECT_TRUE(bertpp::Tokenizer::load(dir.path("bert_en_uncased")).options().do_lower_case);
  EXPECT_TRUE(bertpp::TfHubPreprocessor::load(dir.path("bert_en_uncased")).lower_case());
  // tokenizer_config.json, when there is one, decides.
  write_bytes(dir.path("bert_en_uncased/tokenizer_config.json"), R"({"do_lower_case": false})");
  EXPECT_FALSE(bertpp::Tokenizer::load(dir.path("bert_en_uncased")).options().do_lower_case);
}

TEST(TfSavedModel, TfHubPreprocessingAndOutputNames) {
  // bert_en_uncased_preprocess + the encoder: TF Hub's input and output names.
  bertpp::TfHubPreprocessOptions po;
  po.seq_length = 16;
  const auto pre = bertpp::TfHubPreprocessor::load(kSavedModelDir, po);
  const auto in = pre.preprocess(std::vector<std::pair<std::string, std::string>>{
      {"the dog is cute", "he likes playing"}, {"a cat", "the end"}});
  const auto model = bertpp::BertModel<float>::load(kSavedModelDir);
  bertpp::Context ctx(1);
  const auto rows = in.encodings();
  const auto out = bertpp::tfhub_forward(model, rows, ctx);
  bertpp::ForwardOptions fo;
  fo.output_hidden_states = true;
  const auto plain = model.forward(rows, ctx, fo);
  ASSERT_EQ(out.sequence_output.size(), 2u);
  ASSERT_EQ(out.encoder_outputs.size(), 2u);  // one per layer, embeddings not included
  EXPECT_EQ(out.sequence_output[0].rows(), 16);
  EXPECT_TRUE(out.pooled_output == plain.pooler_output);
  for (std::size_t b = 0; b < 2; ++b) {
    EXPECT_TRUE(out.sequence_output[b] == plain.last_hidden_state[b]);
    EXPECT_TRUE(out.encoder_outputs[1][b] == out.sequence_output[b]);
    EXPECT_TRUE(out.encoder_outputs[0][b] == plain.hidden_states[1][b]);
  }
  // TF's own outputs on the reference inputs, under TF Hub's names.
  const Reference ref(kSavedModelDir + "/reference.safetensors");
  const auto batch = ref.batch("batch.");
  const auto tf = bertpp::tfhub_forward(model, batch, ctx);
  EXPECT_LE(dense_diff(tf.pooled_output, ref.floats<float>("tf.batch.f32.pooler_output")), 1e-5);
  EXPECT_LE(
      masked_diff(tf.sequence_output, ref.floats<float>("tf.batch.f32.last_hidden_state"), batch),
      1e-5);
}

TEST(TfSavedModel, CorruptObjectGraphIsAFormatError) {
  ScratchDir dir;
  std::filesystem::copy(kSavedModelDir, dir.path(), std::filesystem::copy_options::recursive);
  const auto e = *bertpp::TfBundle::open(kSavedModelDir + "/variables/variables")
                      ->find("_CHECKPOINTABLE_OBJECT_GRAPH");
  const std::string data_path = dir.path("variables/variables.data-00000-of-00001");
  std::string data = read_bytes(data_path);
  data[static_cast<std::size_t>(e.offset + e.size - 10)] ^= 0x01;
  write_bytes(data_path, data);
  expect_error_naming<bertpp::FormatError>([&] { bertpp::BertModel<float>::load(dir.path()); },
                                           {"_CHECKPOINTABLE_OBJECT_GRAPH", "crc32c mismatch"});
}

TEST(TfSavedModel, ObjectGraphParserSurvivesTruncationsAndFlips) {
  const auto bundle = bertpp::TfBundle::open(kSavedModelDir + "/variables/variables");
  const std::string good = bundle->strings("_CHECKPOINTABLE_OBJECT_GRAPH").at(0);
  EXPECT_GT(bertpp::TfObjectGraph::parse(good, "graph").nodes.size(), 39u);
  int refused = 0;
  for (std::size_t n = 0; n < good.size(); n += 13) {
    std::string cut = good.substr(0, n), flip = good;
    flip[n] = static_cast<char>(flip[n] ^ 0xA5);
    for (const std::string* bytes : {&cut, &flip}) try {
        (void)bertpp::TfObjectGraph::parse(*bytes, "graph");
      } catch (const bertpp::FormatError&) {
        ++refused;
      }
  }
  EXPECT_GT(refused, 0);
}

TEST(TfSavedModel, BundleWithoutObjectGraphIsAFormatError) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.path("variables"));
  for (const char* ext : {".index", ".data-00000-of-00001"})
    write_bytes(dir.path("variables/variables") + ext, read_bytes(fixture("tf/dtypes.ckpt") + ext));
  expect_error_naming<bertpp::FormatError>([&] { bertpp::WeightStore::from_dir(dir.path()); },
                                           {"variables.index", "_CHECKPOINTABLE_OBJECT_GRAPH"});
  EXPECT_EQ(bertpp::tf2_do_lower_case(dir.path()), std::nullopt);
}

}  // namespace
