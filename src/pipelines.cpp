// SPDX-License-Identifier: Apache-2.0
// bertpp's compiled mode, part 2 of 2 (the `bertpp::compiled` library): the pipelines' entry
// points (load, classify, embed, ...) and encode_features, with the float models and kernels
// they run; see src/tokenizer.cpp.
#define BERTPP_COMPILED_SOURCE_PIPELINES
#include "bertpp/bertpp.hpp"

namespace bertpp {
// Declared extern in compiled mode (models/bert.hpp, heads/classification.hpp,
// heads/pretraining.hpp).
template class EncoderModel<float>;
template class SequenceClassification<float>;
template class TokenClassification<float>;
template class QuestionAnswering<float>;
template class MaskedLM<float>;
template class NextSentence<float>;
template class PreTraining<float>;
template class ReplacedTokenDetection<float>;
}  // namespace bertpp
