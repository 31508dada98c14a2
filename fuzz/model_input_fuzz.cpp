// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the model's inputs. Batches of sequences of any length whose ids, type
// ids and attention masks take any value (negative, past the vocabulary, lengths that
// disagree) run through BertModel<float>::forward on the tiny fixture model
// (tests/fixtures/tiny-bert: vocabulary 99, 2 token types, 40 positions) and through the
// sentence pooling; bad input must be an InputError, good input finite outputs of the
// right shapes.
//
// Input layout: byte 0: number of sequences (1 + b % 4) and flags; then per sequence one
// byte of length (b % 48), one byte of field-length skews (type ids / mask shorter or
// longer by one, or empty), then 4 bytes per id (little-endian int32, mapped into a small
// range for most bytes so that valid batches are common), 1 byte per type id and mask.
#include <bertpp/heads/pooling.hpp>
#include <bertpp/models/bert.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_common.hpp"

namespace {

using bertpp_fuzz::check;

const bertpp::BertModel<float>& model() {
  static const bertpp::BertModel<float> m = bertpp::BertModel<float>::load(BERTPP_FUZZ_TINY_MODEL);
  return m;
}

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::int32_t id() {
    const std::uint8_t kind = byte();
    if (kind < 224) return kind % 100;  // mostly in the vocabulary (99 ids): valid batches
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(byte()) << (8 * i);
    std::int32_t s;
    std::memcpy(&s, &v, sizeof s);
    return s;
  }
};

// A field of n values from `r` (`value` maps a byte), its length skewed by `skew`
// (0: n, 1: n - 1, 2: n + 1, 3: empty).
template <typename F>
std::vector<std::int32_t> field(Reader& r, std::size_t n, int skew, F value) {
  std::size_t len = skew == 0 ? n : skew == 1 ? (n ? n - 1 : 0) : skew == 2 ? n + 1 : 0;
  std::vector<std::int32_t> out(len);
  for (auto& v : out) v = value(r.byte());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Reader r{data, size};
  const std::uint8_t head = r.byte();
  const std::size_t count = 1 + head % 4;
  std::vector<bertpp::Encoding> batch;
  for (std::size_t s = 0; s < count; ++s) {
    const std::size_t len = r.byte() % 48;
    const std::uint8_t skews = r.byte();
    std::vector<std::int32_t> ids(len);
    for (auto& id : ids) id = r.id();
    auto type_ids = field(r, len, skews & 3, [](std::uint8_t b) {
      return b < 250 ? b % 2 : static_cast<std::int32_t>(b) - 252;
    });
    auto mask = field(r, len, (skews >> 2) & 3, [](std::uint8_t b) {
      return b < 250 ? static_cast<std::int32_t>(b % 5 != 0) : static_cast<std::int32_t>(b) - 252;
    });
    batch.push_back(bertpp::Encoding::from_ids(ids, type_ids, mask));
  }
  try {
    const auto out = model().forward(batch);
    check(out.last_hidden_state.size() == batch.size(), "one output per sequence");
    check(out.pooler_output.rows() == static_cast<Eigen::Index>(batch.size()), "pooler rows");
    for (std::size_t s = 0; s < batch.size(); ++s) {
      const auto& h = out.last_hidden_state[s];
      check(h.rows() == static_cast<Eigen::Index>(batch[s].ids.size()) && h.cols() == 36,
            "output shape");
      check(h.allFinite(), "finite outputs");
    }
    check(out.pooler_output.allFinite(), "finite pooler output");
    for (auto mode : {bertpp::PoolingMode::cls, bertpp::PoolingMode::mean, bertpp::PoolingMode::max,
                      bertpp::PoolingMode::mean_sqrt_len}) {
      const auto pooled = bertpp::pool(out.last_hidden_state, batch, mode, (head & 16) != 0);
      check(pooled.rows() == static_cast<Eigen::Index>(batch.size()) && pooled.allFinite(),
            "pooled");
    }
  } catch (const bertpp::InputError&) {
  }
  // pool() on its own, with masks that need not match the rows.
  try {
    std::vector<bertpp::Matrix<float>> hidden;
    for (const auto& e : batch)
      hidden.push_back(bertpp::Matrix<float>::Ones(static_cast<Eigen::Index>(e.ids.size()), 3));
    const auto pooled = bertpp::pool(hidden, batch, bertpp::PoolingMode::mean, (head & 32) != 0);
    check(pooled.allFinite(), "pooled ones finite");
  } catch (const bertpp::InputError&) {
  }
  return 0;
}
