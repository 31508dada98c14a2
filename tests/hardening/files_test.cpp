// SPDX-License-Identifier: Apache-2.0
// Files from outside: shard names that leave the model folder, error messages that would
// echo a file's bytes, head.json fields of the wrong type or range, config fields of the
// wrong type.
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "scratch.hpp"
#include "testutil.hpp"

namespace {

using bertpp::test::float_bytes;
using bertpp::test::safetensors_image;
using bertpp::test::ScratchDir;
using bertpp::test::write_bytes;

const std::string kSecret = "root:x:0:0:SECRETWORD:/root:/bin/bash\n";

// A folder whose index names `shard`, and a secret file beside the folder.
struct IndexedFolder {
  ScratchDir scratch;
  std::string model;
  std::string secret;
  explicit IndexedFolder(const std::string& shard) {
    model = scratch.path("model");
    std::filesystem::create_directories(model);
    secret = scratch.path("secret.txt");
    write_bytes(secret, kSecret);
    write_bytes(model + "/model.safetensors.index.json",
                R"({"weight_map":{"w":")" + shard + R"("}})");
  }
};

// Expects WeightStore::from_dir(folder) to throw FormatError naming `part`, without the secret.
void expect_shard_refused(const IndexedFolder& f, const std::string& part) {
  try {
    bertpp::WeightStore::from_dir(f.model);
    FAIL() << "accepted a shard outside the folder";
  } catch (const bertpp::FormatError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(part), std::string::npos) << m;
    EXPECT_NE(m.find("model.safetensors.index.json"), std::string::npos) << m;
    EXPECT_EQ(m.find("SECRET"), std::string::npos) << m;
    EXPECT_EQ(m.find("root:"), std::string::npos) << m;
  }
}

TEST(ShardPaths, RefusesDotDot) {
  IndexedFolder f("../secret.txt");
  expect_shard_refused(f, "'..'");
  IndexedFolder g("a/../../secret.txt");
  expect_shard_refused(g, "'..'");
  IndexedFolder h("../../../../../../../../etc/passwd");
  expect_shard_refused(h, "'..'");
}

TEST(ShardPaths, RefusesAbsolutePaths) {
  IndexedFolder f("/etc/passwd");
  expect_shard_refused(f, "absolute");
}

TEST(ShardPaths, RefusesSymlinksOutOfTheFolder) {
  IndexedFolder f("link.safetensors");
  std::filesystem::create_symlink(f.secret, f.model + "/link.safetensors");
  expect_shard_refused(f, "outside the folder");
  IndexedFolder g("sub/x.safetensors");
  std::filesystem::create_directory_symlink(f.scratch.path(), g.model + "/sub");
  write_bytes(g.scratch.path("x.safetensors"), kSecret);
  expect_shard_refused(g, "outside the folder");
}

TEST(ShardPaths, AcceptsShardsInsideTheFolder) {
  IndexedFolder f("sub/w.safetensors");
  std::filesystem::create_directories(f.model + "/sub");
  write_bytes(f.model + "/sub/w.safetensors",
              safetensors_image(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                float_bytes({1.f})));
  // A symlink that stays inside the folder is fine too.
  std::filesystem::create_symlink("sub/w.safetensors", f.model + "/same.safetensors");
  const auto store = bertpp::WeightStore::from_dir(f.model);
  ASSERT_NE(store.find("w"), nullptr);
  write_bytes(f.model + "/model.safetensors.index.json",
              R"({"weight_map":{"w":"same.safetensors"}})");
  EXPECT_NE(bertpp::WeightStore::from_dir(f.model + "/").find("w"), nullptr);
}

// Opening `bytes` as safetensors fails with a message that holds none of `hidden`.
void expect_no_echo(const std::string& bytes, const std::vector<std::string>& hidden) {
  ScratchDir dir;
  write_bytes(dir.path("x.safetensors"), bytes);
  try {
    bertpp::SafeTensorsFile::open(dir.path("x.safetensors"));
    FAIL() << "accepted";
  } catch (const bertpp::FormatError& e) {
    for (const auto& h : hidden)
      EXPECT_EQ(std::string(e.what()).find(h), std::string::npos) << e.what();
  }
}

TEST(ErrorMessages, NeverEchoFileBytes) {
  // A text file read as safetensors: its first 8 bytes as a number would be its contents.
  expect_no_echo(kSecret, {"SECRET", "root", "4294967"});
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<unsigned char>(kSecret[static_cast<std::size_t>(i)]);
  expect_no_echo(kSecret, {std::to_string(n)});
  // A header that is not JSON: nlohmann's message quotes the last token it read.
  expect_no_echo(safetensors_image("{SECRETWORD: 1}", ""), {"SECRET"});
  expect_no_echo(safetensors_image("[\"a\", SECRETWORD]", ""), {"SECRET"});
  // config.json and an index that are not JSON.
  ScratchDir dir;
  write_bytes(dir.path("config.json"), "SECRETWORD");
  try {
    bertpp::BertConfig::from_file(dir.path("config.json"));
    FAIL();
  } catch (const bertpp::FormatError& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("byte"), std::string::npos) << e.what();
  }
  write_bytes(dir.path("model.safetensors.index.json"), "{SECRETWORD");
  try {
    bertpp::WeightStore::from_dir(dir.path());
    FAIL();
  } catch (const bertpp::FormatError& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
  }
}

