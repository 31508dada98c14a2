// SPDX-License-Identifier: Apache-2.0
// The fp32 kernel families against a double-precision reference: packed GEMM with every
// epilogue (bias, activations, residual) on odd shapes and tiles, the element-wise math
// (exp, erf, GELU, tanh), LayerNorm and softmax rows; exec::Linear on each family the CPU
// runs, threaded and not. The AVX-512 family's logic also runs on AVX2 registers
// (F32x16e), so machines without AVX-512 test its packing, tiles and edges too.
#include <bertpp/exec/linear.hpp>
#include <bertpp/exec/norm.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

using bertpp::Context;
using bertpp::exec::Act;
using bertpp::exec::Epilogue;
using bertpp::exec::F32Kernels;
using bertpp::exec::Isa;

struct Family {
  std::string name;
  const F32Kernels* kernels;
};

// The SIMD families this machine can run: the native ones and the emulated AVX-512.
std::vector<Family> families() {
  std::vector<Family> out;
  const auto& cpu = bertpp::exec::cpu();
  if (cpu.has_avx2()) {
    out.push_back({"avx2", &bertpp::exec::f32_kernels(Isa::avx2)});
    out.push_back({"avx512-emulated", &bertpp::exec::f32_kernels_emulated_avx512()});
  }
  if (cpu.has_avx512()) out.push_back({"avx512", &bertpp::exec::f32_kernels(Isa::avx512)});
  return out;
}

