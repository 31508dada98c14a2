// SPDX-License-Identifier: Apache-2.0
// bf16 GEMM kernels: every path this CPU runs (generic, avx2, the AVX-512 kernel emulated
// on AVX2, and native AVX512_BF16 where the CPU has it) against a double-precision dot of
// the bf16-rounded inputs, plus round-to-nearest-even on hand-picked ties. The native
// AVX-512 case skips on CPUs without AVX512_BF16; the emulated case runs the same kernel
// code (layouts, panels, edges) on AVX2.
#include "bertpp/exec/kernels/bf16.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "kernel_test_util.hpp"

namespace {

using bertpp::exec::Isa;
using kernel_test::Kernel;
namespace bf16 = bertpp::exec::bf16;

float from_bits(std::uint32_t u) {
  float v;
  std::memcpy(&v, &u, 4);
  return v;
}
std::uint32_t bits(float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, 4);
  return u;
}

// The value of a bf16 pattern for distance comparisons: the pattern past the largest
// finite one (the infinity) counts as 2^128, where the exponent would continue.
double bf16_value(std::uint32_t b16) {
  if ((b16 & 0x7F80u) == 0x7F80u) return std::copysign(std::ldexp(1.0, 128), from_bits(b16 << 16));
  return from_bits(b16 << 16);
}

// Round to nearest, ties to even, from the definition: of the two bf16 patterns around v
// (truncation and the next one up in magnitude) take the nearer; on a tie the even one.
std::uint16_t ref_bf16(float v) {
  const std::uint32_t u = bits(v);
  const std::uint32_t lo = u >> 16, hi = lo + 1;
  const double d_lo = std::fabs(static_cast<double>(v) - bf16_value(lo));
  const double d_hi = std::fabs(static_cast<double>(v) - bf16_value(hi));
  if (d_lo < d_hi) return static_cast<std::uint16_t>(lo);
  if (d_hi < d_lo) return static_cast<std::uint16_t>(hi);
  return static_cast<std::uint16_t>((lo & 1u) ? hi : lo);
}

// Ties, their neighbours, denormal ties, the overflow tie, infinities and zeros.
const std::uint32_t tie_cases[] = {0x3F808000u, 0x3F818000u, 0x3F808001u, 0x3F807FFFu, 0xBF808000u,
                                   0xBF818000u, 0x3F80FFFFu, 0x3F7F8000u, 0x00008000u, 0x00018000u,
                                   0x80018000u, 0x007F8000u, 0x7F7F8000u, 0x7F7F7FFFu, 0xFF7F8000u,
                                   0x7F800000u, 0xFF800000u, 0x00000000u, 0x80000000u, 0x40490FDBu};

TEST(Bf16Rounding, TiesAndNeighboursMatchTheRule) {
  for (const std::uint32_t c : tie_cases) {
    const float v = from_bits(c);
    EXPECT_EQ(bf16::from_float(v), ref_bf16(v)) << std::hex << "0x" << c;
  }
  // spot checks of the rule itself: a tie rounds to the even neighbour
  EXPECT_EQ(ref_bf16(from_bits(0x3F808000u)), 0x3F80u);
  EXPECT_EQ(ref_bf16(from_bits(0x3F818000u)), 0x3F82u);
  EXPECT_EQ(ref_bf16(from_bits(0x7F7F8000u)), 0x7F80u);  // overflows to infinity
  std::mt19937 rng(21);
  std::uniform_int_distribution<std::uint32_t> any;
  for (int i = 0; i < 100000; ++i) {
    const std::uint32_t c = any(rng);
    const float v = from_bits(c);
    if (std::isnan(v)) continue;
    ASSERT_EQ(bf16::from_float(v), ref_bf16(v)) << std::hex << "0x" << c;
  }
}

TEST(Bf16Rounding, NaNStaysNaN) {
  for (const std::uint32_t c : {0x7F800001u, 0xFF800001u, 0x7FC00000u, 0x7F80FFFFu, 0xFFFFFFFFu}) {
    const std::uint16_t b = bf16::from_float(from_bits(c));
    EXPECT_TRUE(std::isnan(bf16::to_float(b))) << std::hex << "0x" << c;
    EXPECT_EQ(b & 0x8000u, (c >> 16) & 0x8000u) << "sign kept";
  }
}

class Bf16Kernel : public testing::TestWithParam<Kernel> {
 protected:
  void SetUp() override {
    if (!bf16::detail::kernel_supported(GetParam())) {
      GTEST_SKIP() << "this CPU lacks " << bertpp::exec::kernels_detail::kernel_name(GetParam())
                   << (GetParam() == Kernel::amx
                           ? " (AMX tiles, granted by the OS; not emulated)"
                           : " (the avx512 kernel's code is covered by the emulated case)");
    }
  }
};

TEST_P(Bf16Kernel, PackAndConvertRoundToNearestEven) {
  std::mt19937 rng(22);
  const std::int64_t n = 37, k = 31, m = 9, ldx = 35;
  const auto w = kernel_test::random_matrix(rng, n, k, k);
  const auto x = kernel_test::random_matrix(rng, m, k, ldx, 5.0f);
  const bf16::PackedWeights p = bf16::detail::pack(w.data(), n, k, GetParam());
  for (std::int64_t c = 0; c < n; ++c)
    for (std::int64_t kk = 0; kk < k; ++kk)
      ASSERT_EQ(p.value(c, kk), ref_bf16(w[c * k + kk])) << c << "," << kk;
  bf16::ConvertedRows a;
  bf16::detail::prepare(a, m, k, GetParam());
  bf16::convert_rows(x.data(), ldx, 0, 4, a);
  bf16::convert_rows(x.data(), ldx, 4, m, a);
  for (std::int64_t r = 0; r < m; ++r)
    for (std::int64_t kk = 0; kk < k; ++kk)
      ASSERT_EQ(a.value(r, kk), ref_bf16(x[r * ldx + kk])) << r << "," << kk;
}

// pack_strided (attention's keys, W = K with rows contiguous, and values, W = V^T with
// columns contiguous) lays out the same bytes as pack() of the explicit W, on odd shapes
// (pair and panel tails, the 8-wide SIMD steps and their remainders), reusing one buffer
// from a larger shape to smaller ones.
TEST_P(Bf16Kernel, StridedPackEqualsPackOfTheMatrix) {
  std::mt19937 rng(25);
  bf16::PackedWeights rows_out, cols_out;
  for (const auto& [n, k] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {128, 64}, {77, 36}, {33, 17}, {64, 128}, {9, 1}, {1, 9}, {40, 15}, {0, 5}}) {
    const std::int64_t ld = k + n + 3;  // a row of the source holds more than one head
    const auto src = kernel_test::random_matrix(rng, std::max<std::int64_t>(n, k), ld, ld, 3.0f);
    // W = rows [0, n) x columns [0, k) of src (sk = 1), and W' = its transpose view: W'[c, kk]
    // = src[kk, c] for c < n, kk < k (sc = 1).
    std::vector<float> w(static_cast<std::size_t>(n * k)), wt(static_cast<std::size_t>(n * k));
    for (std::int64_t c = 0; c < n; ++c)
      for (std::int64_t kk = 0; kk < k; ++kk) {
        w[c * k + kk] = src[c * ld + kk];
        wt[c * k + kk] = src[kk * ld + c];
      }
    const bf16::PackedWeights want = bf16::detail::pack(w.data(), n, k, GetParam());
    const bf16::PackedWeights want_t = bf16::detail::pack(wt.data(), n, k, GetParam());
    bf16::detail::pack_strided(src.data(), n, k, ld, 1, GetParam(), rows_out);
    bf16::detail::pack_strided(src.data(), n, k, 1, ld, GetParam(), cols_out);
    for (const auto* pair : {&want, &want_t}) {
      const bf16::PackedWeights& got = pair == &want ? rows_out : cols_out;
      SCOPED_TRACE(testing::Message()
                   << "n=" << n << " k=" << k << (pair == &want ? " rows" : " columns"));
      ASSERT_EQ(got.n, n);
      ASSERT_EQ(got.k, k);
      ASSERT_EQ(got.block, pair->block);
      ASSERT_EQ(got.kernel, pair->kernel);
      ASSERT_GE(got.data.size(), pair->data.size());
      if (!pair->data.empty()) {  // (an empty buffer's data() is null: no memcmp on it)
        ASSERT_EQ(std::memcmp(got.data.data(), pair->data.data(), pair->data.size()), 0);
      }
    }
  }
  std::vector<float> w(4, 1.0f);
  EXPECT_THROW(bf16::detail::pack_strided(w.data(), 2, 2, 2, 2, GetParam(), rows_out),
               bertpp::InputError);
  EXPECT_THROW(bf16::detail::pack_strided(nullptr, 2, 2, 2, 1, GetParam(), rows_out),
               bertpp::InputError);
}

