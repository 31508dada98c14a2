// SPDX-License-Identifier: Apache-2.0
// A small fork-join pool. The thread count is always the caller's setting: there is no
// global pool and no hidden state, so const models stay safe to call from many threads.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bertpp {

/// @brief Runs `fn(begin, end)` over [0, n) split in contiguous chunks on a fixed set of
/// worker threads (plus the calling thread). One pool serves one forward call.
class ThreadPool {
 public:
  /// @brief A pool of `num_threads` threads in all, the caller's included (<= 1: serial).
  explicit ThreadPool(int num_threads) : size_(std::max(1, num_threads)) {
    for (int i = 1; i < size_; ++i) workers_.emplace_back([this, i] { worker(i); });
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  /// @brief Number of threads, the caller's included.
  int size() const noexcept { return size_; }

  /// @brief Calls fn(begin, end) on disjoint chunks covering [0, n); returns when all are
  /// done. Rethrows the first exception a chunk threw.
  void parallel_for(std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn) {
    if (n == 0) return;
    const std::size_t parts = std::min<std::size_t>(static_cast<std::size_t>(size_), n);
    if (parts == 1) {
      fn(0, n);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      job_n_ = n;
      job_parts_ = parts;
      pending_ = parts - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    run_part(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run_part(std::size_t part) {
    const std::size_t begin = job_n_ * part / job_parts_;
    const std::size_t end = job_n_ * (part + 1) / job_parts_;
    try {
      if (begin < end) (*job_)(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }

  void worker(int index) {
    std::size_t seen = 0;
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      const bool mine = static_cast<std::size_t>(index) < job_parts_;
      lock.unlock();
      if (!mine) continue;
      run_part(static_cast<std::size_t>(index));
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  int size_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(std::size_t, std::size_t)>* job_ = nullptr;
  std::size_t job_n_ = 0, job_parts_ = 0, pending_ = 0, generation_ = 0;
  std::exception_ptr error_;
  bool stop_ = false;
};

}  // namespace bertpp
