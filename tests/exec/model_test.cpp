// SPDX-License-Identifier: Apache-2.0
// The execution layer inside the model: every kernel family gives the generic (Eigen)
// path's intermediates within 1e-5 per layer; with a Context, forward allocates nothing and
// starts no thread after the first call of a size; results are bit-identical across thread
// counts, batch compositions and concurrent callers (each with its own Context).
#include <bertpp/bertpp.hpp>

#include <gtest/gtest.h>

#include <dirent.h>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "reference.hpp"
#include "testutil.hpp"

// Every heap allocation of the process (operator new and Eigen both end in malloc) is
// counted while `g_counting` is set: glibc's allocation functions are interposed here and
// forward to glibc's own. Not under AddressSanitizer, which interposes them itself.
static std::atomic<long> g_allocations{0};
static std::atomic<bool> g_counting{false};

#if defined(__SANITIZE_ADDRESS__)
#define BERTPP_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define BERTPP_COUNT_MALLOC 0
#endif
#endif
#if !defined(BERTPP_COUNT_MALLOC) && defined(__GLIBC__) && !defined(__SANITIZE_THREAD__)
#define BERTPP_COUNT_MALLOC 1
#endif
#ifndef BERTPP_COUNT_MALLOC
#define BERTPP_COUNT_MALLOC 0
#endif

#if BERTPP_COUNT_MALLOC
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
static void count() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
}
void* malloc(std::size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t s) {
  count();
  return __libc_calloc(n, s);
}
void* realloc(void* p, std::size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
  count();
  return __libc_memalign(a, n);
}
void* memalign(std::size_t a, std::size_t n) {
  count();
  return __libc_memalign(a, n);
}
int posix_memalign(void** p, std::size_t a, std::size_t n) {
  count();
  *p = __libc_memalign(a, n);
  return *p ? 0 : ENOMEM;
}
}
#endif

