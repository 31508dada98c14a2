// SPDX-License-Identifier: Apache-2.0
// Times bertpp's BertModel<float>::forward on one workload and prints one JSON line.
//
//   bench_model --model base|large|DIR (--batch B --seq L | --ids FILE --batch B)
//               [--threads T] [--isa generic|avx2|avx512|best] [--precision f32|bf16|int8]
//               [--min-runs N] [--max-runs N] [--min-seconds S] [--group-tokens N] [--profile]
//
// base / large: synthetic weights (bertpp::synthetic_bert_weights, bit for bit those of
// tools/synthetic_weights.py); DIR: an HF checkpoint folder. --seq: B sequences of L
// synthetic ids (the formula of bench/run.py); --ids: one sequence per line, ids separated
// by spaces (a whole pass over the file, in batches of B, is one run).
#include <bertpp/models/bert.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double epoch_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Args {
  std::string model = "base", ids_file;
  int batch = 1, seq = 128, threads = 1, min_runs = 3, max_runs = 20;
  double min_seconds = 3.0;
  bertpp::ExecOptions exec;
  bool profile = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr
      << "bench_model: " << why << "\n"
      << "usage: bench_model --model base|large|DIR (--batch B --seq L | --ids FILE --batch B)\n"
         "                   [--threads T] [--isa generic|avx2|avx512|best] [--precision "
         "f32|bf16|int8]\n"
         "                   [--min-runs N] [--max-runs N] [--min-seconds S] [--group-tokens N] "
         "[--profile]\n";
  std::exit(2);
}

// Peak resident memory of this process in MB: VmHWM (getrusage's ru_maxrss would include the
// parent's RSS at fork time on Linux), 0 where /proc is missing.
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0.0;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--help" || key == "-h") usage("help");
    if (key == "--profile") {
      a.profile = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value after " + key);
    const std::string value = argv[++i];
    try {
      if (key == "--model")
        a.model = value;
      else if (key == "--ids")
        a.ids_file = value;
      else if (key == "--batch")
        a.batch = std::stoi(value);
      else if (key == "--seq")
        a.seq = std::stoi(value);
      else if (key == "--threads")
        a.threads = std::stoi(value);
      else if (key == "--isa")
        a.exec.isa = bertpp::exec::isa_from_name(value, "--isa");
      else if (key == "--group-tokens")
        a.exec.group_tokens = std::stoll(value);
      else if (key == "--precision")
        a.exec.precision = bertpp::precision_from_name(value, "--precision");
      else if (key == "--min-runs")
        a.min_runs = std::stoi(value);
      else if (key == "--max-runs")
        a.max_runs = std::stoi(value);
      else if (key == "--min-seconds")
        a.min_seconds = std::stod(value);
      else
        usage("unknown option " + key);
    } catch (const std::logic_error&) {
      usage("bad value for " + key + ": " + value);
    }
  }
  if (a.batch < 1 || a.seq < 1 || a.threads < 1 || a.min_runs < 1 || a.max_runs < a.min_runs)
    usage("values must be >= 1");
  return a;
}

// Deterministic ids for the fixed-shape workloads; bench/run.py computes the same ones.
std::vector<bertpp::Encoding> synthetic_batch(int batch, int seq, std::int64_t vocab) {
  std::vector<bertpp::Encoding> out;
  for (int b = 0; b < batch; ++b) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(seq));
    for (int j = 0; j < seq; ++j)
      ids[static_cast<std::size_t>(j)] =
          static_cast<std::int32_t>(1000 + (b * 7919 + j * 104729) % (vocab - 1000));
    ids.front() = 101;
    ids.back() = 102;
    out.push_back(bertpp::Encoding::from_ids(std::move(ids)));
  }
  return out;
}