// Each element within the fp32 summation bound of the double dot of the bf16 values:
// |y - dot| <= (k + 1) * 2^-24 * (sum_k |x w| + |bias|); a tile writes nothing outside.
TEST_P(Bf16Kernel, GemmMatchesDoubleDotOnOddShapesAndTiles) {
  std::mt19937 rng(23);
  for (const auto& s : kernel_test::odd_shapes()) {
    const std::int64_t ldx = s.k + 3, ldy = s.n + 5;
    const auto x = kernel_test::random_matrix(rng, s.m, s.k, ldx, 2.0f);
    const auto w = kernel_test::random_matrix(rng, s.n, s.k, s.k, 0.1f);
    const auto bias = kernel_test::random_matrix(rng, 1, s.n, s.n, 1.0f);
    const bf16::PackedWeights p = bf16::detail::pack(w.data(), s.n, s.k, GetParam());
    bf16::ConvertedRows a;
    bf16::detail::prepare(a, s.m, s.k, GetParam());
    bf16::convert_rows(x.data(), ldx, 0, s.m, a);
    std::vector<double> dot(static_cast<std::size_t>(s.m * s.n)), mag(dot.size());
    for (std::int64_t r = 0; r < s.m; ++r)
      for (std::int64_t c = 0; c < s.n; ++c) {
        double d = 0, g = 0;
        for (std::int64_t kk = 0; kk < s.k; ++kk) {
          const double t = static_cast<double>(bf16::to_float(ref_bf16(x[r * ldx + kk]))) *
                           bf16::to_float(ref_bf16(w[c * s.k + kk]));
          d += t;
          g += std::fabs(t);
        }
        dot[r * s.n + c] = d;
        mag[r * s.n + c] = g;
      }
    const std::int64_t b = p.block;
    struct Tile {
      std::int64_t m0, m1, n0, n1;
    };
    std::vector<Tile> tiles = {{0, s.m, 0, s.n}};
    if (s.m > 2 && s.n > b) tiles.push_back({1, s.m - 1, b, s.n - (s.n > 2 * b ? 1 : 0)});
    for (const bool with_bias : {true, false}) {
      const float* bp = with_bias ? bias.data() : nullptr;
      for (const Tile& t : tiles) {
        const float sentinel = -12345.0f;
        std::vector<float> y(static_cast<std::size_t>(s.m * ldy), sentinel);
        bf16::gemm(a, t.m0, t.m1, p, t.n0, t.n1, bp, y.data(), ldy);
        for (std::int64_t r = 0; r < s.m; ++r) {
          for (std::int64_t c = 0; c < ldy; ++c) {
            const float got = y[r * ldy + c];
            if (!(r >= t.m0 && r < t.m1 && c >= t.n0 && c < t.n1)) {
              ASSERT_EQ(got, sentinel) << "written outside the tile at " << r << "," << c;
              continue;
            }
            const double bc = bp ? bp[c] : 0.0;
            const double want = dot[r * s.n + c] + bc;
            const double tol = static_cast<double>(s.k + 1) * std::ldexp(1.0, -24) *
                               (mag[r * s.n + c] + std::fabs(bc));
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

// A row's sums run in one order whatever its place: the row alone (a one-row tile, as a
// lone sequence or another thread's share would give it) equals it in the full tile, bit
// for bit. On amx, rows past the last 16 run on shorter tiles, not on another kernel.
TEST_P(Bf16Kernel, EachRowAloneEqualsItsPlaceInTheTile) {
  std::mt19937 rng(26);
  const std::int64_t m = 37, k = 100, n = 40;  // k: 3 full 32-k tile steps and 4 more
  const auto x = kernel_test::random_matrix(rng, m, k, k);
  const auto w = kernel_test::random_matrix(rng, n, k, k);
  const auto bias = kernel_test::random_matrix(rng, 1, n, n);
  const bf16::PackedWeights p = bf16::detail::pack(w.data(), n, k, GetParam());
  bf16::ConvertedRows a;
  bf16::detail::prepare(a, m, k, GetParam());
  bf16::convert_rows(x.data(), k, 0, m, a);
  std::vector<float> all(static_cast<std::size_t>(m * n)), one(all.size());
  bf16::gemm(a, 0, m, p, 0, n, bias.data(), all.data(), n);
  for (std::int64_t r = 0; r < m; ++r) bf16::gemm(a, r, r + 1, p, 0, n, bias.data(), one.data(), n);
  if (GetParam() == Kernel::generic) {  // summed in one order by construction
    EXPECT_EQ(all, one);
    return;
  }
  for (std::int64_t r = 0; r < m; ++r)
    for (std::int64_t c = 0; c < n; ++c)
      ASSERT_EQ(bits(all[r * n + c]), bits(one[r * n + c])) << "row " << r << " col " << c;
  bf16::gemm(a, 5, m, p, 0, n, bias.data(), one.data(), n);  // a share starting mid-tile
  EXPECT_EQ(all, one);
}

TEST_P(Bf16Kernel, NoAllocationOncePrepared) {
  std::mt19937 rng(24);
  const std::int64_t m = 17, k = 64, n = 48;
  const auto x = kernel_test::random_matrix(rng, m, k, k);
  const auto w = kernel_test::random_matrix(rng, n, k, k);
  const bf16::PackedWeights p = bf16::detail::pack(w.data(), n, k, GetParam());
  bf16::ConvertedRows a;
  bf16::detail::prepare(a, m, k, GetParam());
  const void* data = a.data.data();
  std::vector<float> y(static_cast<std::size_t>(m * n));
  const long before = kernel_test::allocations.load();
  bf16::convert_rows(x.data(), k, 0, m, a);
  bf16::gemm(a, 0, m, p, 0, n, w.data(), y.data(), n);
  bf16::detail::prepare(a, 7, k, GetParam());
  bf16::convert_rows(x.data(), k, 0, 7, a);
  bf16::gemm(a, 0, 7, p, 0, n, nullptr, y.data(), n);
  EXPECT_EQ(kernel_test::allocations.load(), before);
  EXPECT_EQ(a.data.data(), data);
}

TEST_P(Bf16Kernel, BadInputsThrow) {
  std::vector<float> w(16 * 8, 0.5f);
  const bf16::PackedWeights p = bf16::detail::pack(w.data(), 16, 8, GetParam());
  bf16::ConvertedRows a;
  bf16::detail::prepare(a, 4, 8, GetParam());
  bf16::convert_rows(w.data(), 8, 0, 4, a);
  std::vector<float> y(4 * 16);
  EXPECT_THROW(bf16::gemm(a, 0, 5, p, 0, 16, nullptr, y.data(), 16), bertpp::InputError);
  EXPECT_THROW(bf16::gemm(a, 0, 4, p, 0, 17, nullptr, y.data(), 16), bertpp::InputError);
  EXPECT_THROW(bf16::gemm(a, 0, 4, p, 0, 16, nullptr, y.data(), 8), bertpp::InputError);
  if (p.block > 1) {
    EXPECT_THROW(bf16::gemm(a, 0, 4, p, 1, 16, nullptr, y.data(), 16), bertpp::InputError);
  }
  EXPECT_THROW(bf16::convert_rows(w.data(), 8, 2, 5, a), bertpp::InputError);
  bf16::ConvertedRows other;
  bf16::detail::prepare(other, 4, 7, GetParam());
  EXPECT_THROW(bf16::gemm(other, 0, 4, p, 0, 16, nullptr, y.data(), 16), bertpp::InputError);
  const Kernel different = GetParam() == Kernel::generic ? Kernel::avx2 : Kernel::generic;
  if (bf16::detail::kernel_supported(different)) {
    bf16::detail::prepare(other, 4, 8, different);
    EXPECT_THROW(bf16::gemm(other, 0, 4, p, 0, 16, nullptr, y.data(), 16), bertpp::InputError);
  }
}

// The row converters (8 at a time on AVX2) on the ties, NaNs and a tail past the last 8.
TEST_P(Bf16Kernel, ConvertRowsRoundsTiesAndKeepsNaN) {
  std::vector<float> row;
  for (const std::uint32_t c : tie_cases) row.push_back(from_bits(c));
  for (const std::uint32_t c : {0x7F800001u, 0xFFC00000u, 0x7F80FFFFu}) row.push_back(from_bits(c));
  const std::int64_t k = static_cast<std::int64_t>(row.size());
  bf16::ConvertedRows a;
  bf16::detail::prepare(a, 1, k, GetParam());
  bf16::convert_rows(row.data(), k, 0, 1, a);
  for (std::int64_t kk = 0; kk < k; ++kk) {
    if (std::isnan(row[kk])) {
      EXPECT_TRUE(std::isnan(bf16::to_float(a.value(0, kk)))) << kk;
    } else {
      EXPECT_EQ(a.value(0, kk), ref_bf16(row[kk])) << kk;
    }
  }
}

// Threads preparing disjoint row ranges and multiplying disjoint tiles of one y, on shared
// packed weights, give exactly the single-call result.
TEST_P(Bf16Kernel, ConcurrentTilesEqualOneCall) {
  std::mt19937 rng(31);
  const std::int64_t m = 40, k = 96, n = 100;
  const auto x = kernel_test::random_matrix(rng, m, k, k);
  const auto w = kernel_test::random_matrix(rng, n, k, k);
  const auto bias = kernel_test::random_matrix(rng, 1, n, n);
  const bf16::PackedWeights p = bf16::detail::pack(w.data(), n, k, GetParam());
  bf16::ConvertedRows a, b;
  bf16::detail::prepare(a, m, k, GetParam());
  bf16::detail::prepare(b, m, k, GetParam());
  bf16::convert_rows(x.data(), k, 0, m, a);
  std::vector<float> one(static_cast<std::size_t>(m * n)), many(one.size());
  bf16::gemm(a, 0, m, p, 0, n, bias.data(), one.data(), n);
  const std::int64_t split = 2 * p.block < n ? 2 * p.block : 0;
  std::thread t1([&] { bf16::convert_rows(x.data(), k, 0, m / 2, b); });
  std::thread t2([&] { bf16::convert_rows(x.data(), k, m / 2, m, b); });
  t1.join();
  t2.join();
  std::thread t3([&] { bf16::gemm(b, 0, m, p, 0, split, bias.data(), many.data(), n); });
  std::thread t4([&] { bf16::gemm(b, 0, m / 3, p, split, n, bias.data(), many.data(), n); });
  std::thread t5([&] { bf16::gemm(b, m / 3, m, p, split, n, bias.data(), many.data(), n); });
  t3.join();
  t4.join();
  t5.join();
  for (std::size_t i = 0; i < one.size(); ++i) ASSERT_EQ(one[i], many[i]) << i;
}

// k = 0: every sum is empty, so y is the bias (or zero).
TEST_P(Bf16Kernel, EmptyKGivesBias) {
  const std::int64_t m = 3, n = 20;
  const std::vector<float> bias(n, 0.75f), none;
  const bf16::PackedWeights p = bf16::detail::pack(none.data(), n, 0, GetParam());
  bf16::ConvertedRows a;
  bf16::detail::prepare(a, m, 0, GetParam());
  bf16::convert_rows(none.data(), 0, 0, m, a);
  std::vector<float> y(static_cast<std::size_t>(m * n), -1.0f);
  bf16::gemm(a, 0, m, p, 0, n, bias.data(), y.data(), n);
  for (const float v : y) ASSERT_EQ(v, 0.75f);
  bf16::gemm(a, 0, m, p, 0, n, nullptr, y.data(), n);
  for (const float v : y) ASSERT_EQ(v, 0.0f);
}

INSTANTIATE_TEST_SUITE_P(Paths, Bf16Kernel, testing::ValuesIn(kernel_test::all_kernels),
                         kernel_test::kernel_label);

TEST(Bf16Dispatch, SupportAndBlocks) {
  EXPECT_TRUE(bf16::supported(Isa::generic));
  EXPECT_EQ(bf16::supported(Isa::avx2), bertpp::exec::cpu().has_avx2());
  EXPECT_EQ(bf16::supported(Isa::avx512), bertpp::exec::cpu().has_avx512_bf16());
  EXPECT_EQ(bf16::supported(Isa::amx), BERTPP_KERNELS_AMX && bertpp::exec::amx_enabled());
  EXPECT_EQ(bf16::column_block(Isa::amx), 32);
  EXPECT_EQ(bf16::column_block(Isa::generic), 1);
  EXPECT_EQ(bf16::column_block(Isa::avx2), 16);
  EXPECT_EQ(bf16::column_block(Isa::avx512), 32);
  EXPECT_TRUE(bf16::supported(bf16::pick()));
  if (!bf16::supported(Isa::avx512)) {
    EXPECT_THROW(bf16::pack(nullptr, 0, 0, Isa::avx512), bertpp::ConfigError);
  }
}

}  // namespace
