// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the safetensors reader (header length, header JSON, dtypes, shapes,
// data offsets) and the weight store on top of it (every float tensor converted, so that
// every byte a header points at is read), plus model.safetensors.index.json shard names.
//
// Input layout: byte 0 selects the mode, the rest is the payload.
//   even: payload is a safetensors file.
//   odd:  payload is a model.safetensors.index.json, in a folder holding one valid shard
//         (`shard.safetensors`) and, outside it, a file that must never be read.
#include <bertpp/io/weight_store.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"

namespace {

using bertpp_fuzz::check;

// Reads every tensor of `store` that the store can convert, and checks its shape.
void read_all(const bertpp::WeightStore& store) {
  for (const auto& name : store.names()) {
    const bertpp::TensorInfo* t = store.find(name);
    check(t != nullptr, "listed tensor found");
    check(t->numel() * bertpp::dtype_size(t->dtype) == t->nbytes,
          "byte length = shape x dtype size");
    if (!bertpp::is_float_dtype(t->dtype)) continue;
    const auto values = store.get<float>(name, t->shape);
    float sum = 0.0f;
    for (std::size_t i = 0; i < t->numel(); ++i) sum += values.data()[i];
    (void)sum;
  }
}

// The folder of the index mode: model/shard.safetensors (valid) and secret.safetensors
// beside the folder (valid too: opening it would not fail, so a traversal is caught below).
const std::string& model_dir() {
  static const std::string dir = [] {
    const std::string root = bertpp_fuzz::scratch_dir();
    const std::string model = root + "/model";
    check(::mkdir(model.c_str(), 0755) == 0 || errno == EEXIST, "mkdir model");
    const std::string shard =
        std::string(8, '\0') + "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    std::string bytes = shard + std::string(4, '\0');
    bytes[0] = static_cast<char>(shard.size() - 8);
    bertpp_fuzz::write_file(model + "/shard.safetensors", bytes.data(), bytes.size());
    std::string secret = bytes;
    secret.replace(secret.find("\"w\""), 3, "\"s\"");
    bertpp_fuzz::write_file(root + "/secret.safetensors", secret.data(), secret.size());
    return model;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool index = data[0] & 1;
  const std::string path = index ? model_dir() + "/model.safetensors.index.json"
                                 : bertpp_fuzz::scratch_dir() + "/input.safetensors";
  bertpp_fuzz::write_file(path, data + 1, size - 1);
  try {
    if (index) {
      const auto store = bertpp::WeightStore::from_dir(model_dir());
      check(store.find("s") == nullptr, "a shard outside the model folder was read");
      read_all(store);
    } else {
      bertpp::WeightStore store;
      store.add_file(path);
      read_all(store);
    }
  } catch (const bertpp::Error&) {
  }
  bertpp_fuzz::remove_file(path);
  return 0;
}