namespace {

using bertpp::test::fixture;

std::vector<bertpp::Encoding> random_batch(std::mt19937& rng, int n, int vocab, int max_len) {
  std::vector<bertpp::Encoding> batch;
  std::uniform_int_distribution<int> len(1, max_len), id(0, vocab - 1);
  for (int i = 0; i < n; ++i) {
    bertpp::Encoding e;
    const int L = len(rng);
    for (int j = 0; j < L; ++j) {
      e.ids.push_back(id(rng));
      e.type_ids.push_back(j < L / 2 ? 0 : 1);
    }
    batch.push_back(std::move(e));
  }
  return batch;
}

std::vector<bertpp::exec::Isa> simd_isas() {
  std::vector<bertpp::exec::Isa> out;
  if (bertpp::exec::cpu().has_avx2()) out.push_back(bertpp::exec::Isa::avx2);
  if (bertpp::exec::cpu().has_avx512()) out.push_back(bertpp::exec::Isa::avx512);
  return out;
}

bertpp::BertModel<float> load(const std::string& dir, bertpp::exec::Isa isa) {
  bertpp::LoadOptions o;
  o.exec.isa = isa;
  return bertpp::BertModel<float>::load(dir, o);
}

// name -> packed intermediate, from the tracing callback.
std::map<std::string, bertpp::Matrix<float>> trace(const bertpp::BertModel<float>& m,
                                                   const std::vector<bertpp::Encoding>& batch) {
  std::map<std::string, bertpp::Matrix<float>> seen;
  bertpp::Context ctx(2);
  m.forward(batch, ctx, {},
            [&](const std::string& name, const bertpp::Matrix<float>& v) { seen[name] = v; });
  return seen;
}

// Each encoder layer of each SIMD family, run on the generic model's input to that layer,
// against the generic layer's output: the per-layer error (1e-5), not its accumulation.
void expect_layers_close(const std::string& dir, const std::vector<bertpp::Encoding>& batch,
                         double tol) {
  const auto generic = load(dir, bertpp::exec::Isa::generic);
  const auto ref = trace(generic, batch);
  ASSERT_FALSE(ref.empty());
  const bertpp::PackedBatch packed = bertpp::detail::pack(batch, generic.config());
  bertpp::Context ctx(2);
  bertpp::Workspace<float> ws;
  for (auto isa : simd_isas()) {
    const auto model = load(dir, isa);
    for (std::size_t i = 0; i < generic.encoder().size(); ++i) {
      const std::string in = i == 0 ? "embeddings" : "layer." + std::to_string(i - 1) + ".output";
      const std::string out = "layer." + std::to_string(i) + ".output";
      ws.hidden = ref.at(in);
      model.encoder().layer(i).forward(ws.hidden, packed, ws, ctx, static_cast<int>(i), {});
      const auto& want = ref.at(out);
      ASSERT_EQ(ws.hidden.rows(), want.rows()) << out;
      EXPECT_TRUE(bertpp::test::all_close(ws.hidden.data(), want.data(),
                                          static_cast<std::size_t>(want.size()), tol,
                                          std::string(bertpp::exec::isa_name(isa)) + " " + out));
    }
    // The whole model, end to end: the errors of all layers together.
    const auto got = trace(model, batch);
    for (const auto& [name, want] : ref)
      EXPECT_LE(bertpp::test::max_abs_diff(got.at(name).data(), want.data(),
                                           static_cast<std::size_t>(want.size())),
                1e-4)
          << bertpp::exec::isa_name(isa) << " " << name << " end to end";
  }
}

TEST(ExecModel, EveryFamilyMatchesTheGenericPathPerLayerTiny) {
  std::mt19937 rng(5);
  expect_layers_close(fixture("tiny-bert"), random_batch(rng, 5, 99, 30), 1e-5);
  expect_layers_close(fixture("tiny-bert-tanh"), random_batch(rng, 3, 99, 20), 1e-5);
}

TEST(ExecModel, EveryFamilyMatchesTheGenericPathPerLayerMiniLM) {
  const std::string dir = bertpp::test::cache_dir() + "/models/all-MiniLM-L6-v2";
  std::mt19937 rng(6);
  expect_layers_close(dir, random_batch(rng, 6, 30522, 128), 1e-5);
}

int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

// Equal lengths, so that the 2-thread context splits the batch into two lanes of groups.
std::vector<bertpp::Encoding> equal_batch(std::mt19937& rng, int n, int vocab, int len) {
  std::vector<bertpp::Encoding> batch;
  std::uniform_int_distribution<int> id(0, vocab - 1);
  for (int i = 0; i < n; ++i) {
    bertpp::Encoding e;
    for (int j = 0; j < len; ++j) e.ids.push_back(id(rng));
    e.type_ids.assign(e.ids.size(), 0);
    batch.push_back(std::move(e));
  }
  return batch;
}

class ForwardAllocations : public ::testing::TestWithParam<int> {};

// 0: one group, all layers' hidden states returned; 1: groups of 32 tokens on one thread;
// 2: the same in two lanes (docs/design-notes.md, "Layer groups").
TEST_P(ForwardAllocations, WithAContextAllocatesNothingAndStartsNoThread) {
  bertpp::LoadOptions load_options;
  load_options.exec.group_tokens = 32;
  const auto model = bertpp::BertModel<float>::load(fixture("tiny-bert"), load_options);
  std::mt19937 rng(9);
  const auto batch = GetParam() == 0 ? random_batch(rng, 4, 99, 40) : equal_batch(rng, 6, 99, 20);
  bertpp::Context ctx(GetParam() == 1 ? 1 : 2);
  bertpp::BertOutput<float> out;
  bertpp::ForwardOptions opts;
  opts.output_hidden_states = GetParam() == 0;
  model.forward(batch, ctx, out, opts);  // first call of this size: buffers grow
  model.forward(batch, ctx, out, opts);
  const int threads = thread_count();
  // The counter itself is live: an allocation in the window is seen.
  g_allocations = 0;
  g_counting = true;
  {
    // Through a volatile pointer, so that the compiler cannot elide the allocation.
    static void* (*volatile allocate)(std::size_t) = std::malloc;
    std::free(allocate(64));
  }
  g_counting = false;
  if (BERTPP_COUNT_MALLOC) {
    ASSERT_GT(g_allocations.load(), 0);
  }
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 3; ++i) model.forward(batch, ctx, out, opts);
  g_counting = false;
  EXPECT_EQ(thread_count(), threads);
  if (!BERTPP_COUNT_MALLOC) GTEST_SKIP() << "allocations are not counted under a sanitizer";
  EXPECT_EQ(g_allocations.load(), 0) << "heap allocations in 3 warm forward calls";
}

