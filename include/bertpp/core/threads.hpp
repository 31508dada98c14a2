// SPDX-License-Identifier: Apache-2.0
// A small fork-join pool, made once and reused (it lives in an exec::Context), and the
// number of threads this process may run on. The thread count is always the caller's
// setting, clamped to what the process may use.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace bertpp {

/// @brief The number of CPUs this process may run on: its CPU affinity mask and, on Linux,
/// the cgroup CPU quota (cpu.max), whichever is lower; at least 1.
inline int available_cpus() {
  static const int n = [] {
    int cpus = static_cast<int>(std::thread::hardware_concurrency());
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = CPU_COUNT(&set);
    std::ifstream in("/sys/fs/cgroup/cpu.max");
    std::string quota;
    long long period = 0;
    if (in >> quota >> period && quota != "max" && period > 0) {
      try {
        const long long q = std::stoll(quota);
        const int limit = static_cast<int>(std::max<long long>(1, (q + period - 1) / period));
        if (limit < cpus) cpus = limit;
      } catch (const std::exception&) {
      }
    }
#endif
    return std::max(1, cpus);
  }();
  return n;
}

/// @brief `requested` clamped to [1, available_cpus()].
inline int clamp_threads(int requested) { return std::clamp(requested, 1, available_cpus()); }

/// @brief A non-owning reference to a callable `void(std::size_t, std::size_t)`: no
/// allocation, unlike std::function with a large capture.
class RangeFn {
 public:
  RangeFn() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeFn>>>
  RangeFn(F&& f) noexcept  // NOLINT(google-explicit-constructor): a function_ref
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, std::size_t b, std::size_t e) {
          (*static_cast<std::remove_reference_t<F>*>(o))(b, e);
        }) {}
  void operator()(std::size_t b, std::size_t e) const { call_(obj_, b, e); }

 private:
  void* obj_ = nullptr;
  void (*call_)(void*, std::size_t, std::size_t) = nullptr;
};

/// @brief One pause of a spin-wait loop.
inline void cpu_relax() noexcept {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

/// @brief Runs `fn(begin, end)` over [0, n) split in contiguous chunks on a fixed set of
/// worker threads (plus the calling thread). Not reentrant: one caller at a time.
///
/// Workers and the caller spin briefly (about 50 us) before they block, since a forward
/// pass hands the pool a job every few hundred microseconds: waking a thread from a
/// condition variable costs tens of microseconds each time.
class ThreadPool {
 public:
  /// @brief A pool of `num_threads` threads in all, the caller's included (<= 1: serial),
  /// clamped to available_cpus().
  explicit ThreadPool(int num_threads) : size_(clamp_threads(num_threads)) {
    for (int i = 1; i < size_; ++i) workers_.emplace_back([this, i] { worker(i); });
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  /// @brief Number of threads, the caller's included.
  int size() const noexcept { return size_; }

  /// @brief Calls fn(begin, end) on disjoint chunks covering [0, n), chunk i of the
  /// min(size(), n) chunks on thread i; returns when all are done. Rethrows the first
  /// exception a chunk threw. Allocates nothing.
  void parallel_for(std::size_t n, RangeFn fn) {
    if (n == 0) return;
    const std::size_t parts = std::min<std::size_t>(static_cast<std::size_t>(size_), n);
    if (parts == 1) {
      fn(0, n);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = fn;
      job_n_ = n;
      job_parts_ = parts;
      error_ = nullptr;
      pending_.store(parts - 1);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    run_part(0);
    for (int spin = 0; pending_.load() != 0; ++spin) {
      if (spin < kSpin) {
        cpu_relax();
        continue;
      }
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_.load() == 0; });
      break;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = RangeFn();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static constexpr int kSpin = 2000;

  void run_part(std::size_t part) {
    const std::size_t begin = job_n_ * part / job_parts_;
    const std::size_t end = job_n_ * (part + 1) / job_parts_;
    try {
      if (begin < end) job_(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }

  void worker(int index) {
    std::size_t seen = 0;
    for (;;) {
      for (int spin = 0; generation_.load() == seen && !stop_.load(); ++spin) {
        if (spin < kSpin) {
          cpu_relax();
          continue;
        }
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
        break;
      }
      bool mine = false;
      {
        // The job's fields and its generation, read together (they change under the lock).
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_.load()) return;
        seen = generation_.load();
        mine = static_cast<std::size_t>(index) < job_parts_ && pending_.load() > 0;
      }
      if (!mine) continue;
      run_part(static_cast<std::size_t>(index));
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  int size_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  RangeFn job_;
  std::size_t job_n_ = 0, job_parts_ = 0;
  std::atomic<std::size_t> pending_{0}, generation_{0};
  std::exception_ptr error_;
  std::atomic<bool> stop_{false};
};

}  // namespace bertpp