// head.json with `field` replaced by `value` (raw JSON text) fails with FormatError naming it.
void expect_head_refused(const std::string& field, const std::string& value,
                         const std::string& part) {
  ScratchDir dir;
  nlohmann::json j = nlohmann::json::parse(R"({"format": "bertpp-linear-head", "version": 1,
      "labels": ["a", "b"], "activation": "sigmoid", "pooling": "mean", "normalize": false,
      "max_length": 8, "encoder": {"name": "x", "hidden_size": 4, "weights_digest": "sampled64:0000000000000000"}})");
  const auto v = nlohmann::json::parse(value);
  if (field.rfind("encoder.", 0) == 0)
    j["encoder"][field.substr(8)] = v;
  else
    j[field] = v;
  write_bytes(dir.path("head.json"), j.dump());
  try {
    bertpp::LinearHead::load(dir.path());
    ADD_FAILURE() << field << " = " << value << " accepted";
  } catch (const bertpp::FormatError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("field '" + field + "'"), std::string::npos) << m;
    EXPECT_NE(m.find(part), std::string::npos) << m;
  }
}

TEST(HeadJson, EveryNumericFieldIsAnIntegerInRange) {
  for (const char* bad : {"1e300", "-1", "1099511627776", "18446744073709551615", "0", "1", "8.5",
                          "\"8\"", "true", "null"})
    expect_head_refused("max_length", bad, "integer");
  expect_head_refused("encoder.hidden_size", "1e300", "integer");
  expect_head_refused("encoder.hidden_size", "-4", "integer");
  expect_head_refused("encoder.hidden_size", "0", "integer");
  expect_head_refused("version", "2", "integer in [1, 1]");
  expect_head_refused("version", "1.0", "integer");
}

TEST(HeadJson, EveryOtherFieldHasItsType) {
  expect_head_refused("labels", "[1, 2]", "strings");
  expect_head_refused("labels", "\"ab\"", "list of strings");
  expect_head_refused("labels", "[\"a\", \"b\", \"c\"]", "3 labels");
  expect_head_refused("activation", "5", "string");
  expect_head_refused("activation", "\"relu\"", "sigmoid or softmax");
  expect_head_refused("pooling", "\"median\"", "unknown pooling mode");
  expect_head_refused("pooling", "[]", "string");
  expect_head_refused("normalize", "\"yes\"", "true or false");
  expect_head_refused("format", "1", "string");
  expect_head_refused("encoder", "[]", "object");
  expect_head_refused("encoder.weights_digest", "7", "string");
  expect_head_refused("encoder.weights_digest", "\"md5:00\"", "sampled64");
  expect_head_refused("encoder.name", "null", "string");
}

// config.json fields the heads read: a wrong type is a ConfigError naming the field.
TEST(ConfigJson, HeadFieldsAreTypeChecked) {
  auto expect_config_refused = [](const std::string& json, const std::string& field) {
    try {
      bertpp::BertConfig::from_json(nlohmann::json::parse(json), "config.json");
      ADD_FAILURE() << json << " accepted";
    } catch (const bertpp::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("field '" + field + "'"), std::string::npos) << e.what();
    }
  };
  expect_config_refused(R"({"tie_word_embeddings": "false"})", "tie_word_embeddings");
  expect_config_refused(R"({"tie_word_embeddings": 0})", "tie_word_embeddings");
  expect_config_refused(R"({"num_labels": "3"})", "num_labels");
  expect_config_refused(R"({"num_labels": 3.5})", "num_labels");
  expect_config_refused(R"({"num_labels": -1})", "num_labels");
  const auto c = bertpp::BertConfig::from_json(
      nlohmann::json::parse(R"({"tie_word_embeddings": false, "num_labels": 3})"));
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.declared_num_labels, 3);
  EXPECT_TRUE(bertpp::BertConfig::from_json(nlohmann::json::object()).tie_word_embeddings);
}

// A copy of the tiny pre-training encoder (and a vocabulary) in a scratch folder.
std::string copy_encoder(const ScratchDir& scratch, const std::string& name) {
  const std::string dir = scratch.path(name);
  std::filesystem::copy(bertpp::test::fixture("heads/pretraining"), dir,
                        std::filesystem::copy_options::recursive);
  std::filesystem::copy_file(bertpp::test::fixture("vocab/bert-base-uncased/vocab.txt"),
                             dir + "/vocab.txt");
  return dir;
}

// Flips one byte (at `at` of the tensor's data) of tensor `tensor` in `dir`/model.safetensors.
void flip_byte(const std::string& dir, const std::string& tensor, std::size_t at) {
  const std::string path = dir + "/model.safetensors";
  std::fstream io(path, std::ios::binary | std::ios::in | std::ios::out);
  unsigned char len[8];
  io.read(reinterpret_cast<char*>(len), 8);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  std::string header(static_cast<std::size_t>(n), '\0');
  io.read(&header[0], static_cast<std::streamsize>(n));
  const auto j = nlohmann::json::parse(header);
  const auto begin = j.at(tensor).at("data_offsets")[0].get<std::uint64_t>();
  const auto offset = static_cast<std::streamoff>(8 + n + begin + at);
  io.seekg(offset);
  char c = 0;
  io.read(&c, 1);
  c = static_cast<char>(c ^ 0x40);
  io.seekp(offset);
  io.write(&c, 1);
  ASSERT_TRUE(io.good());
}

TEST(EncoderIdentity, SampledDigestRefusesAChangedWeightAndAnotherEncoder) {
  ScratchDir scratch;
  const std::string base = bertpp::test::fixture("heads/pretraining");
  const auto id = bertpp::EncoderIdentity::of_dir(base);
  EXPECT_EQ(id.weights_digest.rfind("sampled64:", 0), 0u);
  EXPECT_EQ(bertpp::EncoderIdentity::of_dir(copy_encoder(scratch, "same")).weights_digest,
            id.weights_digest);
  bertpp::LinearHead head;
  head.labels = {"a", "b"};
  head.encoder = id;
  // Another encoder: the tiny-bert fixture.
  EXPECT_THROW(head.check_encoder(
                   bertpp::EncoderIdentity::of_dir(bertpp::test::fixture("tiny-bert")), "tiny"),
               bertpp::WeightError);
  // One changed byte in a small tensor (hashed whole), and in the first, middle-sample and
  // last bytes of a large one (the word embeddings, 30522 x 32 F16 values: sampled).
  const auto file = bertpp::SafeTensorsFile::open(base + "/model.safetensors");
  const std::size_t big = file->tensors().at("bert.embeddings.word_embeddings.weight").nbytes;
  ASSERT_GT(big, 4096u);
  const std::vector<std::pair<std::string, std::size_t>> edits = {
      {"bert.embeddings.LayerNorm.weight", 5},
      {"bert.embeddings.word_embeddings.weight", 0},
      {"bert.embeddings.word_embeddings.weight", 7 * (big - 64) / 15 + 3},
      {"bert.embeddings.word_embeddings.weight", big - 1}};
  for (std::size_t i = 0; i < edits.size(); ++i) {
    const std::string dir = copy_encoder(scratch, "edit" + std::to_string(i));
    flip_byte(dir, edits[i].first, edits[i].second);
    const auto changed = bertpp::EncoderIdentity::of_dir(dir);
    EXPECT_NE(changed.weights_digest, id.weights_digest)
        << edits[i].first << " byte " << edits[i].second;
    EXPECT_THROW(head.check_encoder(changed, dir), bertpp::WeightError);
  }
}

TEST(EncoderIdentity, LegacyDigestOfOldHeadsIsStillChecked) {
  ScratchDir scratch;
  const std::string base = bertpp::test::fixture("heads/pretraining");
  const auto legacy = bertpp::EncoderIdentity::of_dir(base, "fnv1a64");
  EXPECT_EQ(legacy.weights_digest.rfind("fnv1a64:", 0), 0u);
  EXPECT_EQ(bertpp::EncoderIdentity::scheme_of(legacy.weights_digest), "fnv1a64");
  EXPECT_THROW(bertpp::EncoderIdentity::of_dir(base, "md5"), bertpp::ConfigError);
  // A head stored with the old digest loads with its encoder and is refused on another.
  const std::string head_dir = scratch.path("head");
  std::filesystem::create_directories(head_dir);
  bertpp::LinearHead head;
  head.labels = {"a", "b"};
  head.pooling = {"mean", false};
  head.encoder = legacy;
  head.weight = bertpp::Matrix<float>::Zero(1, 32);
  head.bias = bertpp::Vector<float>::Zero(1);
  head.save(head_dir);
  EXPECT_NO_THROW(bertpp::TextClassifier::load(copy_encoder(scratch, "same"), head_dir));
  const std::string other = copy_encoder(scratch, "other");
  flip_byte(other, "bert.embeddings.word_embeddings.weight", 12345);
  EXPECT_THROW(bertpp::TextClassifier::load(other, head_dir), bertpp::WeightError);
}

}  // namespace
