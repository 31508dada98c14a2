// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a bertpp head folder (head.json + head.safetensors): every field's JSON
// type and range, the tensors against head.json, then the head applied to features.
//
// Input layout: bytes 0..1 (little-endian) give the length L of head.json; the next L bytes
// are head.json, the rest head.safetensors.
#include <bertpp/heads/linear_head.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t json_len = static_cast<std::size_t>(data[0]) | static_cast<std::size_t>(data[1]) << 8;
  data += 2;
  size -= 2;
  if (json_len > size) json_len = size;
  const std::string dir = bertpp_fuzz::scratch_dir();
  bertpp_fuzz::write_file(dir + "/head.json", data, json_len);
  bertpp_fuzz::write_file(dir + "/head.safetensors", data + json_len, size - json_len);
  try {
    const auto head = bertpp::LinearHead::load(dir);
    const auto h = head.encoder.hidden_size;
    bertpp_fuzz::check(
        head.weight.rows() == static_cast<Eigen::Index>(head.outputs()) && head.weight.cols() == h,
        "weight shape");
    bertpp_fuzz::check(head.bias.size() == static_cast<Eigen::Index>(head.outputs()), "bias shape");
    bertpp_fuzz::check(head.max_length >= 2 && head.max_length <= (1u << 20), "max_length range");
    const bertpp::Matrix<float> features = bertpp::Matrix<float>::Ones(2, h);
    const auto logits = head.logits(features);
    const auto p = head.probabilities(logits, 1);
    bertpp_fuzz::check(p.size() == head.labels.size(), "one probability per label");
    bertpp::EncoderIdentity other = head.encoder;
    other.weights_digest += "0";
    try {
      head.check_encoder(other, "other");
      bertpp_fuzz::check(false, "another encoder accepted");
    } catch (const bertpp::WeightError&) {
    }
  } catch (const bertpp::Error&) {
  }
  return 0;
}
