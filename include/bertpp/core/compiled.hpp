// SPDX-License-Identifier: Apache-2.0
// Header-only or compiled: where the non-template entry points (the pipelines' load and
// run functions, Tokenizer's) are defined.
//
// - Header-only (the default): every definition is in the headers, `inline`; a program
//   compiles all of it in each translation unit that calls it.
// - Compiled (`BERTPP_COMPILED` defined, which linking CMake's `bertpp::compiled` does): the
//   headers declare those functions and the library's two sources define them, once:
//   src/tokenizer.cpp the tokenizer's, src/pipelines.cpp the pipelines' (two files, so that
//   a parallel build compiles them side by side). A translation unit that uses a pipeline
//   then compiles none of the model, tokenizer or kernel code behind it. Define the macro for
//   every translation unit of the program or for none.
//
// Each header keeps those definitions after its classes, under `#if BERTPP_DEFINITIONS`
// (`BERTPP_TOKENIZER_DEFINITIONS` in the tokenizer), each marked `BERTPP_INLINE`: `inline`
// header-only, nothing in the library's sources. `BERTPP_EXTERN_TEMPLATES` declares the
// float models' instantiations extern (`extern template class EncoderModel<float>`), which
// src/pipelines.cpp defines.
#pragma once

#if defined(BERTPP_COMPILED_SOURCE_TOKENIZER)  // src/tokenizer.cpp
#define BERTPP_TOKENIZER_DEFINITIONS 1
#define BERTPP_DEFINITIONS 0
#define BERTPP_INLINE
#define BERTPP_EXTERN_TEMPLATES 1
#elif defined(BERTPP_COMPILED_SOURCE_PIPELINES)  // src/pipelines.cpp
#define BERTPP_TOKENIZER_DEFINITIONS 0
#define BERTPP_DEFINITIONS 1
#define BERTPP_INLINE
#define BERTPP_EXTERN_TEMPLATES 0  // it instantiates them
#elif defined(BERTPP_COMPILED)     // a program linked with bertpp::compiled
#define BERTPP_TOKENIZER_DEFINITIONS 0
#define BERTPP_DEFINITIONS 0
#define BERTPP_INLINE inline
#define BERTPP_EXTERN_TEMPLATES 1
#else  // header-only
#define BERTPP_TOKENIZER_DEFINITIONS 1
#define BERTPP_DEFINITIONS 1
#define BERTPP_INLINE inline
#define BERTPP_EXTERN_TEMPLATES 0
#endif
