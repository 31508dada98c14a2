// SPDX-License-Identifier: Apache-2.0
// int8 GEMM kernels: every path this CPU runs (generic, avx2, the AVX-512 kernel emulated
// on AVX2, and native AVX-512 VNNI where the CPU has it) against a reference quantizer, the
// generic path and the fp32 product. The native AVX-512 case skips on CPUs without VNNI;
// the emulated case runs the same kernel code (layouts, panels, edges) on AVX2.
#include "bertpp/exec/kernels/int8.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kernel_test_util.hpp"

namespace {

using bertpp::exec::Isa;
using kernel_test::Kernel;
namespace int8 = bertpp::exec::int8;

// The reference quantizer, written from the rule: s = max|v| / 127 (1 when all zero),
// q = v / s rounded to nearest, ties to even, clamped to [-127, 127].
float ref_scale(const float* v, std::int64_t n) {
  float amax = 0.0f;
  for (std::int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(v[i]));
  return amax == 0.0f ? 1.0f : amax / 127.0f;
}
int ref_quant(float v, float s) {
  const float q = std::rint(v / s);
  return static_cast<int>(std::min(127.0f, std::max(-127.0f, q)));
}

// The activations' rule: lo = min(0, min v), hi = max(0, max v), s = hi / 255 - lo / 255
// (1 when both are 0), z = rint(-lo / s) in [0, 255], code = rint(v / s) + z in [0, 255].
struct RefRow {
  float s = 1.0f;
  int z = 0;
};
RefRow ref_row(const float* v, std::int64_t n) {
  float lo = 0.0f, hi = 0.0f;
  for (std::int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  if (lo == 0.0f && hi == 0.0f) return {};
  RefRow r;
  r.s = hi / 255.0f - lo / 255.0f;
  r.z = static_cast<int>(std::min(255.0f, std::max(0.0f, std::rint(-lo / r.s))));
  return r;
}
int ref_code(float v, const RefRow& r) {
  // x * (1 / s), the reciprocal rounded once (division where it overflows: s < 2^-128)
  const float inv = 1.0f / r.s;
  const float q = std::rint(std::isinf(inv) ? v / r.s : v * inv) + static_cast<float>(r.z);
  return static_cast<int>(std::min(255.0f, std::max(0.0f, q))) - r.z;  // centred
}

class Int8Kernel : public testing::TestWithParam<Kernel> {
 protected:
  void SetUp() override {
    if (!int8::detail::kernel_supported(GetParam())) {
      GTEST_SKIP() << "this CPU lacks " << bertpp::exec::kernels_detail::kernel_name(GetParam())
                   << (GetParam() == Kernel::amx
                           ? " (AMX tiles, granted by the OS; not emulated)"
                           : " (the avx512 kernel's code is covered by the emulated case)");
    }
  }
};

TEST_P(Int8Kernel, PackMatchesReferenceQuantizer) {
  std::mt19937 rng(11);
  const std::int64_t n = 37, k = 31;
  auto w = kernel_test::random_matrix(rng, n, k, k, 0.5f);
  for (std::int64_t kk = 0; kk < k; ++kk) w[3 * k + kk] = 0.0f;  // all-zero row: scale 1
  // Row 6 has scale 1 and ties v = j + 0.5: each must round to the even neighbour.
  w[6 * k] = 127.0f;
  for (std::int64_t kk = 1; kk < k; ++kk) w[6 * k + kk] = static_cast<float>(kk - 15) + 0.5f;
  const int8::PackedWeights p = int8::detail::pack(w.data(), n, k, GetParam());
  ASSERT_EQ(p.n, n);
  ASSERT_EQ(p.k, k);
  for (std::int64_t c = 0; c < n; ++c) {
    const float s = ref_scale(w.data() + c * k, k);
    ASSERT_EQ(p.scale[c], s) << "c=" << c;
    std::int64_t sum = 0;
    for (std::int64_t kk = 0; kk < k; ++kk) {
      ASSERT_EQ(p.value(c, kk), ref_quant(w[c * k + kk], s)) << "c=" << c << " k=" << kk;
      sum += p.value(c, kk);
    }
    if (GetParam() == Kernel::avx512 || GetParam() == Kernel::avx512_emulated) {
      ASSERT_EQ(p.comp[c], sum) << "c=" << c;
    }
  }
  EXPECT_EQ(p.scale[3], 1.0f);
  EXPECT_EQ(p.scale[6], 1.0f);
  for (std::int64_t kk = 1; kk < k; ++kk) {
    EXPECT_EQ(std::fabs(p.value(6, kk) - w[6 * k + kk]), 0.5f) << kk;
    EXPECT_EQ(p.value(6, kk) % 2, 0) << kk;
  }
}

TEST_P(Int8Kernel, QuantizeRowsMatchesReference) {
  std::mt19937 rng(12);
  const std::int64_t m = 17, k = 31, ldx = 40;
  auto x = kernel_test::random_matrix(rng, m, k, ldx, 3.0f);
  for (std::int64_t kk = 0; kk < k; ++kk) {
    x[4 * ldx + kk] = 0.0f;                            // all zero: scale 1, zero point 0
    x[5 * ldx + kk] = std::fabs(x[5 * ldx + kk]);      // not negative: zero point 0
    x[6 * ldx + kk] = -std::fabs(x[6 * ldx + kk]);     // not positive: zero point 255
    x[7 * ldx + kk] = 0.25f * static_cast<float>(kk);  // GELU-like: lo = 0
    // subnormal scale, whose reciprocal overflows: the codes come from a division
    x[8 * ldx + kk] = 1e-39f * static_cast<float>(kk - 15);
  }
  x[7 * ldx + 3] = -0.1f;
  int8::QuantizedRows q;
  int8::detail::prepare(q, m, k, GetParam());
  int8::quantize_rows(x.data(), ldx, 0, 5, q);  // two calls, as two threads would
  int8::quantize_rows(x.data(), ldx, 5, m, q);
  for (std::int64_t r = 0; r < m; ++r) {
    const RefRow ref = ref_row(x.data() + r * ldx, k);
    ASSERT_EQ(q.scale[r], ref.s) << "r=" << r;
    ASSERT_EQ(q.zero[r], ref.z) << "r=" << r;
    for (std::int64_t kk = 0; kk < k; ++kk) {
      const float v = x[r * ldx + kk];
      ASSERT_EQ(q.value(r, kk), ref_code(v, ref)) << "r=" << r << " k=" << kk;
      // within one step of the value (half a step where the code is not clamped)
      ASSERT_LE(std::fabs(v - ref.s * static_cast<float>(q.value(r, kk))), 1.0001f * ref.s)
          << "r=" << r << " k=" << kk;
    }
  }
  EXPECT_EQ(q.scale[4], 1.0f);
  EXPECT_EQ(q.zero[4], 0);
  EXPECT_EQ(q.zero[5], 0);
  EXPECT_EQ(q.zero[6], 255);
  EXPECT_EQ(q.value(7, 0), 0);  // 0 is exact
}

// y from the generic path for the same inputs (its integer sums are exact).
std::vector<float> generic_product(const std::vector<float>& x, std::int64_t ldx,
                                   const std::vector<float>& w, const float* bias,
                                   const kernel_test::Shape& s) {
  const int8::PackedWeights p = int8::detail::pack(w.data(), s.n, s.k, Kernel::generic);
  int8::QuantizedRows q;
  int8::detail::prepare(q, s.m, s.k, Kernel::generic);
  int8::quantize_rows(x.data(), ldx, 0, s.m, q);
  std::vector<float> y(static_cast<std::size_t>(s.m * s.n));
  int8::gemm(q, 0, s.m, p, 0, s.n, bias, y.data(), s.n);
  return y;
}

// Each path equals the generic one up to the rounding of the final scale multiply and
// bias add: |y - y_generic| <= 1e-6 * (|float(sum) * sx * sw| + |bias|), and a tile leaves
// every other element of y untouched.
TEST_P(Int8Kernel, GemmEqualsGenericOnOddShapesAndTiles) {
  std::mt19937 rng(13);
  for (const auto& s : kernel_test::odd_shapes()) {
    const std::int64_t ldx = s.k + 3, ldy = s.n + 5;
    const auto x = kernel_test::random_matrix(rng, s.m, s.k, ldx, 2.0f);
    const auto w = kernel_test::random_matrix(rng, s.n, s.k, s.k, 0.1f);
    const auto bias = kernel_test::random_matrix(rng, 1, s.n, s.n, 1.0f);
    const int8::PackedWeights p = int8::detail::pack(w.data(), s.n, s.k, GetParam());
    int8::QuantizedRows q;
    int8::detail::prepare(q, s.m, s.k, GetParam());
    int8::quantize_rows(x.data(), ldx, 0, s.m, q);
    const std::int64_t b = p.block;
    // The whole of y, then an inner tile: rows [1, m-1), columns from the second block.
    struct Tile {
      std::int64_t m0, m1, n0, n1;
    };
    std::vector<Tile> tiles = {{0, s.m, 0, s.n}};
    if (s.m > 2 && s.n > b) tiles.push_back({1, s.m - 1, b, s.n - (s.n > 2 * b ? 1 : 0)});
    for (const bool with_bias : {true, false}) {
      const float* bp = with_bias ? bias.data() : nullptr;
      const auto ref = generic_product(x, ldx, w, bp, s);
      const auto plain = generic_product(x, ldx, w, nullptr, s);
      for (const Tile& t : tiles) {
        const float sentinel = -12345.0f;
        std::vector<float> y(static_cast<std::size_t>(s.m * ldy), sentinel);
        int8::gemm(q, t.m0, t.m1, p, t.n0, t.n1, bp, y.data(), ldy);
        for (std::int64_t r = 0; r < s.m; ++r) {
          for (std::int64_t c = 0; c < ldy; ++c) {
            const float got = y[r * ldy + c];
            const bool inside = r >= t.m0 && r < t.m1 && c >= t.n0 && c < t.n1;
            if (!inside) {
              ASSERT_EQ(got, sentinel) << "written outside the tile at " << r << "," << c;
              continue;
            }
            const float want = ref[r * s.n + c];
            const float tol =
                1e-6f * (std::fabs(plain[r * s.n + c]) + (bp ? std::fabs(bp[c]) : 0.0f));
            ASSERT_LE(std::fabs(got - want), tol)
                << "m=" << s.m << " k=" << s.k << " n=" << s.n << " tile rows [" << t.m0 << ","
                << t.m1 << ") cols [" << t.n0 << "," << t.n1 << ") at " << r << "," << c
                << " bias=" << with_bias;
          }
        }
      }
    }
  }
}

// amx and avx512 share the layouts, the exact int32 sums and the output stage: their
// results are the same bits, on shapes with tile edges in every dimension.
TEST(Int8Amx, EqualsAvx512BitForBit) {
  if (!int8::detail::kernel_supported(Kernel::amx))
    GTEST_SKIP() << "this CPU (or OS, or build) lacks AMX";
  std::mt19937 rng(17);
  for (const auto& s : std::vector<kernel_test::Shape>{
           {128, 768, 96}, {37, 200, 40}, {16, 64, 32}, {5, 130, 33}, {50, 2100, 40}}) {
    const auto x = kernel_test::random_matrix(rng, s.m, s.k, s.k, 2.0f);
    const auto w = kernel_test::random_matrix(rng, s.n, s.k, s.k, 0.1f);
    const auto bias = kernel_test::random_matrix(rng, 1, s.n, s.n, 1.0f);
    std::vector<float> y[2];
    const Kernel kernels[2] = {Kernel::amx, Kernel::avx512};
    for (int i = 0; i < 2; ++i) {
      const int8::PackedWeights p = int8::detail::pack(w.data(), s.n, s.k, kernels[i]);
      int8::QuantizedRows q;
      int8::detail::prepare(q, s.m, s.k, kernels[i]);
      int8::quantize_rows(x.data(), s.k, 0, s.m, q);
      y[i].assign(static_cast<std::size_t>(s.m * s.n), 0.0f);
      int8::gemm(q, 0, s.m, p, 0, s.n, bias.data(), y[i].data(), s.n);
    }
    EXPECT_EQ(y[0], y[1]) << "m=" << s.m << " k=" << s.k << " n=" << s.n;
  }
}

// Against the fp32 product in double: each term's error is at most
// |x| * sw / 2 + |w| * sx + sx * sw / 2 (half a step of the weight's code, a step of the
// activation's, which may be clamped at the top of its range), plus float rounding.
TEST_P(Int8Kernel, GemmWithinQuantizationBoundOfFp32) {
  std::mt19937 rng(14);
  const std::int64_t m = 9, k = 100, n = 40;
  const auto x = kernel_test::random_matrix(rng, m, k, k, 4.0f);
  const auto w = kernel_test::random_matrix(rng, n, k, k, 0.2f);
  const int8::PackedWeights p = int8::detail::pack(w.data(), n, k, GetParam());
  int8::QuantizedRows q;
  int8::detail::prepare(q, m, k, GetParam());
  int8::quantize_rows(x.data(), k, 0, m, q);
  std::vector<float> y(static_cast<std::size_t>(m * n));
  int8::gemm(q, 0, m, p, 0, n, nullptr, y.data(), n);
  for (std::int64_t r = 0; r < m; ++r)
    for (std::int64_t c = 0; c < n; ++c) {
      double exact = 0, bound = 0;
      const double sx = q.scale[r], sw = p.scale[c];
      for (std::int64_t kk = 0; kk < k; ++kk) {
        const double a = x[r * k + kk], b = w[c * k + kk];
        exact += a * b;
        bound += std::fabs(a) * sw / 2 + std::fabs(b) * sx + sx * sw / 2;
      }
      bound += 1e-6 * (std::fabs(exact) + bound);
      ASSERT_LE(std::fabs(y[r * n + c] - exact), bound) << r << "," << c;
      // and the bound is not vacuous: it is a small part of the spread of the terms
      ASSERT_LT(bound, 0.05 * k * 4.0 * 0.2);
    }
}

TEST_P(Int8Kernel, NoAllocationOncePrepared) {
  std::mt19937 rng(15);
  const std::int64_t m = 17, k = 64, n = 48;
  const auto x = kernel_test::random_matrix(rng, m, k, k);
  const auto w = kernel_test::random_matrix(rng, n, k, k);
  const int8::PackedWeights p = int8::detail::pack(w.data(), n, k, GetParam());
  int8::QuantizedRows q;
  int8::detail::prepare(q, m, k, GetParam());
  const void* data = q.data.data();
  const void* scale = q.scale.data();
  std::vector<float> y(static_cast<std::size_t>(m * n));
  const long before = kernel_test::allocations.load();
  int8::quantize_rows(x.data(), k, 0, m, q);
  int8::gemm(q, 0, m, p, 0, n, w.data(), y.data(), n);
  int8::detail::prepare(q, 7, k, GetParam());  // fewer rows: reuses the buffers
  int8::quantize_rows(x.data(), k, 0, 7, q);
  int8::gemm(q, 0, 7, p, 0, n, nullptr, y.data(), n);
  EXPECT_EQ(kernel_test::allocations.load(), before);
  EXPECT_EQ(q.data.data(), data);
  EXPECT_EQ(q.scale.data(), scale);
}

TEST_P(Int8Kernel, NonFiniteActivationRowGivesNaNOutputs) {
  std::mt19937 rng(16);
  const std::int64_t m = 3, k = 20, n = 16;
  auto x = kernel_test::random_matrix(rng, m, k, k);
  x[1 * k + 7] = std::numeric_limits<float>::infinity();
  const auto w = kernel_test::random_matrix(rng, n, k, k);
  const int8::PackedWeights p = int8::detail::pack(w.data(), n, k, GetParam());
  int8::QuantizedRows q;
  int8::detail::prepare(q, m, k, GetParam());
  int8::quantize_rows(x.data(), k, 0, m, q);
  std::vector<float> y(static_cast<std::size_t>(m * n));
  int8::gemm(q, 0, m, p, 0, n, nullptr, y.data(), n);
  for (std::int64_t c = 0; c < n; ++c) {
    EXPECT_TRUE(std::isnan(y[1 * n + c])) << c;
    EXPECT_TRUE(std::isfinite(y[0 * n + c])) << c;
    EXPECT_TRUE(std::isfinite(y[2 * n + c])) << c;
  }
}

TEST_P(Int8Kernel, BadInputsThrow) {
  std::vector<float> w(16 * 8, 0.5f);
  const int8::PackedWeights p = int8::detail::pack(w.data(), 16, 8, GetParam());
  int8::QuantizedRows q;
  int8::detail::prepare(q, 4, 8, GetParam());
  int8::quantize_rows(w.data(), 8, 0, 4, q);
  std::vector<float> y(4 * 16);
  EXPECT_THROW(int8::gemm(q, 0, 5, p, 0, 16, nullptr, y.data(), 16), bertpp::InputError);
  EXPECT_THROW(int8::gemm(q, 0, 4, p, 0, 17, nullptr, y.data(), 16), bertpp::InputError);
  EXPECT_THROW(int8::gemm(q, 0, 4, p, 0, 16, nullptr, y.data(), 8), bertpp::InputError);
  if (p.block > 1) {
    EXPECT_THROW(int8::gemm(q, 0, 4, p, 1, 16, nullptr, y.data(), 16), bertpp::InputError);
  }
  EXPECT_THROW(int8::quantize_rows(w.data(), 8, 2, 5, q), bertpp::InputError);
  int8::QuantizedRows other;
  int8::detail::prepare(other, 4, 7, GetParam());
  EXPECT_THROW(int8::gemm(other, 0, 4, p, 0, 16, nullptr, y.data(), 16), bertpp::InputError);
  const Kernel different = GetParam() == Kernel::generic ? Kernel::avx2 : Kernel::generic;
  if (int8::detail::kernel_supported(different)) {
    int8::detail::prepare(other, 4, 8, different);
    EXPECT_THROW(int8::gemm(other, 0, 4, p, 0, 16, nullptr, y.data(), 16), bertpp::InputError);
  }
  const std::vector<float> long_row(static_cast<std::size_t>(int8::max_k + 1), 1.0f);
  {  // the longest k: the sum 255 * 127 * max_k just fits
    const int8::PackedWeights lp = int8::detail::pack(long_row.data(), 1, int8::max_k, GetParam());
    int8::QuantizedRows lq;
    int8::detail::prepare(lq, 1, int8::max_k, GetParam());
    int8::quantize_rows(long_row.data(), int8::max_k, 0, 1, lq);
    float out = 0.0f;
    int8::gemm(lq, 0, 1, lp, 0, 1, nullptr, &out, 1);
    const float want = static_cast<float>(255 * 127 * int8::max_k) * lq.scale[0] * lp.scale[0];
    EXPECT_NEAR(out, want, 1e-6 * want);
  }
  EXPECT_THROW(int8::detail::pack(long_row.data(), 1, int8::max_k + 1, GetParam()),
               bertpp::InputError);
  w[3 * 8 + 1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(int8::detail::pack(w.data(), 16, 8, GetParam()), bertpp::WeightError);
}

// Threads preparing disjoint row ranges and multiplying disjoint tiles of one y, on shared
// packed weights, give exactly the single-call result.
TEST_P(Int8Kernel, ConcurrentTilesEqualOneCall) {
  std::mt19937 rng(31);
  const std::int64_t m = 40, k = 96, n = 100;
  const auto x = kernel_test::random_matrix(rng, m, k, k);
  const auto w = kernel_test::random_matrix(rng, n, k, k);
  const auto bias = kernel_test::random_matrix(rng, 1, n, n);
  const int8::PackedWeights p = int8::detail::pack(w.data(), n, k, GetParam());
  int8::QuantizedRows a, b;
  int8::detail::prepare(a, m, k, GetParam());
  int8::detail::prepare(b, m, k, GetParam());
  int8::quantize_rows(x.data(), k, 0, m, a);
  std::vector<float> one(static_cast<std::size_t>(m * n)), many(one.size());
  int8::gemm(a, 0, m, p, 0, n, bias.data(), one.data(), n);
  const std::int64_t split = 2 * p.block < n ? 2 * p.block : 0;
  std::thread t1([&] { int8::quantize_rows(x.data(), k, 0, m / 2, b); });
  std::thread t2([&] { int8::quantize_rows(x.data(), k, m / 2, m, b); });
  t1.join();
  t2.join();
  std::thread t3([&] { int8::gemm(b, 0, m, p, 0, split, bias.data(), many.data(), n); });
  std::thread t4([&] { int8::gemm(b, 0, m / 3, p, split, n, bias.data(), many.data(), n); });
  std::thread t5([&] { int8::gemm(b, m / 3, m, p, split, n, bias.data(), many.data(), n); });
  t3.join();
  t4.join();
  t5.join();
  for (std::size_t i = 0; i < one.size(); ++i) ASSERT_EQ(one[i], many[i]) << i;
}

// k = 0: every sum is empty, so y is the bias (or zero).
TEST_P(Int8Kernel, EmptyKGivesBias) {
  const std::int64_t m = 3, n = 20;
  const std::vector<float> bias(n, 0.75f), none;
  const int8::PackedWeights p = int8::detail::pack(none.data(), n, 0, GetParam());
  int8::QuantizedRows a;
  int8::detail::prepare(a, m, 0, GetParam());
  int8::quantize_rows(none.data(), 0, 0, m, a);
  std::vector<float> y(static_cast<std::size_t>(m * n), -1.0f);
  int8::gemm(a, 0, m, p, 0, n, bias.data(), y.data(), n);
  for (const float v : y) ASSERT_EQ(v, 0.75f);
  int8::gemm(a, 0, m, p, 0, n, nullptr, y.data(), n);
  for (const float v : y) ASSERT_EQ(v, 0.0f);
}

INSTANTIATE_TEST_SUITE_P(Paths, Int8Kernel, testing::ValuesIn(kernel_test::all_kernels),
                         kernel_test::kernel_label);

TEST(Int8Dispatch, SupportAndBlocks) {
  EXPECT_TRUE(int8::supported(Isa::generic));
  EXPECT_EQ(int8::supported(Isa::avx2), bertpp::exec::cpu().has_avx2());
  EXPECT_EQ(int8::supported(Isa::avx512), bertpp::exec::cpu().has_avx512_vnni());
  EXPECT_EQ(int8::supported(Isa::amx), BERTPP_KERNELS_AMX && bertpp::exec::amx_enabled());
  EXPECT_EQ(int8::column_block(Isa::amx), 32);
  EXPECT_EQ(int8::column_block(Isa::generic), 1);
  EXPECT_EQ(int8::column_block(Isa::avx2), 16);
  EXPECT_EQ(int8::column_block(Isa::avx512), 32);
  EXPECT_TRUE(int8::supported(int8::pick()));
  if (!int8::supported(Isa::avx512)) {
    EXPECT_THROW(int8::pack(nullptr, 0, 0, Isa::avx512), bertpp::ConfigError);
  }
  const int8::PackedWeights p = int8::pack(nullptr, 0, 0, Isa::best);
  EXPECT_EQ(p.isa, int8::pick());
}

}  // namespace
