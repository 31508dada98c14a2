// SPDX-License-Identifier: Apache-2.0
// exec::AlignedBuffer: alignment, copies and moves on both sides of the size at which it maps
// its own pages, and (Linux, no sanitizer) that freed large buffers leave the process's
// resident memory even when a live buffer was allocated after them.
#include <bertpp/exec/aligned.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#if BERTPP_ALIGNED_MAP
#include <unistd.h>
#endif

namespace {

using bertpp::exec::AlignedBuffer;
namespace detail = bertpp::exec::detail;

void fill(AlignedBuffer<std::uint32_t>& b, std::uint32_t seed) {
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = seed * 2654435761u + static_cast<std::uint32_t>(i);
}
bool holds(const AlignedBuffer<std::uint32_t>& b, std::uint32_t seed) {
  for (std::size_t i = 0; i < b.size(); ++i)
    if (b[i] != seed * 2654435761u + static_cast<std::uint32_t>(i)) return false;
  return true;
}

TEST(AlignedBuffer, AlignedCopiedAndMovedOnBothSidesOfTheMapThreshold) {
  const std::size_t edge = detail::aligned_map_threshold / sizeof(std::uint32_t);
  for (std::size_t n : {std::size_t{1}, std::size_t{17}, edge - 1, edge, edge + 1, 3 * edge + 5,
                        detail::aligned_huge_threshold / 4 + 3}) {
    SCOPED_TRACE(n);
    AlignedBuffer<std::uint32_t> a(n);
    ASSERT_EQ(a.size(), n);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % AlignedBuffer<std::uint32_t>::alignment,
              0u);
    fill(a, 7);
    AlignedBuffer<std::uint32_t> b(a);  // copy
    EXPECT_TRUE(holds(b, 7));
    AlignedBuffer<std::uint32_t> c(std::move(a));  // move
    EXPECT_TRUE(holds(c, 7));
    c.resize(n / 2);  // shrinking keeps the block and the contents
    EXPECT_TRUE(holds(c, 7));
    c.resize(n * 2 + 1);  // growing across the threshold (either way) reallocates
    fill(c, 9);
    EXPECT_TRUE(holds(c, 9));
    b = c;  // copy-assign into a smaller buffer
    EXPECT_TRUE(holds(b, 9));
    c.assign_zero(n);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(c[i], 0u);
  }
}

#if BERTPP_ALIGNED_MAP
long resident_kb() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  long pages = 0, resident = 0;
  const int got = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return got == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

// The load's pattern: large temporaries freed while the packed weights allocated after them
// live on. Through malloc (glibc raises its mmap threshold to the size of a freed mapped block
// up to 32 MB, here 8 MB, so the 1 MB temporaries then come from its heap), the
// freed temporaries stayed resident below the live ones.
TEST(AlignedBuffer, FreedLargeBuffersLeaveResidentMemory) {
  {
    AlignedBuffer<std::uint8_t> big(std::size_t{8} << 20);
    big.assign_zero(big.size());
  }
  std::vector<std::unique_ptr<AlignedBuffer<std::uint8_t>>> temps;
  for (int i = 0; i < 24; ++i) {
    temps.push_back(std::make_unique<AlignedBuffer<std::uint8_t>>(std::size_t{1} << 20));
    temps.back()->assign_zero(temps.back()->size());
  }
  AlignedBuffer<std::uint8_t> keeper;
  keeper.assign_zero(std::size_t{1} << 20);
  const long before = resident_kb();
  ASSERT_GT(before, 0);
  temps.clear();
  const long after = resident_kb();
  EXPECT_GE(before - after, 20 * 1024) << "resident KB before " << before << ", after " << after;
}
#endif

}  // namespace
