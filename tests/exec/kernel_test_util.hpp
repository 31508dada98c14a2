// SPDX-License-Identifier: Apache-2.0
// Helpers of the kernel tests: fixed-seed data, the kernels a CPU runs, an allocation
// counter. Include from exactly one file per test executable (it replaces operator new).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bertpp/exec/kernels/detail/common.hpp"

// The kernel tests run the emulated AVX-512 kernels (tests/CMakeLists.txt compiles them in);
// without them those tests would skip as "not supported on this CPU".
static_assert(BERTPP_KERNELS_EMULATED, "the tests define BERTPP_KERNELS_EMULATED=1");

// gtest prints a Kernel parameter by name.
namespace bertpp::exec::kernels_detail {
inline void PrintTo(Kernel k, std::ostream* os) { *os << kernel_name(k); }
}  // namespace bertpp::exec::kernels_detail

namespace kernel_test {

inline std::atomic<long> allocations{0};

using bertpp::exec::kernels_detail::Kernel;

inline const Kernel all_kernels[] = {Kernel::generic, Kernel::avx2, Kernel::avx512,
                                     Kernel::avx512_emulated, Kernel::amx};

inline std::string kernel_label(const testing::TestParamInfo<Kernel>& info) {
  switch (info.param) {
    case Kernel::generic:
      return "generic";
    case Kernel::avx2:
      return "avx2";
    case Kernel::avx512:
      return "avx512_native";
    case Kernel::avx512_emulated:
      return "avx512_emulated";
    case Kernel::amx:
      return "amx";
  }
  return "unknown";
}

/// rows x cols values uniform in [-scale, scale], leading dimension ld (padding is NaN, so
/// a kernel that reads it is caught).
inline std::vector<float> random_matrix(std::mt19937& rng, std::int64_t rows, std::int64_t cols,
                                        std::int64_t ld, float scale = 1.0f) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> m(static_cast<std::size_t>(rows * ld + 1),
                       std::numeric_limits<float>::quiet_NaN());
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) m[r * ld + c] = u(rng);
  return m;
}

struct Shape {
  std::int64_t m, k, n;
};

/// Every combination of the odd sizes the kernels must handle, and a long k.
inline std::vector<Shape> odd_shapes() {
  std::vector<Shape> s;
  for (std::int64_t m : {1, 3, 7, 17, 128})
    for (std::int64_t k : {1, 5, 31, 64, 768})
      for (std::int64_t n : {1, 15, 33, 48, 100}) s.push_back({m, k, n});
  s.push_back({50, 2100, 40});  // k in several L1 chunks, rows in several groups
  return s;
}

}  // namespace kernel_test

// Counts every allocation of the test executable (the no-allocation tests read it).
__attribute__((noinline)) void* operator new(std::size_t size) {
  kernel_test::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
// (out of line, so GCC does not pair the free with a new it inlined and warn)
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }
