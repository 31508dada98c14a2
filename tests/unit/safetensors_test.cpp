// SPDX-License-Identifier: Apache-2.0
// The safetensors reader: dtype conversion, and every malformed file it must refuse with a
// FormatError naming the file and the tensor.
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numeric>

#include "reference.hpp"
#include "scratch.hpp"
#include "testutil.hpp"

namespace {

using bertpp::test::float_bytes;
using bertpp::test::safetensors_image;
using bertpp::test::ScratchDir;
using bertpp::test::write_bytes;

// Expects opening `image` to throw E whose message contains each of `parts`.
template <typename E = bertpp::FormatError>
void expect_refused(const std::string& image, std::vector<std::string> parts) {
  ScratchDir dir;
  const std::string path = dir.path("bad.safetensors");
  write_bytes(path, image);
  parts.push_back(path);
  try {
    bertpp::SafeTensorsFile::open(path);
    FAIL() << "accepted a bad file; expected an error mentioning " << parts[0];
  } catch (const E& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

const std::string kData = float_bytes({1.f, 2.f, 3.f, 4.f});

TEST(SafeTensors, ReadsAValidFile) {
  ScratchDir dir;
  write_bytes(
      dir.path("ok.safetensors"),
      safetensors_image(
          R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})",
          kData));
  const auto f = bertpp::SafeTensorsFile::open(dir.path("ok.safetensors"));
  ASSERT_NE(f->find("a"), nullptr);
  EXPECT_EQ(f->find("a")->shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(f->metadata().at("format"), "pt");
  bertpp::WeightStore store;
  store.add_file(dir.path("ok.safetensors"));
  const auto t = store.get<double>("a", {2, 2});
  EXPECT_EQ(t.matrix()(1, 0), 3.0);
}

TEST(SafeTensors, RefusesTruncatedAndGarbledFiles) {
  expect_refused("\x05\x00\x00", {"too short"});
  expect_refused(safetensors_image(R"({"a":1})", "", 1000), {"declared header length exceeds"});
  expect_refused(safetensors_image("{not json", ""), {"not valid JSON"});
  expect_refused(safetensors_image("[1,2]", ""), {"not a JSON object"});
  // A valid header whose data was cut short.
  expect_refused(safetensors_image(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})",
                                   kData.substr(0, 9)),
                 {"tensor 'a'", "outside the data area"});
}

TEST(SafeTensors, RefusesBadEntries) {
  expect_refused(
      safetensors_image(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,64]}})", kData),
      {"tensor 'w'", "point outside the data area"});
  expect_refused(
      safetensors_image(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", kData),
      {"tensor 'w'", "does not match shape [3]"});
  expect_refused(
      safetensors_image(R"({"w":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}})", kData),
      {"tensor 'w'", "unsupported dtype 'Q4'"});
  expect_refused(
      safetensors_image(R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", kData),
      {"tensor 'w'", "negative"});
  expect_refused(
      safetensors_image(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}})", kData),
      {"tensor 'w'", "begin 16 > end 0"});
  expect_refused(safetensors_image(R"({"w":{"dtype":"F32","shape":[4]}})", kData),
                 {"tensor 'w'", "data_offsets"});
  expect_refused(
      safetensors_image(
          R"({"w":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,16]}})", kData),
      {"tensor 'w'", "too large"});
  expect_refused(safetensors_image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},
                                       "b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                   kData),
                 {"overlap"});
}

TEST(SafeTensors, MissingFileIsAnIoError) {
  EXPECT_THROW(bertpp::SafeTensorsFile::open("/nonexistent/model.safetensors"), bertpp::IoError);
  EXPECT_THROW(bertpp::WeightStore::from_dir("/nonexistent"), bertpp::IoError);
}

// F64, F32, F16 and BF16 copies of the same values (tools/make_fixtures.py) all load equal.
TEST(SafeTensors, ConvertsEveryFloatDtypeExactly) {
  bertpp::WeightStore store;
  store.add_file(bertpp::test::fixture("dtypes.safetensors"));
  const auto want = store.get<double>("values.f64", {5, 13});
  for (const char* name : {"values.f32", "values.f16", "values.bf16"}) {
    const auto as_float = store.get<float>(name, {5, 13});
    const auto as_double = store.get<double>(name, {5, 13});
    for (int i = 0; i < 65; ++i) {
      EXPECT_EQ(static_cast<double>(as_float.data()[i]), want.data()[i])
          << name << " element " << i;
      EXPECT_EQ(as_double.data()[i], want.data()[i]) << name << " element " << i;
    }
    EXPECT_TRUE(std::signbit(as_float.data()[61])) << name << ": -0.0 lost its sign";
  }
  EXPECT_TRUE(store.get<float>("values.f32", {5, 13}).is_view());
  EXPECT_FALSE(store.get<float>("values.f16", {5, 13}).is_view());
}

TEST(SafeTensors, NonFloatOrMisshapenWeightIsAWeightError) {
  bertpp::WeightStore store;
  store.add_file(bertpp::test::fixture("dtypes.safetensors"));
  try {
    store.get<float>("values.i64", {2, 3});
    FAIL();
  } catch (const bertpp::WeightError& e) {
    EXPECT_NE(std::string(e.what()).find("'values.i64' has dtype I64"), std::string::npos)
        << e.what();
  }
  try {
    store.get<float>("values.f32", {13, 5});
    FAIL();
  } catch (const bertpp::WeightError& e) {
    EXPECT_NE(std::string(e.what()).find("has shape [5, 13], expected [13, 5]"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(store.get<float>("nope", {1}), bertpp::WeightError);
}

#if defined(__linux__)
// Resident set size of this process in bytes (/proc/self/statm, second field in pages).
std::size_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// A packed layer gives its mapped weight's pages back (Tensor::release_pages): the process's
// resident memory drops by about the tensor's size, and the values read afterwards (from
// the file again) are the same.
TEST(SafeTensors, ReleasedPagesLeaveMemoryAndReadBackTheSame) {
  ScratchDir dir;
  const std::int64_t rows = 1024, cols = 8192;  // 32 MiB of float32
  std::vector<float> w(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 1000) * 0.5f;
  bertpp::write_safetensors(dir.path("big.safetensors"), {{"w", {rows, cols}, w.data()}});
  const double expected = std::accumulate(w.begin(), w.end(), 0.0);
  w = {};
  bertpp::WeightStore store;
  store.add_file(dir.path("big.safetensors"));
  const auto t = store.get<float>("w", {rows, cols});
  ASSERT_TRUE(t.is_view());
  auto sum = [&] { return std::accumulate(t.data(), t.data() + t.numel(), 0.0); };
  EXPECT_EQ(sum(), expected);  // every page touched
  const std::size_t touched = rss_bytes();
  t.release_pages();
  const std::size_t released = rss_bytes();
  EXPECT_GT(touched, released + 24 * 1024 * 1024) << "RSS " << touched << " -> " << released;
  EXPECT_EQ(sum(), expected);  // read again from the file
  EXPECT_GT(rss_bytes(), released + 24 * 1024 * 1024);
  // A converted (owned) tensor has no mapping: the hint does nothing to it.
  const auto d = store.get<double>("w", {rows, cols});
  ASSERT_FALSE(d.is_view());
  d.release_pages();
  EXPECT_EQ(std::accumulate(d.data(), d.data() + d.numel(), 0.0), expected);
}
#endif

}  // namespace
