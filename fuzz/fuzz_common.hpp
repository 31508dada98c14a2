// SPDX-License-Identifier: Apache-2.0
// What the file fuzz targets share: a scratch folder (in /dev/shm when there is one, so
// that writing each input costs no disk) and writing bytes to a file in it.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace bertpp_fuzz {

/// @brief Aborts (a finding) with `what` unless `ok`.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

/// @brief A scratch folder made once per process.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string tmpl =
        (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/bertpp_fuzz_XXXXXX");
    const char* d = mkdtemp(&tmpl[0]);
    check(d != nullptr, "mkdtemp");
    return std::string(d);
  }();
  return dir;
}

/// @brief Writes `n` bytes at `data` to `path`.
inline void write_file(const std::string& path, const void* data, std::size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  check(static_cast<bool>(out), "write scratch file");
}

/// @brief Removes `path` when it exists.
inline void remove_file(const std::string& path) { std::remove(path.c_str()); }

}  // namespace bertpp_fuzz
