// SPDX-License-Identifier: Apache-2.0
// The tensor-bundle reader on files TensorFlow wrote (tools/make_tf_fixtures.py): every
// float dtype, the dtypes and layouts it refuses, and each corrupt-file case as a named error
// (the corrupt files are byte edits of the good fixture, in a scratch dir).
#include <bertpp/io/tf_bundle.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <vector>

#include "bundle_edit.hpp"
#include "reference.hpp"
#include "scratch.hpp"
#include "testutil.hpp"

namespace {

using bertpp::test::expect_error_naming;
using bertpp::test::fixture;
using bertpp::test::IndexImage;
using bertpp::test::read_bytes;
using bertpp::test::ScratchDir;
using bertpp::test::write_bytes;

const std::string kPrefix = fixture("tf/dtypes.ckpt");

// A copy of the dtypes bundle in `dir` (index and shard as given), returning its prefix.
std::string write_bundle(const ScratchDir& dir, const std::string& index, bool with_shard = true) {
  write_bytes(dir.path("b.index"), index);
  if (with_shard && !std::filesystem::exists(dir.path("b.data-00000-of-00001")))
    write_bytes(dir.path("b.data-00000-of-00001"), read_bytes(kPrefix + ".data-00000-of-00001"));
  return dir.path("b");
}

TEST(TfBundle, ReadsEveryFloatDtypeTensorFlowWrote) {
  const auto b = bertpp::TfBundle::open(kPrefix);
  const bertpp::test::Reference want(fixture("tf/dtypes_expected.safetensors"));
  const std::vector<std::pair<std::string, bertpp::DType>> cases = {{"f32", bertpp::DType::F32},
                                                                    {"f64", bertpp::DType::F64},
                                                                    {"f16", bertpp::DType::F16},
                                                                    {"bf16", bertpp::DType::BF16}};
  for (const auto& [name, dtype] : cases) {
    const auto t = b->tensor(name);
    EXPECT_EQ(t.dtype, dtype) << name;
    EXPECT_EQ(t.shape, (std::vector<std::int64_t>{3, 4})) << name;
    std::vector<double> got(t.numel());
    bertpp::detail::convert_floats<double>(t.dtype, t.data, got.size(), got.data());
    const auto expected = want.floats<double>(name);
    ASSERT_EQ(got.size(), expected.size());
    EXPECT_TRUE(bertpp::test::all_close(got.data(), expected.data(), got.size(), 0.0, name));
  }
}

TEST(TfBundle, RefusesOtherDtypesAndSlicedTensorsByName) {
  const auto b = bertpp::TfBundle::open(kPrefix);
  expect_error_naming<bertpp::FormatError>([&] { b->tensor("i32"); }, {"'i32'", "DT_INT32"});
  ASSERT_NE(b->find("sliced"), nullptr);
  EXPECT_TRUE(b->find("sliced")->sliced);
  expect_error_naming<bertpp::FormatError>([&] { b->tensor("sliced"); },
                                           {"'sliced'", "partitioned"});
  expect_error_naming<bertpp::WeightError>([&] { b->tensor("nope"); }, {"'nope'"});
}

TEST(TfBundle, TruncatedIndexIsAFormatError) {
  const std::string good = read_bytes(kPrefix + ".index");
  ScratchDir dir;
  expect_error_naming<bertpp::FormatError>(
      [&] { bertpp::TfBundle::open(write_bundle(dir, good.substr(0, 30))); },
      {"b.index", "48-byte footer"});
  expect_error_naming<bertpp::FormatError>(
      [&] { bertpp::TfBundle::open(write_bundle(dir, good.substr(0, good.size() - 1))); },
      {"b.index", "magic"});
  expect_error_naming<bertpp::FormatError>(
      [&] { bertpp::TfBundle::open(write_bundle(dir, good.substr(100))); }, {"b.index"});
}

TEST(TfBundle, BadMagicIsAFormatError) {
  std::string bytes = read_bytes(kPrefix + ".index");
  bytes.back() = 'x';
  ScratchDir dir;
  expect_error_naming<bertpp::FormatError>(
      [&] { bertpp::TfBundle::open(write_bundle(dir, bytes)); }, {"b.index", "bad magic"});
}

TEST(TfBundle, BlockChecksumMismatchIsAFormatError) {
  IndexImage img(read_bytes(kPrefix + ".index"));
  const auto& e = img.entry("f32");
  img.bytes()[e.value_at + e.value_len - 1] ^= 0x01;  // a byte of the stored crc32c field
  ScratchDir dir;
  expect_error_naming<bertpp::FormatError>(
      [&] { bertpp::TfBundle::open(write_bundle(dir, img.bytes())); },
      {"b.index", "data block", "crc32c mismatch"});
}

TEST(TfBundle, CompressedBlockIsRefused) {
  IndexImage img(read_bytes(kPrefix + ".index"));
  const auto& e = img.entry("f32");
  img.bytes()[e.block_at + e.block_size] = 1;  // trailer type: snappy
  img.reseal(e);
  ScratchDir dir;
  expect_error_naming<bertpp::FormatError>(
      [&] { bertpp::TfBundle::open(write_bundle(dir, img.bytes())); },
      {"b.index", "compressed", "snappy"});
}

TEST(TfBundle, TensorChecksumMismatchIsAFormatError) {
  ScratchDir dir;
  const std::string prefix = write_bundle(dir, read_bytes(kPrefix + ".index"));
  const auto entry = *bertpp::TfBundle::open(kPrefix)->find("f64");  // a copy: the bundle goes
  std::string data = read_bytes(prefix + ".data-00000-of-00001");
  data[static_cast<std::size_t>(entry.offset + 3)] ^= 0x10;
  write_bytes(prefix + ".data-00000-of-00001", data);
  const auto b = bertpp::TfBundle::open(prefix);
  EXPECT_NO_THROW(b->tensor("f32"));
  expect_error_naming<bertpp::FormatError>([&] { b->tensor("f64"); },
                                           {"b.data-00000-of-00001", "'f64'", "crc32c mismatch"});
}

TEST(TfBundle, EntryPastItsShardIsAFormatError) {
  IndexImage img(read_bytes(kPrefix + ".index"));
  const auto& e = img.entry("i32");
  std::size_t at = img.field(e, 0x20);  // offset: make its varint the largest of its length
  ASSERT_GE(static_cast<unsigned char>(img.bytes()[at]), 0x80u) << "offset varint of one byte";
  while (static_cast<unsigned char>(img.bytes()[at]) & 0x80u)
    img.bytes()[at++] = static_cast<char>(0xFF);
  img.bytes()[at] = 0x7F;
  img.reseal(e);
  ScratchDir dir;
  expect_error_naming<bertpp::FormatError>(
      [&] { bertpp::TfBundle::open(write_bundle(dir, img.bytes())); },
      {"'i32'", "past the end of", "b.data-00000-of-00001"});
}

TEST(TfBundle, MissingShardIsAnIoError) {
  ScratchDir dir;
  expect_error_naming<bertpp::IoError>(
      [&] { bertpp::TfBundle::open(write_bundle(dir, read_bytes(kPrefix + ".index"), false)); },
      {"b.data-00000-of-00001"});
  expect_error_naming<bertpp::IoError>([&] { bertpp::TfBundle::open(dir.path("none")); },
                                       {"none.index"});
}

TEST(TfBundle, UnknownDtypeIsRefusedByNumber) {
  IndexImage img(read_bytes(kPrefix + ".index"));
  const auto& e = img.entry("f32");
  ASSERT_EQ(static_cast<unsigned char>(img.bytes()[e.value_at]), 0x08u);  // field 1 (dtype) first
  img.bytes()[e.value_at + 1] = 99;
  img.reseal(e);
  ScratchDir dir;
  const auto b = bertpp::TfBundle::open(write_bundle(dir, img.bytes()));
  expect_error_naming<bertpp::FormatError>([&] { b->tensor("f32"); }, {"'f32'", "DT_<99>"});
}

// Opens the bundle and reads every tensor; true when it all succeeded, false on a
// bertpp::Error (anything else escapes and fails the test).
bool open_and_read(const std::string& prefix) {
  try {
    const auto b = bertpp::TfBundle::open(prefix);
    for (const auto& [name, e] : b->entries()) {
      if (e.dtype == bertpp::tf_dtype::kString)
        b->strings(name);
      else if (!e.sliced && name[0] != '\0')
        (void)b->bytes(e);
    }
    return true;
  } catch (const bertpp::Error&) {
    return false;
  }
}

TEST(TfBundle, EveryTruncationAndEveryResealedByteFlipIsHandled) {
  const std::string good = read_bytes(kPrefix + ".index");
  ScratchDir dir;
  EXPECT_TRUE(open_and_read(write_bundle(dir, good)));
  for (std::size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(open_and_read(write_bundle(dir, good.substr(0, n)))) << n;
  // Flips inside the data block, resealed so that the parser (not the checksum) meets them.
  IndexImage img(good);
  const auto& e = img.entry("f32");
  int refused = 0;
  for (std::size_t i = e.block_at; i < e.block_at + e.block_size; ++i)
    for (unsigned char x : {0x01, 0x80, 0xFF}) {
      IndexImage bad(good);
      bad.bytes()[i] = static_cast<char>(bad.bytes()[i] ^ x);
      bad.reseal(e);
      refused += open_and_read(write_bundle(dir, bad.bytes())) ? 0 : 1;
    }
  EXPECT_GT(refused, 0);
}

TEST(TfBundle, Crc32cMatchesTheStandardCheckValue) {
  const std::string s = "123456789";
  EXPECT_EQ(bertpp::detail::crc32c(reinterpret_cast<const unsigned char*>(s.data()), s.size()),
            0xE3069283u);
  EXPECT_EQ(bertpp::detail::crc32c_unmask(bertpp::detail::crc32c_mask(0x12345678u)), 0x12345678u);
}

}  // namespace
