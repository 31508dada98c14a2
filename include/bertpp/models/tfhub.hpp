// SPDX-License-Identifier: Apache-2.0
// An encoder's outputs under TF Hub's names (a TF Hub BERT encoder's output dictionary).
#pragma once

#include <cstddef>
#include <iterator>
#include <utility>
#include <vector>

#include "bertpp/core/context.hpp"
#include "bertpp/core/encoding.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/models/bert.hpp"

namespace bertpp {

/// @brief TF Hub's encoder outputs. Rows where the input mask is 0 are zeros (TF computes
/// values there that no downstream layer should read).
template <typename T>
struct TfHubOutputs {
  Matrix<T> pooled_output;                 ///< [batch x hidden]: tanh(dense([CLS]))
  std::vector<Matrix<T>> sequence_output;  ///< per row [seq_length x hidden]: the last layer
  /// [num_layers][batch], each as sequence_output: every transformer layer's output (not
  /// the embeddings); the last one is sequence_output. Empty unless the forward call was
  /// asked for hidden states.
  std::vector<std::vector<Matrix<T>>> encoder_outputs;
};

/// @brief Renames (moves) a forward call's outputs to TF Hub's.
template <typename T>
TfHubOutputs<T> tfhub_outputs(BertOutput<T> out) {
  TfHubOutputs<T> r;
  r.pooled_output = std::move(out.pooler_output);
  r.sequence_output = std::move(out.last_hidden_state);
  if (out.hidden_states.size() > 1)
    r.encoder_outputs.assign(std::make_move_iterator(out.hidden_states.begin() + 1),
                             std::make_move_iterator(out.hidden_states.end()));
  return r;
}

/// @brief The encoder on packed rows (TfHubInputs::encodings()), every layer's output kept,
/// as TF Hub's encoder signature returns them.
template <typename T>
TfHubOutputs<T> tfhub_forward(const EncoderModel<T>& model, const std::vector<Encoding>& rows,
                              Context& ctx) {
  ForwardOptions o;
  o.output_hidden_states = true;
  return tfhub_outputs(model.forward(rows, ctx, o));
}

}  // namespace bertpp
