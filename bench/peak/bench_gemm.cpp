// SPDX-License-Identifier: Apache-2.0
// GFLOP/s of exec::Linear on the GEMM shapes of BERT-base and BERT-large at 128 tokens, for
// each kernel family the CPU runs, on 1 thread and on all threads.
//
//   bench_gemm [--threads N] [--seconds S] [--precision f32|bf16|int8] [--json]
//
// bench/run.py divides each figure by peak_flops' measured peak for the same thread count.
// One-thread rows are timed in thread CPU time (what a shared machine's other jobs do not
// inflate), the others in wall time.
#include <bertpp/exec/linear.hpp>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Shape {
  const char* name;
  std::int64_t m, k, n;
};

double gflops(const bertpp::exec::Linear<float>& lin, const bertpp::Matrix<float>& x,
              bertpp::Context& ctx, double seconds, bertpp::exec::Act act) {
  bertpp::Matrix<float> y;
  lin.forward(x, y, ctx, act);  // warm-up (and sizes y)
  const double flops = 2.0 * static_cast<double>(x.rows()) *
                       static_cast<double>(lin.in_features()) *
                       static_cast<double>(lin.out_features());
  // One thread (the calling one: a Context of 1 runs inline) in its CPU time, more in wall
  // time; the best of five windows of seconds / 5, as peak_flops takes its peak.
  const bool cpu_time = ctx.num_threads() == 1;
  const auto now = [cpu_time] {
    if (cpu_time) {
      timespec ts{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  double best = 0;
  for (int window = 0; window < 5; ++window) {
    int reps = 0;
    const double t0 = now();
    double t = 0;
    do {
      lin.forward(x, y, ctx, act);
      ++reps;
      t = now() - t0;
    } while (t < seconds / 5);
    const double g = flops * reps / t / 1e9;
    best = g > best ? g : best;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  double seconds = 0.5;
  bool json = false;
  bertpp::Precision precision = bertpp::Precision::f32;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--precision") && i + 1 < argc) {
      const std::string p = argv[++i];
      if (p == "bf16")
        precision = bertpp::Precision::bf16;
      else if (p == "int8")
        precision = bertpp::Precision::int8;
      else if (p != "f32") {
        std::fprintf(stderr, "bench_gemm: --precision is f32, bf16 or int8, not %s\n", p.c_str());
        return 2;
      }
    } else if (!std::strcmp(argv[i], "--json"))
      json = true;
    else {
      std::fprintf(
          stderr,
          "usage: bench_gemm [--threads N] [--seconds S] [--precision f32|bf16|int8] [--json]\n");
      return 2;
    }
  }
  const Shape shapes[] = {{"qkv 128x768x2304", 128, 768, 2304},
                          {"attn-out 128x768x768", 128, 768, 768},
                          {"ffn-in 128x768x3072", 128, 768, 3072},
                          {"ffn-out 128x3072x768", 128, 3072, 768},
                          {"large ffn-in 128x1024x4096", 128, 1024, 4096}};
  // The generic bf16 and int8 paths are the tests' scalar reference: not worth timing.
  std::vector<bertpp::exec::Isa> isas;
  if (precision == bertpp::Precision::f32) isas.push_back(bertpp::exec::Isa::generic);
  if (bertpp::exec::cpu().has_avx2()) isas.push_back(bertpp::exec::Isa::avx2);
  if (bertpp::exec::cpu().has_avx512()) isas.push_back(bertpp::exec::Isa::avx512);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-0.1f, 0.1f);
  bool first = true;
  if (json) std::printf("[");
  for (const auto& s : shapes) {
    std::vector<float> w(static_cast<std::size_t>(s.n * s.k)), b(static_cast<std::size_t>(s.n));
    for (auto& v : w) v = d(rng);
    for (auto& v : b) v = d(rng);
    bertpp::Matrix<float> x = bertpp::Matrix<float>::Random(s.m, s.k);
    for (auto isa : isas) {
      bertpp::ExecOptions opts;
      opts.isa = isa;
      opts.precision = precision;
      const bertpp::exec::Linear<float> lin(bertpp::Tensor<float>(w, {s.n, s.k}),
                                            bertpp::Tensor<float>(b, {s.n}), opts);
      for (int t : {1, threads}) {
        bertpp::Context ctx(t);
        const double g = gflops(lin, x, ctx, seconds, bertpp::exec::Act::none);
        if (json)
          std::printf("%s{\"shape\": \"%s\", \"isa\": \"%s\", \"threads\": %d, \"gflops\": %.1f}",
                      first ? "" : ", ", s.name, lin.kernel(), ctx.num_threads(), g);
        else
          std::printf("%-28s %-8s %d thread%s %7.1f GFLOP/s\n", s.name, lin.kernel(),
                      ctx.num_threads(), ctx.num_threads() == 1 ? " " : "s", g);
        first = false;
        if (threads == 1) break;
      }
    }
  }
  if (json) std::printf("]\n");
  return 0;
}
