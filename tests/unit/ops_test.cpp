// SPDX-License-Identifier: Apache-2.0
// Each op against torch's (fixture tests/fixtures/ops.safetensors): 1e-5 in float, 1e-9 in
// double; the threaded paths equal the serial ones.
#include <bertpp/bertpp.hpp>
#include <bertpp/ops/activations.hpp>
#include <bertpp/ops/attention.hpp>
#include <bertpp/ops/layer_norm.hpp>
#include <bertpp/ops/linear.hpp>

#include <gtest/gtest.h>

#include "reference.hpp"
#include "testutil.hpp"

namespace {

using bertpp::Matrix;
using bertpp::test::all_close;

// One fixture per scalar (gtest's typed tests trip clang's -Wpedantic on the variadic macro).
template <typename T>
struct OpsFixture {
  bertpp::test::Reference ref{bertpp::test::fixture("ops.safetensors")};
  const char* tag = std::is_same<T, float>::value ? "f32." : "f64.";
  double tol = std::is_same<T, float>::value ? 1e-5 : 1e-9;

  Matrix<T> load(const std::string& name) {
    const auto shape = ref.shape(tag + name);
    const auto v = ref.floats<T>(tag + name);
    const Eigen::Index cols = shape.size() == 2 ? shape[1] : 1;
    return Eigen::Map<const Matrix<T>>(v.data(), static_cast<Eigen::Index>(v.size()) / cols, cols);
  }
  void expect(const Matrix<T>& got, const std::string& name) {
    const Matrix<T> want = load(name);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_TRUE(
        all_close(got.data(), want.data(), static_cast<std::size_t>(got.size()), tol, name));
  }
};

template <typename T>
struct OpsTest : ::testing::Test, OpsFixture<T> {};
using OpsFloat = OpsTest<float>;
using OpsDouble = OpsTest<double>;

// Defines TEST_F(OpsFloat, name) and TEST_F(OpsDouble, name) running body<T>(fixture).
#define BERTPP_OPS_TEST(name)                            \
  template <typename TypeParam>                          \
  void name##_body(OpsFixture<TypeParam>* self);         \
  TEST_F(OpsFloat, name) { name##_body<float>(this); }   \
  TEST_F(OpsDouble, name) { name##_body<double>(this); } \
  template <typename TypeParam>                          \
  void name##_body(OpsFixture<TypeParam>* self)

BERTPP_OPS_TEST(Gelu) {
  Matrix<TypeParam> x = self->load("x");
  bertpp::ops::activate(x, bertpp::ops::Activation::gelu);
  self->expect(x, "gelu");
}

BERTPP_OPS_TEST(GeluTanh) {
  Matrix<TypeParam> x = self->load("x");
  bertpp::ThreadPool pool(2);
  bertpp::ops::activate(x, bertpp::ops::activation_from_name("gelu_new"), &pool);
  self->expect(x, "gelu_tanh");
}

BERTPP_OPS_TEST(LayerNorm) {
  Matrix<TypeParam> x = self->load("x");
  const Matrix<TypeParam> w = self->load("ln_weight"), b = self->load("ln_bias");
  bertpp::ops::add_layer_norm(x, static_cast<const Matrix<TypeParam>*>(nullptr), w.col(0), b.col(0),
                              1e-12);
  self->expect(x, "layer_norm");
  // With a residual: LayerNorm(a + r) equals LayerNorm of the sum.
  Matrix<TypeParam> half = self->load("x") / TypeParam(2);
  const Matrix<TypeParam> other = half;
  bertpp::ThreadPool pool(2);
  bertpp::ops::add_layer_norm(half, &other, w.col(0), b.col(0), 1e-12, &pool);
  self->expect(half, "layer_norm");
}

BERTPP_OPS_TEST(Softmax) {
  Matrix<TypeParam> x = self->load("x");
  bertpp::ops::softmax_rows(x);
  self->expect(x, "softmax");
}

BERTPP_OPS_TEST(LinearSerialAndThreaded) {
  const Matrix<TypeParam> x = self->load("x"), w = self->load("linear_weight"),
                          b = self->load("linear_bias");
  Matrix<TypeParam> y;
  bertpp::ops::linear<TypeParam>(x, w, b.col(0), y);
  self->expect(y, "linear");
  // Wide enough to take the threaded path: 40 copies of w stacked give 200 output columns.
  Matrix<TypeParam> wide_w(200, 37);
  bertpp::Vector<TypeParam> wide_b(200);
  for (int i = 0; i < 40; ++i) {
    wide_w.middleRows(5 * i, 5) = w;
    wide_b.segment(5 * i, 5) = b.col(0);
  }
  Matrix<TypeParam> serial, threaded;
  bertpp::ops::linear<TypeParam>(x, wide_w, wide_b, serial);
  bertpp::ThreadPool pool(3);
  bertpp::ops::linear<TypeParam>(x, wide_w, wide_b, threaded, &pool);
  EXPECT_TRUE(all_close(threaded.data(), serial.data(), static_cast<std::size_t>(serial.size()),
                        0.0, "threaded"));
  EXPECT_TRUE(
      all_close(serial.middleCols(195, 5).eval().data(), y.data(), 35, self->tol, "column block"));
}

TEST(ThreadPool, CoversTheRangeAndRethrows) {
  bertpp::ThreadPool pool(3);
  std::vector<int> hits(1000, 0);
  for (int rep = 0; rep < 50; ++rep)
    pool.parallel_for(hits.size(), [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) ++hits[i];
    });
  for (int h : hits) ASSERT_EQ(h, 50);
  EXPECT_THROW(pool.parallel_for(10,
                                 [](std::size_t b, std::size_t) {
                                   if (b > 0) throw bertpp::InputError("boom");
                                 }),
               bertpp::InputError);
}

}  // namespace
