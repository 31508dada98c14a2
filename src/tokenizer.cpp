// SPDX-License-Identifier: Apache-2.0
// bertpp's compiled mode, part 1 of 2 (the `bertpp::compiled` library): the tokenizer's
// entry points, which the headers only declare in a program compiled with BERTPP_COMPILED
// (bertpp/core/compiled.hpp). Outside CMake: compile src/tokenizer.cpp and src/pipelines.cpp
// once, and every file of the program with -DBERTPP_COMPILED.
#define BERTPP_COMPILED_SOURCE_TOKENIZER
#include "bertpp/tokenizer/tokenizer.hpp"