INSTANTIATE_TEST_SUITE_P(ExecModel, ForwardAllocations, ::testing::Values(0, 1, 2));

bertpp::PackedBatch of_lengths(const std::vector<std::size_t>& lengths) {
  bertpp::PackedBatch p;
  std::size_t rows = 0;
  for (auto l : lengths) {
    p.start.push_back(rows);
    p.length.push_back(l);
    rows += l;
  }
  p.ids.resize(rows);
  return p;
}

TEST(LayerGroups, AreWholeConsecutiveSequencesWithinTheTokenBudget) {
  bertpp::GroupPlan plan;
  // 50 + 50 fit in 128; 200 is a group of its own; 10 + 120 do not fit.
  bertpp::plan_groups(of_lengths({50, 50, 50, 200, 10, 120}), 128, 1, plan);
  EXPECT_EQ(plan.first, (std::vector<std::size_t>{0, 2, 3, 4, 5, 6}));
  EXPECT_EQ(plan.lane_first, (std::vector<std::size_t>{0, 5}));
  // Consecutive sequences longer than the budget form one group.
  bertpp::plan_groups(of_lengths({300, 300, 50, 300}), 128, 1, plan);
  EXPECT_EQ(plan.first, (std::vector<std::size_t>{0, 2, 3, 4}));
  bertpp::plan_groups(of_lengths({}), 128, 1, plan);
  EXPECT_EQ(plan.groups(), 0u);
}