std::vector<float> random_values(std::size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

const Act kActs[] = {Act::none, Act::gelu, Act::gelu_tanh, Act::relu, Act::silu, Act::tanh};

const char* act_name(Act a) {
  switch (a) {
    case Act::none:
      return "none";
    case Act::gelu:
      return "gelu";
    case Act::gelu_tanh:
      return "gelu_tanh";
    case Act::relu:
      return "relu";
    case Act::silu:
      return "silu";
    case Act::tanh:
      return "tanh";
  }
  return "?";
}

// y = act(x W^T + b) + residual in double, for rows [0, m).
std::vector<double> reference(const std::vector<float>& x, std::int64_t ldx,
                              const std::vector<float>& w, const float* bias, const float* residual,
                              std::int64_t ldr, std::int64_t m, std::int64_t k, std::int64_t n,
                              Act act) {
  std::vector<double> y(static_cast<std::size_t>(m * n));
  for (std::int64_t r = 0; r < m; ++r)
    for (std::int64_t c = 0; c < n; ++c) {
      double s = bias ? bias[c] : 0.0;
      for (std::int64_t q = 0; q < k; ++q)
        s += static_cast<double>(x[static_cast<std::size_t>(r * ldx + q)]) *
             w[static_cast<std::size_t>(c * k + q)];
      s = bertpp::exec::apply_act<double>(act, s);
      if (residual) s += residual[r * ldr + c];
      y[static_cast<std::size_t>(r * n + c)] = s;
    }
  return y;
}

// |got - want| <= 1e-5 * (1 + sum |x||w|): fp32 accumulation over k terms, plus the
// activation's few ulps.
double bound(const std::vector<float>& x, std::int64_t ldx, const std::vector<float>& w,
             std::int64_t r, std::int64_t c, std::int64_t k) {
  double s = 0;
  for (std::int64_t q = 0; q < k; ++q)
    s += std::fabs(static_cast<double>(x[static_cast<std::size_t>(r * ldx + q)]) *
                   w[static_cast<std::size_t>(c * k + q)]);
  return 2e-6 * (1.0 + s);
}

TEST(Kernels, GemmMatchesDoubleReferenceOnOddShapes) {
  const auto fams = families();
  if (fams.empty()) GTEST_SKIP() << "no SIMD family on this CPU (the generic path is tested below)";
  std::mt19937 rng(7);
  const std::int64_t shapes[][3] = {{1, 1, 1},      {3, 5, 15},    {7, 31, 33}, {17, 64, 48},
                                    {13, 300, 100}, {40, 768, 97}, {6, 2, 130}};
  for (const auto& fam : fams)
    for (const auto& sh : shapes)
      for (Act act : kActs) {
        const std::int64_t m = sh[0], k = sh[1], n = sh[2], ldx = k + 3, ldy = n + 5, ldr = n + 2;
        const auto x = random_values(static_cast<std::size_t>(m * ldx), rng);
        const auto w = random_values(static_cast<std::size_t>(n * k), rng, 0.5f);
        const auto b = random_values(static_cast<std::size_t>(n), rng);
        const auto res = random_values(static_cast<std::size_t>(m * ldr), rng);
        const auto& K = *fam.kernels;
        // A small k block so that several blocks accumulate.
        const std::int64_t kc = 24, mc = 2 * K.mr;
        const auto packed = bertpp::exec::pack_panels(w.data(), n, k, K.nr);
        const std::int64_t panels = (n + K.nr - 1) / K.nr;
        const auto want = reference(x, ldx, w, b.data(), res.data(), ldr, m, k, n, act);
        std::vector<float> y(static_cast<std::size_t>(m * ldy), -7.0f);
        Epilogue ep;
        ep.act = act;
        ep.bias = b.data();
        ep.residual = res.data();
        ep.ld_residual = ldr;
        // Two tiles in rows, panel by panel: every part of the driver.
        const std::int64_t split = std::min<std::int64_t>(m, K.mr + 1);
        for (std::int64_t p = 0; p < panels; ++p) {
          K.gemm(x.data(), ldx, packed.data(), k, n, y.data(), ldy, 0, split, p, p + 1, ep, kc, mc);
          K.gemm(x.data(), ldx, packed.data(), k, n, y.data(), ldy, split, m, p, p + 1, ep, kc, mc);
        }
        for (std::int64_t r = 0; r < m; ++r) {
          for (std::int64_t c = 0; c < n; ++c) {
            const double got = y[static_cast<std::size_t>(r * ldy + c)];
            const double exp = want[static_cast<std::size_t>(r * n + c)];
            ASSERT_NEAR(got, exp, bound(x, ldx, w, r, c, k))
                << fam.name << " " << act_name(act) << " m=" << m << " k=" << k << " n=" << n
                << " at (" << r << ", " << c << ")";
          }
          for (std::int64_t c = n; c < ldy; ++c)
            ASSERT_EQ(y[static_cast<std::size_t>(r * ldy + c)], -7.0f)
                << fam.name << ": wrote past column n";
        }
      }
}

// Attention's products: the keys packed by the vectorized transpose equal pack_panels_into's
// panels bit for bit, and gemm_direct (A read in place) matches the double reference, on
// shapes with partial 8 x 8 blocks, partial panels and every row remainder.
TEST(Kernels, AttentionProductsAndKeyPacking) {
  const auto fams = families();
  if (fams.empty()) GTEST_SKIP() << "no SIMD family on this CPU (the generic path is tested below)";
  std::mt19937 rng(8);
  const std::int64_t shapes[][3] = {{1, 1, 1},   {3, 9, 7},     {7, 64, 128}, {64, 32, 40},
                                    {5, 64, 65}, {13, 17, 200}, {9, 128, 64}};
  for (const auto& fam : fams)
    for (const auto& sh : shapes) {
      const auto& K = *fam.kernels;
      const std::int64_t m = sh[0], k = sh[1], n = sh[2], ldx = k + 5, ldw = k + 3, ldy = n + 4;
      const int nr = K.direct_nr;
      const auto x = random_values(static_cast<std::size_t>(m * ldx), rng);
      const auto wl = random_values(static_cast<std::size_t>(n * ldw), rng, 0.5f);
      std::vector<float> w(static_cast<std::size_t>(n * k));  // dense copy for the reference
      for (std::int64_t c = 0; c < n; ++c)
        for (std::int64_t q = 0; q < k; ++q) w[c * k + q] = wl[c * ldw + q];
      const std::size_t size = static_cast<std::size_t>((n + nr - 1) / nr * k * nr);
      std::vector<float> want_pack(size, -1.0f), got_pack(size, -2.0f);
      bertpp::exec::pack_panels_into(wl.data(), n, k, ldw, nr, want_pack.data());
      K.pack_transposed(wl.data(), n, k, ldw, nr, got_pack.data());
      ASSERT_EQ(got_pack, want_pack) << fam.name << " n=" << n << " k=" << k;
      const auto want = reference(x, ldx, w, nullptr, nullptr, 0, m, k, n, Act::none);
      std::vector<float> y(static_cast<std::size_t>(m * ldy), -7.0f);
      const std::int64_t split = m / 2;  // two calls, as two query blocks
      K.gemm_direct(x.data(), ldx, got_pack.data(), k, n, y.data(), ldy, 0, split);
      K.gemm_direct(x.data(), ldx, got_pack.data(), k, n, y.data(), ldy, split, m);
      for (std::int64_t r = 0; r < m; ++r) {
        for (std::int64_t c = 0; c < n; ++c)
          ASSERT_NEAR(y[r * ldy + c], want[r * n + c], bound(x, ldx, w, r, c, k))
              << fam.name << " m=" << m << " k=" << k << " n=" << n << " at (" << r << ", " << c
              << ")";
        for (std::int64_t c = n; c < ldy; ++c)
          ASSERT_EQ(y[r * ldy + c], -7.0f) << fam.name << ": wrote past column n";
      }
    }
}

TEST(Kernels, ElementwiseMathIsAccurate) {
  // GELU (erf), GELU (tanh), SiLU, tanh through the epilogue of a block, on a sweep
  // of [-12, 12], against the double-precision forms.
  std::vector<float> xs;
  for (int i = -120000; i <= 120000; ++i) xs.push_back(static_cast<float>(i) * 1e-4f);
  for (const auto& fam : families())
    for (Act act : {Act::gelu, Act::gelu_tanh, Act::silu, Act::tanh, Act::relu}) {
      std::vector<float> y = xs;
      Epilogue ep;
      ep.act = act;
      fam.kernels->epilogue(y.data(), static_cast<std::int64_t>(y.size()), 0, 1, 0,
                            static_cast<std::int64_t>(y.size()), ep);
      double worst = 0;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const double want = bertpp::exec::apply_act<double>(act, xs[i]);
        const double err = std::fabs(y[i] - want) / std::max(1.0, std::fabs(want));
        worst = std::max(worst, err);
      }
      // A few float ulps (2^-23 = 1.2e-7), relative above 1 and absolute below.
      EXPECT_LT(worst, 4e-7) << fam.name << " " << act_name(act);
    }
}