std::vector<std::vector<bertpp::Encoding>> read_ids(const std::string& path, int batch) {
  std::ifstream in(path);
  if (!in) usage("cannot open " + path);
  std::vector<std::vector<bertpp::Encoding>> batches;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::int32_t> ids;
    for (std::int32_t id; ls >> id;) ids.push_back(id);
    if (ids.empty()) continue;
    if (batches.empty() || batches.back().size() == static_cast<std::size_t>(batch))
      batches.emplace_back();
    batches.back().push_back(bertpp::Encoding::from_ids(std::move(ids)));
  }
  if (batches.empty()) usage(path + " holds no ids");
  return batches;
}

bertpp::BertModel<float> load(const std::string& model, const bertpp::ExecOptions& exec) {
  bertpp::LoadOptions options;
  options.exec = exec;
  if (model == "base" || model == "large") {
    const auto config = model == "base" ? bertpp::BertConfig::base() : bertpp::BertConfig::large();
    return bertpp::BertModel<float>(config, bertpp::synthetic_bert_weights(config), options);
  }
  return bertpp::BertModel<float>::load(model, options);
}

// The kernel family the dense layers run: bf16 / int8 pick theirs; fp32 runs the family
// f32_kernels maps the ISA to (no AMX family).
const char* kernels_used(const bertpp::ExecOptions& exec) {
  namespace ex = bertpp::exec;
  switch (exec.precision) {
    case bertpp::Precision::bf16:
      return ex::isa_name(ex::bf16::pick(exec.isa));
    case bertpp::Precision::int8:
      return ex::isa_name(ex::int8::pick(exec.isa));
    case bertpp::Precision::f32:
      break;
  }
  return ex::f32_kernels(ex::resolve_isa(exec.isa)).name;
}

}  // namespace

int main(int argc, char** argv) {
  const double start_epoch = epoch_seconds();
  const Args args = parse(argc, argv);
  try {
    const auto t0 = Clock::now();
    const auto model = load(args.model, args.exec);
    const double load_s = seconds_since(t0);
    const auto batches = args.ids_file.empty()
                             ? std::vector<std::vector<bertpp::Encoding>>{synthetic_batch(
                                   args.batch, args.seq, model.config().vocab_size)}
                             : read_ids(args.ids_file, args.batch);
    bertpp::Context ctx(args.threads);
    bertpp::BertOutput<float> out;
    // The first batch is the warm-up and gives the time to first result; then at least
    // min_runs runs (a run: every batch once), more until min_seconds have passed.
    model.forward(batches.front(), ctx, out);
    const double first_result_epoch = epoch_seconds();
    const double probe = static_cast<double>(out.last_hidden_state.front()(0, 0));
    std::vector<double> runs;
    ctx.set_profiling(args.profile);
    const auto bench_start = Clock::now();
    while (static_cast<int>(runs.size()) < args.max_runs) {
      const auto r0 = Clock::now();
      for (const auto& b : batches) model.forward(b, ctx, out);
      runs.push_back(seconds_since(r0));
      if (static_cast<int>(runs.size()) >= args.min_runs &&
          seconds_since(bench_start) >= args.min_seconds)
        break;
    }
    std::vector<double> sorted = runs;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    // Per-op seconds of one run, when profiling.
    std::string profile;
    for (const auto& op : ctx.profile())
      profile += std::string(profile.empty() ? "" : ", ") + "\"" + op.op +
                 "\": " + std::to_string(op.seconds / static_cast<double>(n));
    std::printf(
        "{\"engine\": \"bertpp\", \"threads\": %d, \"median_s\": %.6f, \"min_s\": %.6f, "
        "\"runs\": %zu, \"load_s\": %.4f, \"first_result_s\": %.4f, \"peak_rss_mb\": %.1f, "
        "\"probe\": %.7g, \"first_result_epoch\": %.6f, \"kernels\": \"%s\", \"profile\": {%s}}\n",
        ctx.num_threads(), median, sorted.front(), n, load_s, first_result_epoch - start_epoch,
        peak_rss_mb(), probe, first_result_epoch, kernels_used(args.exec), profile.c_str());
  } catch (const std::exception& e) {
    std::cerr << "bench_model: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