TEST(LayerGroups, LanesSplitTheTokensEvenlyOrNotAtAll) {
  bertpp::GroupPlan plan;
  bertpp::plan_groups(of_lengths({100, 100, 100, 100}), 128, 2, plan);
  EXPECT_EQ(plan.first, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(plan.lane_first, (std::vector<std::size_t>{0, 2, 4}));
  // Mixed lengths: each sequence in the lane of its middle token.
  bertpp::plan_groups(of_lengths({30, 20, 30, 10, 25, 45}), 64, 2, plan);
  EXPECT_EQ(plan.first, (std::vector<std::size_t>{0, 2, 3, 5, 6}));
  EXPECT_EQ(plan.lane_first, (std::vector<std::size_t>{0, 2, 4}));
  // 300 tokens against 20: more than 10% over an equal share, so one lane.
  bertpp::plan_groups(of_lengths({300, 10, 10}), 128, 2, plan);
  EXPECT_EQ(plan.lanes(), 1u);
  EXPECT_EQ(plan.first, (std::vector<std::size_t>{0, 1, 3}));
  // Fewer sequences than lanes.
  bertpp::plan_groups(of_lengths({64}), 128, 2, plan);
  EXPECT_EQ(plan.lanes(), 1u);
}

// Groups and lanes change the order in which rows are computed, never a row's arithmetic:
// every precision's output is the same bit for bit with and without them.
TEST(LayerGroups, ChangeNoBitOfTheOutput) {
  if (simd_isas().empty())
    GTEST_SKIP() << "the generic (Eigen) path is not bit-stable across batch sizes";
  std::mt19937 rng(31);
  const auto mixed = random_batch(rng, 9, 99, 40);
  const auto equal = equal_batch(rng, 8, 99, 24);
  for (auto precision : {bertpp::Precision::f32, bertpp::Precision::int8, bertpp::Precision::bf16})
    for (auto isa : simd_isas()) {
      auto with = [&](std::int64_t group_tokens) {
        bertpp::LoadOptions o;
        o.exec.isa = isa;
        o.exec.precision = precision;
        o.exec.group_tokens = group_tokens;
        return bertpp::BertModel<float>::load(fixture("tiny-bert"), o);
      };
      const auto whole = with(-1), grouped = with(48), tiny = with(8), fallback = with(0);
      for (int threads : {1, 2})
        for (const auto* batch : {&mixed, &equal}) {
          bertpp::Context ctx(threads);
          const auto want = whole.forward(*batch, ctx);
          for (const auto* m : {&grouped, &tiny, &fallback}) {
            const auto got = m->forward(*batch, ctx);
            for (std::size_t s = 0; s < batch->size(); ++s)
              EXPECT_TRUE(got.last_hidden_state[s] == want.last_hidden_state[s])
                  << bertpp::exec::isa_name(isa) << " precision " << static_cast<int>(precision)
                  << ", " << threads << " threads, group_tokens " << m->exec_options().group_tokens
                  << ", sequence " << s;
            EXPECT_TRUE(got.pooler_output == want.pooler_output);
          }
        }
    }
}

TEST(ExecModel, BitIdenticalAcrossThreadsBatchesAndCallers) {
  if (simd_isas().empty())
    GTEST_SKIP() << "the generic (Eigen) path is not bit-stable across batches";
  const auto model = bertpp::BertModel<float>::load(fixture("tiny-bert"));
  std::mt19937 rng(21);
  const auto batch = random_batch(rng, 7, 99, 40);
  bertpp::Context one(1), two(2);
  const auto a = model.forward(batch, one);
  const auto b = model.forward(batch, two);
  for (std::size_t s = 0; s < batch.size(); ++s) {
    EXPECT_TRUE(a.last_hidden_state[s] == b.last_hidden_state[s])
        << "sequence " << s << ": 1 vs 2 threads";
    const auto alone = model.forward({batch[s]}, one);
    EXPECT_TRUE(alone.last_hidden_state[0] == a.last_hidden_state[s])
        << "sequence " << s << ": alone vs batch";
    EXPECT_TRUE(alone.pooler_output.row(0) == a.pooler_output.row(static_cast<Eigen::Index>(s)));
  }
  // 6 threads, each with its own Context, calling forward on the shared model.
  std::vector<std::thread> callers;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 6; ++t)
    callers.emplace_back([&, t] {
      bertpp::Context ctx(1 + t % 2);
      for (int rep = 0; rep < 4; ++rep) {
        const auto r = model.forward(batch, ctx);
        for (std::size_t s = 0; s < batch.size(); ++s)
          if (!(r.last_hidden_state[s] == a.last_hidden_state[s])) ++mismatches;
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(ExecModel, ThreadCountsAreClampedToTheProcessCpus) {
  bertpp::Context ctx(100000);
  EXPECT_EQ(ctx.num_threads(), bertpp::available_cpus());
  EXPECT_GE(bertpp::available_cpus(), 1);
  const auto model = bertpp::BertModel<float>::load(fixture("tiny-bert"));
  bertpp::ForwardOptions opts;
  opts.num_threads = 100000;
  EXPECT_NO_THROW(model.forward({bertpp::Encoding::from_ids({2, 5, 3})}, opts));
}

}  // namespace

namespace {

// bf16 and int8 against fp32 on the real MiniLM and the fixture sentences: worst cosine of
// any token's last_hidden_state row (targets: >= 0.999 bf16, >= 0.99 int8).
TEST(ExecModel, ReducedPrecisionsAgreeWithF32OnMiniLM) {
  const std::string dir = bertpp::test::cache_dir() + "/models/all-MiniLM-L6-v2";
  const bertpp::test::Reference ref(fixture("minilm/reference.safetensors"));
  const auto batch = ref.batch("", /*with_types=*/false);
  bertpp::Context ctx(2);
  const auto f32 = bertpp::BertModel<float>::load(dir).forward(batch, ctx);
  for (auto [precision, target] :
       {std::pair{bertpp::Precision::bf16, 0.999}, std::pair{bertpp::Precision::int8, 0.99}}) {
    bertpp::LoadOptions o;
    o.exec.precision = precision;
    const auto got = bertpp::BertModel<float>::load(dir, o).forward(batch, ctx);
    double worst = 1, max_diff = 0;
    for (std::size_t s = 0; s < batch.size(); ++s)
      for (Eigen::Index j = 0; j < f32.last_hidden_state[s].rows(); ++j) {
        if (!batch[s].attention_mask[static_cast<std::size_t>(j)]) continue;
        const auto a = f32.last_hidden_state[s].row(j), b = got.last_hidden_state[s].row(j);
        worst = std::min(worst, static_cast<double>(a.dot(b)) / (a.norm() * b.norm()));
        max_diff = std::max(max_diff, static_cast<double>((a - b).cwiseAbs().maxCoeff()));
      }
    std::printf("[ %s vs f32 ] MiniLM last_hidden_state: worst cosine %.6f, max abs diff %.4g\n",
                bertpp::precision_name(precision), worst, max_diff);
    EXPECT_GE(worst, target) << bertpp::precision_name(precision);
  }
}

}  // namespace
