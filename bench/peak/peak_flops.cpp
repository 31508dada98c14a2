// SPDX-License-Identifier: Apache-2.0
// This machine's fp32 FMA peak, one core and all cores: a loop of independent fused
// multiply-adds on registers (no memory traffic), for each vector width the CPU runs.
//
//   peak_flops [--threads N] [--seconds S] [--json]
//
// Prints GFLOP/s per width and thread count; bench/run.py divides each GEMM's GFLOP/s by
// the figure of the same width and thread count to give its share of peak. Each thread is
// timed in its own CPU time, and the figure is the best of five runs, so other jobs on a
// shared machine lower it as little as they can.
#include <immintrin.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bertpp/exec/cpu.hpp"

// GCC 12 takes its own AVX-512 intrinsics' placeholders for uninitialized values.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace {

// 12 independent accumulators hide the FMA latency on every core seen (4-5 cycles, 2 pipes).
__attribute__((target("avx2,fma"))) double fma_loop_avx2(long iters) {
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], b, c);
  }
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

__attribute__((target("avx512f,fma"))) double fma_loop_avx512(long iters) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm512_fmadd_ps(a[i], b, c);
  }
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
}

double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// GFLOP/s of `threads` threads each running loop(iters) for about `seconds`.
double measure_once(double (*loop)(long), int width, int threads, double seconds) {
  long iters = 1000000;
  for (;;) {  // calibrate on one thread: a run of at least seconds / 4
    const auto t0 = std::chrono::steady_clock::now();
    volatile double sink = loop(iters);
    (void)sink;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (t > seconds / 4) {
      iters = static_cast<long>(static_cast<double>(iters) * seconds / t);
      break;
    }
    iters *= 4;
  }
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  std::vector<double> secs(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) {
      }
      const double t0 = thread_seconds();
      volatile double sink = loop(iters);
      (void)sink;
      secs[static_cast<std::size_t>(t)] = thread_seconds() - t0;
    });
  for (auto& th : pool) th.join();
  double worst = 0;
  for (double s : secs) worst = s > worst ? s : worst;
  return 2.0 * 12 * width * static_cast<double>(iters) * threads / worst / 1e9;
}

// The best of five runs of seconds / 5: a peak is what the core can do, and a shared
// machine's other jobs only ever lower a run (bench_gemm takes its best of five the same way).
double measure(double (*loop)(long), int width, int threads, double seconds) {
  double best = 0;
  for (int run = 0; run < 5; ++run) {
    const double g = measure_once(loop, width, threads, seconds / 5);
    best = g > best ? g : best;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  double seconds = 1.0;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--json"))
      json = true;
    else {
      std::fprintf(stderr, "usage: peak_flops [--threads N] [--seconds S] [--json]\n");
      return 2;
    }
  }
  if (threads < 1) threads = 1;
  const auto& cpu = bertpp::exec::cpu();
  struct Row {
    std::string isa;
    int threads;
    double gflops;
  };
  std::vector<Row> rows;
  for (int t : {1, threads}) {
    if (cpu.has_avx2()) rows.push_back({"avx2", t, measure(fma_loop_avx2, 8, t, seconds)});
    if (cpu.avx512f) rows.push_back({"avx512", t, measure(fma_loop_avx512, 16, t, seconds)});
    if (threads == 1) break;
  }
  if (json) {
    std::printf("[");
    for (std::size_t i = 0; i < rows.size(); ++i)
      std::printf("%s{\"isa\": \"%s\", \"threads\": %d, \"gflops\": %.1f}", i ? ", " : "",
                  rows[i].isa.c_str(), rows[i].threads, rows[i].gflops);
    std::printf("]\n");
  } else {
    for (const auto& r : rows)
      std::printf("%-7s %2d thread%s %8.1f GFLOP/s\n", r.isa.c_str(), r.threads,
                  r.threads == 1 ? " " : "s", r.gflops);
  }
  return 0;
}