TEST(Kernels, LayerNormAndSoftmaxRows) {
  std::mt19937 rng(3);
  for (const auto& fam : families())
    for (std::int64_t h : {1, 7, 16, 37, 384, 1029}) {
      auto row = random_values(static_cast<std::size_t>(h), rng, 3.0f);
      const auto g = random_values(static_cast<std::size_t>(h), rng),
                 b = random_values(static_cast<std::size_t>(h), rng);
      auto ln = row;
      fam.kernels->layer_norm(ln.data(), h, g.data(), b.data(), 1e-12f);
      double mean = 0, var = 0;
      for (float v : row) mean += v;
      mean /= static_cast<double>(h);
      for (float v : row) var += (v - mean) * (v - mean);
      var /= static_cast<double>(h);
      for (std::int64_t i = 0; i < h; ++i) {
        const double want = (row[static_cast<std::size_t>(i)] - mean) / std::sqrt(var + 1e-12) *
                                g[static_cast<std::size_t>(i)] +
                            b[static_cast<std::size_t>(i)];
        ASSERT_NEAR(ln[static_cast<std::size_t>(i)], want, 2e-5)
            << fam.name << " layer norm h=" << h << " at " << i;
      }
      auto sm = row;
      fam.kernels->softmax(sm.data(), h, 0.125f);
      double mx = -1e300, sum = 0;
      for (float v : row) mx = std::max(mx, 0.125 * v);
      for (float v : row) sum += std::exp(0.125 * v - mx);
      for (std::int64_t i = 0; i < h; ++i) {
        const double want = std::exp(0.125 * row[static_cast<std::size_t>(i)] - mx) / sum;
        ASSERT_NEAR(sm[static_cast<std::size_t>(i)], want, 1e-6 * std::max(1.0, want * 10))
            << fam.name << " softmax h=" << h;
      }
    }
}

