// SPDX-License-Identifier: Apache-2.0
// The caller-owned execution context: a persistent thread pool and the scratch memory that
// forward calls reuse. Make one per calling thread and pass it to every call; after the
// first call of a given size nothing is created or allocated again.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <typeinfo>
#include <utility>
#include <vector>

#include "bertpp/core/threads.hpp"

namespace bertpp {

/// @brief Threads and scratch memory for forward calls. Not shared between threads at once:
/// one context per calling thread (models are const and shared; contexts are not).
class Context {
 public:
  /// @brief A context running on `num_threads` threads in all, the caller's included,
  /// clamped to the CPUs this process may use (available_cpus()).
  explicit Context(int num_threads = 1) : threads_(clamp_threads(num_threads)) {
    if (threads_ > 1) pool_ = std::make_unique<ThreadPool>(threads_);
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  Context(Context&&) noexcept = default;
  Context& operator=(Context&&) noexcept = default;

  /// @brief Threads in all, the caller's included.
  int num_threads() const noexcept { return threads_; }
  /// @brief The pool, or null when the context runs on the calling thread only.
  ThreadPool* pool() noexcept { return pool_.get(); }

  /// @brief Runs fn(begin, end) over [0, n) on the context's threads (chunk i on thread i).
  void parallel_for(std::size_t n, RangeFn fn) {
    if (pool_)
      pool_->parallel_for(n, fn);
    else if (n)
      fn(0, n);
  }

  /// @brief Time spent per operation, when profiling is on.
  struct OpTime {
    const char* op;  ///< a string literal naming the operation ("qkv", "attention", ...)
    double seconds = 0;
    long calls = 0;
  };
  /// @brief Starts (or stops) adding each operation's wall time to profile().
  void set_profiling(bool on) noexcept { profiling_ = on; }
  /// @brief Whether operations are being timed.
  bool profiling() const noexcept { return profiling_; }
  /// @brief The accumulated times, in order of first appearance.
  const std::vector<OpTime>& profile() const noexcept { return profile_; }
  /// @brief Forgets the accumulated times.
  void clear_profile() noexcept { profile_.clear(); }
  /// @brief Adds `seconds` to operation `op` (a string literal).
  void add_time(const char* op, double seconds) {
    for (auto& t : profile_)
      if (t.op == op || std::strcmp(t.op, op) == 0) {
        t.seconds += seconds;
        ++t.calls;
        return;
      }
    profile_.push_back({op, seconds, 1});
  }

  /// @brief The context's scratch object of type W, made (default-constructed) on first use
  /// and kept for the context's life: layers keep their buffers here.
  template <typename W>
  W& scratch() {
    const std::type_info* key = &typeid(W);
    for (auto& s : slots_)
      if (s.key == key || *s.key == *key) return *static_cast<W*>(s.object.get());
    slots_.push_back({key, std::shared_ptr<void>(std::make_shared<W>())});
    return *static_cast<W*>(slots_.back().object.get());
  }

 private:
  struct Slot {
    const std::type_info* key;
    std::shared_ptr<void> object;
  };
  int threads_ = 1;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<Slot> slots_;
  bool profiling_ = false;
  std::vector<OpTime> profile_;
};

/// @brief Adds the time from its construction to its destruction to `ctx`'s profile under
/// `op`, when the context is profiling; costs one branch otherwise.
class ScopedOpTimer {
 public:
  ScopedOpTimer(Context& ctx, const char* op) : ctx_(ctx.profiling() ? &ctx : nullptr), op_(op) {
    if (ctx_) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedOpTimer() {
    if (ctx_)
      ctx_->add_time(
          op_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  ScopedOpTimer(const ScopedOpTimer&) = delete;
  ScopedOpTimer& operator=(const ScopedOpTimer&) = delete;

 private:
  Context* ctx_;
  const char* op_;
  std::chrono::steady_clock::time_point start_;
};

/// @brief The calling thread's own context with `num_threads` threads, made on first use
/// and kept until the thread ends (remade when the count changes): what calls without an
/// explicit Context use, so they too create no threads per call.
inline Context& thread_context(int num_threads) {
  thread_local std::unique_ptr<Context> ctx;
  const int n = clamp_threads(num_threads);
  if (!ctx || ctx->num_threads() != n) ctx = std::make_unique<Context>(n);
  return *ctx;
}

}  // namespace bertpp
