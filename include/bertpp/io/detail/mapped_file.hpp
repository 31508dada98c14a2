// SPDX-License-Identifier: Apache-2.0
// A read-only view of a whole file: mmap on POSIX, a heap copy elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "bertpp/core/error.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define BERTPP_HAVE_MMAP 1
#endif

namespace bertpp::detail {

/// @brief The bytes of a file, mapped read-only for the object's lifetime.
class MappedFile {
 public:
  /// @throws IoError naming the file when it cannot be opened, sized or read.
  explicit MappedFile(const std::string& path) {
#ifdef BERTPP_HAVE_MMAP
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw IoError(path + ": cannot open file");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw IoError(path + ": not a regular file");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        mapped_ = p;
        data_ = static_cast<const unsigned char*>(p);
      }
    }
    ::close(fd);
    if (size_ > 0 && !mapped_) read_all(path);
#else
    read_all(path);
#endif
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
#ifdef BERTPP_HAVE_MMAP
    if (mapped_) ::munmap(mapped_, size_);
#endif
  }

  /// @brief First byte (nullptr for an empty file).
  const unsigned char* data() const noexcept { return data_; }
  /// @brief Size in bytes.
  std::size_t size() const noexcept { return size_; }
  /// @brief Lets the OS drop the whole pages of [p, p + n) from this process's memory: they
  /// stay valid and are read again from the file (page cache) when touched. Does nothing for
  /// a heap copy or a range outside the mapping. Safe because the mapping is read-only and
  /// private, so no page of it was ever written (MADV_DONTNEED would discard a write).
  void release(const void* p, std::size_t n) const noexcept {
#ifdef BERTPP_HAVE_MMAP
    const auto* b = static_cast<const unsigned char*>(p);
    if (!mapped_ || b < data_ || n > size_ || b - data_ > static_cast<std::ptrdiff_t>(size_ - n))
      return;
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto begin = (reinterpret_cast<std::uintptr_t>(b) + page - 1) / page * page;
    const auto end = (reinterpret_cast<std::uintptr_t>(b) + n) / page * page;
    if (page > 0 && begin < end)
      ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
#else
    (void)p;
    (void)n;
#endif
  }

 private:
  void read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path + ": cannot open file");
    in.seekg(0, std::ios::end);
    const auto end = in.tellg();
    if (end < 0) throw IoError(path + ": cannot determine the file size");
    in.seekg(0);
    copy_.resize(static_cast<std::size_t>(end));
    if (!copy_.empty() &&
        !in.read(reinterpret_cast<char*>(copy_.data()), static_cast<std::streamsize>(copy_.size())))
      throw IoError(path + ": read failed");
    size_ = copy_.size();
    data_ = copy_.empty() ? nullptr : copy_.data();
  }

  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
  void* mapped_ = nullptr;
  std::vector<unsigned char> copy_;
};

}  // namespace bertpp::detail