// exec::Linear on every family the CPU runs (generic included), 1 and 2 threads: equal
// to the generic (Eigen) path within fp32 rounding, and bit-identical across thread counts.
TEST(Linear, EveryFamilyAgreesWithTheGenericPath) {
  std::mt19937 rng(11);
  std::vector<Isa> isas = {Isa::generic};
  if (bertpp::exec::cpu().has_avx2()) isas.push_back(Isa::avx2);
  if (bertpp::exec::cpu().has_avx512()) isas.push_back(Isa::avx512);
  if (bertpp::exec::cpu().has_amx()) isas.push_back(Isa::amx);
  Context one(1), two(2);
  for (auto [m, k, n] :
       {std::array<std::int64_t, 3>{1, 768, 768}, {37, 96, 200}, {128, 64, 2}, {5, 3, 1}}) {
    const auto wv = random_values(static_cast<std::size_t>(n * k), rng, 0.2f);
    const auto bv = random_values(static_cast<std::size_t>(n), rng);
    bertpp::Matrix<float> x = bertpp::Matrix<float>::Random(m, k);
    bertpp::Matrix<float> res = bertpp::Matrix<float>::Random(m, n);
    bertpp::Matrix<float> ref;
    for (Isa isa : isas) {
      bertpp::ExecOptions opts;
      opts.isa = isa;
      const bertpp::exec::Linear<float> lin(bertpp::Tensor<float>(wv, {n, k}),
                                            bertpp::Tensor<float>(bv, {n}), opts);
      const Isa want = std::min(bertpp::exec::resolve_isa(isa), Isa::avx512);  // no fp32 on AMX
      EXPECT_EQ(std::string(lin.kernel()), bertpp::exec::isa_name(want));
      bertpp::Matrix<float> y1, y2;
      lin.forward(x, y1, one, Act::gelu, &res);
      lin.forward(x, y2, two, Act::gelu, &res);
      if (isa != Isa::generic) {
        EXPECT_TRUE(y1 == y2) << lin.kernel() << ": 1 and 2 threads differ";
      }
      if (isa == Isa::generic) {
        ref = y1;
        continue;
      }
      EXPECT_LE((y1 - ref).cwiseAbs().maxCoeff(), 2e-5f)
          << lin.kernel() << " m=" << m << " k=" << k << " n=" << n;
    }
  }
}

TEST(Linear, RefusesAnInputOfTheWrongWidth) {
  const bertpp::exec::Linear<float> lin(bertpp::Tensor<float>(std::vector<float>(6, 1.0f), {2, 3}),
                                        bertpp::Tensor<float>());
  bertpp::Matrix<float> x = bertpp::Matrix<float>::Zero(4, 5), y;
  Context ctx(1);
  EXPECT_THROW(lin.forward(x, y, ctx), bertpp::InputError);
}

TEST(Isa, EnvironmentVariableLowersTheFamily) {
  ::setenv("BERTPP_ISA", "generic", 1);
  EXPECT_EQ(bertpp::exec::resolve_isa(), Isa::generic);
  ::setenv("BERTPP_ISA", "avx2", 1);
  EXPECT_EQ(bertpp::exec::resolve_isa(Isa::generic), Isa::generic);
  ::setenv("BERTPP_ISA", "sse9", 1);
  EXPECT_THROW(bertpp::exec::resolve_isa(), bertpp::ConfigError);
  ::unsetenv("BERTPP_ISA");
  EXPECT_EQ(bertpp::exec::resolve_isa(), bertpp::exec::best_isa());
}

}  // namespace

