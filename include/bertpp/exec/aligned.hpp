// SPDX-License-Identifier: Apache-2.0
// An owning buffer aligned to a cache line (64 bytes), for packed weights and scratch.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace bertpp::exec {

/// @brief `n` elements of trivially copyable T on a 64-byte boundary; movable, copyable.
/// Growing it (reserve/resize to more than its capacity) allocates; shrinking never does.
template <typename T>
class AlignedBuffer {
 public:
  static constexpr std::size_t alignment = 64;

  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t n) { resize(n); }
  AlignedBuffer(const AlignedBuffer& o) {
    resize(o.size_);
    if (size_) std::memcpy(data_, o.data_, size_ * sizeof(T));
  }
  AlignedBuffer& operator=(const AlignedBuffer& o) {
    if (this != &o) {
      resize(o.size_);
      if (size_) std::memcpy(data_, o.data_, size_ * sizeof(T));
    }
    return *this;
  }
  AlignedBuffer(AlignedBuffer&& o) noexcept { swap(o); }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    swap(o);
    return *this;
  }
  ~AlignedBuffer() { std::free(data_); }

  void swap(AlignedBuffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
  }

  /// @brief Makes room for `n` elements (contents are not kept when it grows).
  void resize(std::size_t n) {
    if (n > capacity_) {
      std::size_t bytes = (n * sizeof(T) + alignment - 1) / alignment * alignment;
      void* p = std::aligned_alloc(alignment, bytes);
      if (!p) throw std::bad_alloc();
      std::free(data_);
      data_ = static_cast<T*>(p);
      capacity_ = n;
    }
    size_ = n;
  }
  /// @brief resize(n), then every element set to zero.
  void assign_zero(std::size_t n) {
    resize(n);
    if (n) std::memset(static_cast<void*>(data_), 0, n * sizeof(T));
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0;
};

}  // namespace bertpp::exec
