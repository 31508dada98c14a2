// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: TensorFlow's tensor bundle (the `.index` LevelDB table: footer, block
// handles, restarts, prefix-compressed entries, block crc32c; the hand-parsed
// BundleHeaderProto / BundleEntryProto / TensorShapeProto; the data shard and each tensor's
// crc32c), read the three ways bertpp reads it: every tensor of the bundle, Google's TF1
// checkpoint names (tf1_checkpoint_tensors), and a TF2 SavedModel's variables through the
// object graph (TrackableObjectGraph, tf2_saved_model_tensors).
//
// Input layout: byte 0 selects the mode (% 3: 0 = every tensor, 1 = TF1 checkpoint,
// 2 = SavedModel variables), bytes 1..4 the `.index` length n (little-endian, capped at the
// input), then n bytes of `.index`, then the rest as the one data shard
// (`.data-00000-of-00001`).
#include <bertpp/io/tf_bundle.hpp>
#include <bertpp/io/tf_checkpoint.hpp>
#include <bertpp/io/tf_saved_model.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"

namespace {

using bertpp_fuzz::check;

// Touches every byte of `t` (so ASan sees a view past its shard) and checks its length.
void touch(const bertpp::TensorInfo& t) {
  std::size_t n = 1;
  for (auto d : t.shape) {
    check(d >= 0, "non-negative dimension");
    n *= static_cast<std::size_t>(d);
  }
  check(n * bertpp::dtype_size(t.dtype) == t.nbytes, "byte length = shape x dtype size");
  unsigned sum = 0;
  for (std::size_t i = 0; i < t.nbytes; ++i) sum += t.data[i];
  (void)sum;
}

void read_every_tensor(const std::string& prefix) {
  const auto bundle = bertpp::TfBundle::open(prefix);
  for (const auto& [name, entry] : bundle->entries()) {
    check(bundle->find(name) == &entry, "listed entry found");
    try {
      if (entry.dtype == bertpp::tf_dtype::kString) {
        for (const auto& s : bundle->strings(name)) (void)s.size();
      } else {
        touch(bundle->tensor(name));
      }
    } catch (const bertpp::Error&) {  // a bad tensor does not stop the others
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const int mode = data[0] % 3;
  std::size_t n = static_cast<std::size_t>(data[1]) | static_cast<std::size_t>(data[2]) << 8 |
                  static_cast<std::size_t>(data[3]) << 16 | static_cast<std::size_t>(data[4]) << 24;
  n = std::min(n, size - 5);
  const std::string dir = bertpp_fuzz::scratch_dir() + "/model";
  const std::string vars = dir + "/variables";
  check((::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) &&
            (::mkdir(vars.c_str(), 0755) == 0 || errno == EEXIST),
        "mkdir model/variables");
  const std::string prefix = mode == 2 ? vars + "/variables" : dir + "/bert_model.ckpt";
  bertpp_fuzz::write_file(prefix + ".index", data + 5, n);
  bertpp_fuzz::write_file(prefix + ".data-00000-of-00001", data + 5 + n, size - 5 - n);
  try {
    if (mode == 0) {
      read_every_tensor(prefix);
    } else if (mode == 1) {
      for (const auto& t : bertpp::tf1_checkpoint_tensors(prefix)) touch(t.info);
    } else {
      for (const auto& t : bertpp::tf2_saved_model_tensors(dir)) touch(t.info);
    }
  } catch (const bertpp::Error&) {
  }
  bertpp_fuzz::remove_file(prefix + ".index");
  bertpp_fuzz::remove_file(prefix + ".data-00000-of-00001");
  return 0;
}