namespace {

// int8 and bf16 Linear layers against the fp32 product: the error their rounding allows
// (int8: half a step of each operand's per-row / per-channel scale; bf16: 2^-8 relative).
TEST(Linear, ReducedPrecisionsStayWithinTheirRounding) {
  std::mt19937 rng(13);
  const std::int64_t m = 19, k = 200, n = 70;
  const auto wv = random_values(static_cast<std::size_t>(n * k), rng, 0.3f);
  const auto bv = random_values(static_cast<std::size_t>(n), rng);
  bertpp::Matrix<float> x = bertpp::Matrix<float>::Random(m, k);
  bertpp::Matrix<float> res = bertpp::Matrix<float>::Random(m, n);
  bertpp::ExecOptions f32;
  f32.isa = Isa::generic;
  const bertpp::exec::Linear<float> ref(bertpp::Tensor<float>(wv, {n, k}),
                                        bertpp::Tensor<float>(bv, {n}), f32);
  Context one(1), two(2);
  bertpp::Matrix<float> want;
  ref.forward(x, want, one, Act::none, &res);
  std::vector<Isa> isas = {Isa::generic};
  if (bertpp::exec::cpu().has_avx2()) isas.push_back(Isa::avx2);
  if (bertpp::exec::cpu().has_avx512()) isas.push_back(Isa::avx512);
  if (bertpp::exec::cpu().has_amx()) isas.push_back(Isa::amx);
  for (auto precision : {bertpp::Precision::int8, bertpp::Precision::bf16})
    for (Isa isa : isas) {
      bertpp::ExecOptions opts;
      opts.isa = isa;
      opts.precision = precision;
      const bertpp::exec::Linear<float> lin(bertpp::Tensor<float>(wv, {n, k}),
                                            bertpp::Tensor<float>(bv, {n}), opts);
      EXPECT_EQ(lin.precision(), precision);
      bertpp::Matrix<float> y1, y2;
      lin.forward(x, y1, one, Act::none, &res);
      lin.forward(x, y2, two, Act::none, &res);
      EXPECT_TRUE(y1 == y2) << bertpp::precision_name(precision) << " " << lin.kernel()
                            << ": threads differ";
      for (std::int64_t r = 0; r < m; ++r)
        for (std::int64_t c = 0; c < n; ++c) {
          double sum_abs = 0, xmax = 0, wmax = 0;
          for (std::int64_t q = 0; q < k; ++q) {
            sum_abs += std::fabs(x(r, q) * wv[static_cast<std::size_t>(c * k + q)]);
            xmax = std::max(xmax, static_cast<double>(std::fabs(x(r, q))));
            wmax = std::max(
                wmax, static_cast<double>(std::fabs(wv[static_cast<std::size_t>(c * k + q)])));
          }
          double tol = 1e-5 * (1 + sum_abs);
          if (precision == bertpp::Precision::bf16) tol += 2 * 0.0039 * sum_abs;
          if (precision == bertpp::Precision::int8)
            tol += static_cast<double>(k) * 0.5 * (xmax / 127 * wmax + wmax / 127 * xmax) + 1e-5;
          ASSERT_NEAR(y1(r, c), want(r, c), tol)
              << bertpp::precision_name(precision) << " " << lin.kernel() << " at (" << r << ", "
              << c << ")";
        }
    }
  bertpp::ExecOptions bad;
  bad.precision = bertpp::Precision::int8;
  EXPECT_THROW(
      (bertpp::exec::Linear<double>(bertpp::Tensor<double>(std::vector<double>(4, 1.0), {2, 2}),
                                    bertpp::Tensor<double>(), bad)),
      bertpp::ConfigError);
  EXPECT_THROW(bertpp::precision_from_name("fp8", "--precision"), bertpp::ConfigError);
}

}  // namespace
