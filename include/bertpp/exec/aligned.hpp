// SPDX-License-Identifier: Apache-2.0
// An owning buffer aligned to a cache line (64 bytes), for packed weights and scratch.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

// Large buffers are mapped directly (Linux), except under a sanitizer, which checks malloc's
// blocks and not a program's own mappings.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BERTPP_ALIGNED_MAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define BERTPP_ALIGNED_MAP 0
#endif
#endif
#if !defined(BERTPP_ALIGNED_MAP) && defined(__linux__)
#define BERTPP_ALIGNED_MAP 1
#elif !defined(BERTPP_ALIGNED_MAP)
#define BERTPP_ALIGNED_MAP 0
#endif

namespace bertpp::exec {

namespace detail {

/// Buffers of at least this many bytes get pages of their own (mmap), so that freeing one
/// gives its memory back to the system at once. Through malloc, the packed weights and the
/// load's freed temporaries share glibc's heap, whose dynamic mmap threshold grows past a
/// layer's size after the first free: BERT-large int8 kept about 100 MB of freed
/// temporaries resident that way (docs/design-notes.md, "Resident memory").
inline constexpr std::size_t aligned_map_threshold = std::size_t{256} << 10;
/// Mapped buffers this large also ask for transparent huge pages (packed weights are read
/// in long streams; fewer TLB misses).
inline constexpr std::size_t aligned_huge_threshold = std::size_t{4} << 20;

inline void* aligned_allocate(std::size_t bytes) {
#if BERTPP_ALIGNED_MAP
  if (bytes >= aligned_map_threshold) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
    if (bytes >= aligned_huge_threshold) ::madvise(p, bytes, MADV_HUGEPAGE);  // advice only
#endif
    return p;
  }
#endif
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return p;
}

inline void aligned_release(void* p, std::size_t bytes) noexcept {
  if (!p) return;
#if BERTPP_ALIGNED_MAP
  if (bytes >= aligned_map_threshold) {
    ::munmap(p, bytes);
    return;
  }
#endif
  (void)bytes;
  std::free(p);
}

}  // namespace detail

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
  ~AlignedBuffer() { detail::aligned_release(data_, bytes_for(capacity_)); }

  void swap(AlignedBuffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
  }

  /// @brief Makes room for `n` elements (contents are not kept when it grows).
  void resize(std::size_t n) {
    if (n > capacity_) {
      if (n > static_cast<std::size_t>(-1) / sizeof(T) - alignment) throw std::bad_alloc();
      void* p = detail::aligned_allocate(bytes_for(n));
      detail::aligned_release(data_, bytes_for(capacity_));
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
  static std::size_t bytes_for(std::size_t n) noexcept {
    return (n * sizeof(T) + alignment - 1) / alignment * alignment;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0;
};

}  // namespace bertpp::exec
