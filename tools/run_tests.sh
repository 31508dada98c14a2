#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: installs what is missing, checks the formatting, fetches the
# test model, builds everything with warnings as errors (g++ -O2) and runs ctest; installs the
# Python package and runs its pytest suite (Spark's local mode included); builds everything
# again with clang++ -Werror under AddressSanitizer + UBSan and runs the tests there (all
# but the labels below); builds the concurrency stress test with ThreadSanitizer and runs it; then
# builds the libFuzzer targets (fuzz/) and runs each for FUZZ_SECONDS on its seeds. Exits
# non-zero on any failure, and also when a test area is left out (-DBERTPP_CI=ON makes CMake
# stop), a bertpp_add_test of the tree is not registered, or ctest ran fewer tests than it
# lists.
#
#   bash tools/run_tests.sh
#   BERTPP_CACHE=/path   cache for models and the Python venv (default ~/.cache/bertpp)
#   JOBS=N               parallel jobs (default: nproc)
#   FUZZ_SECONDS=N       seconds per fuzz target (default 20; 0 skips fuzzing)
#   SANITIZE_EXCLUDE=RE  the ctest labels that do not run under ASan + UBSan (default below)
set -euo pipefail

# The ctest labels (a regular expression) whose tests do not also run under ASan + UBSan:
# `slow`, the tests that run the real MiniLM or BERT-large over hundreds of sentences (minutes
# each at -O0 with ASan; the same code runs there on the tiny checkpoints), and `packaging`,
# which builds consumer projects with CMake and tests no bertpp code of its own.
SANITIZE_EXCLUDE="${SANITIZE_EXCLUDE:-slow|packaging}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="${JOBS:-$(nproc)}"
export BERTPP_CACHE="${BERTPP_CACHE:-$HOME/.cache/bertpp}"

step() { printf '\n== %s (at %d s)\n' "$*" "$SECONDS"; }

# keep_going <build dir>: the native tool's flag to go on after a failed target, so that one
# broken test area does not hide the results of the others.
keep_going() {
  case "$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$1/CMakeCache.txt")" in
    *Makefiles*) echo "-k" ;;
    Ninja*) echo "-k 0" ;;
  esac
}

passed=0
failed=0
status=0

# run_ctest <build dir> <ctest args...>: runs ctest, adds its counts to the totals. The
# number of tests ctest ran must be the number it lists (`ctest -N`, same arguments): a
# summary that is missing or counts fewer tests fails the run.
run_ctest() {
  local dir="$1" log rc=0 expected
  shift
  expected=$(cd "$dir" && ctest -N "$@" | sed -n 's/^Total Tests: //p')
  log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure -j "$jobs" "$@") 2>&1 | tee "$log" || rc=$?
  local line total=-1
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  if [[ -n "$line" ]]; then
    local nfail
    nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + total - nfail))
    failed=$((failed + nfail))
  fi
  if [[ -z "$expected" || "$total" != "$expected" ]]; then
    [[ $total -ge 0 ]] || total="no"
    echo "run_tests: ctest in $dir ran $total tests but lists ${expected:-none} ($*): tests went missing"
    rc=1
  fi
  rm -f "$log"
  [[ $rc -eq 0 ]] || status=1
}

# check_registered <build dir>: every `bertpp_add_test(NAME x ...)` of the tree's CMake files
# is a test of the build (no area or test left out by a condition).
check_registered() {
  local listed missing=0 name
  listed=$(cd "$1" && ctest -N | sed -n -E 's/^ *Test +#[0-9]+: //p')
  for name in $(grep -rhE --include=CMakeLists.txt --include='*.cmake' '^ *bertpp_add_test\(NAME [A-Za-z0-9_]+' \
                  tests examples bench 2>/dev/null | sed -E 's/^ *bertpp_add_test\(NAME ([A-Za-z0-9_]+).*/\1/' | sort -u); do
    if ! grep -qx "$name" <<<"$listed"; then
      echo "run_tests: test '$name' is in the tree but not registered in $1"
      missing=1
    fi
  done
  [[ $missing -eq 0 ]] || status=1
}

step "bootstrap"
bash tools/bootstrap.sh

step "format (clang-format, .clang-format)"
bash tools/check_format.sh || status=1

step "test model"
model=$(bash tools/fetch_model.sh all-MiniLM-L6-v2)
echo "$model"

# Python packages for the tests that call Python (a venv in the cache, which the test
# CMake files pick up), when the project has the script that makes it.
if [[ -f tools/setup_python.sh ]]; then
  step "python venv"
  bash tools/setup_python.sh
fi

# The benchmarks run no test: they are compiled (and warned about) by the clang++ step below,
# not built optimised here.
# -O2, not CMake's Release default -O3: a quarter less compile time for the same tests.
step "build (Release -O2, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DBERTPP_WERROR=ON -DBERTPP_CI=ON -DBERTPP_BUILD_BENCH=OFF
# shellcheck disable=SC2046  # keep_going prints zero, one or two words
cmake --build build -j "$jobs" -- $(keep_going build) || status=1

step "ctest"
check_registered build
run_ctest build

# The Python package (python/): built from this checkout as a user builds it (pip install
# ./python: scikit-build-core + nanobind, the pins of python/pyproject.toml, from PyPI), into
# the test venv, then its pytest suite against HF.
if [[ -f python/pyproject.toml ]]; then
  step "python package: pip install ./python, pytest python/tests"
  py=$(bash tools/setup_python.sh)
  pip_target=()
  if ! "$py" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
    pip_target=(--target "${BERTPP_CACHE}/pylib-bertpp" --upgrade)  # not a venv: beside it
    export PYTHONPATH="${BERTPP_CACHE}/pylib-bertpp${PYTHONPATH:+:${PYTHONPATH}}"
  fi
  if "$py" -m pip install --quiet --disable-pip-version-check "${pip_target[@]}" ./python; then
    "$py" -m pytest -q -p no:cacheprovider python/tests || status=1
  else
    echo "pip install ./python FAILED"
    status=1
  fi
fi

# The second compiler, and the sanitizers, in one build: clang++ at -O0 with AddressSanitizer +
# UBSan, every target (tests, examples, benchmarks) with -Werror. Clang's warnings come from its
# front end, the same at -O0 as at -O3; an instrumented -O0 build compiles about four times
# faster than -O1 and the tests below still run in seconds. Then every test but those
# labelled $SANITIZE_EXCLUDE runs under the sanitizers.
step "clang++ -O0 with ASan + UBSan (-Werror): every target; then every test not labelled '$SANITIZE_EXCLUDE'"
cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O0 -gline-tables-only -DNDEBUG" \
  -DBERTPP_SANITIZE=ON -DBERTPP_WERROR=ON -DBERTPP_CI=ON >/dev/null
# shellcheck disable=SC2046  # keep_going prints zero, one or two words
if cmake --build build-asan -j "$jobs" -- $(keep_going build-asan) >/dev/null; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  run_ctest build-asan -LE "$SANITIZE_EXCLUDE"
else
  echo "clang++ build FAILED; rerun: cmake --build build-asan"
  cmake --build build-asan -j 1 2>&1 | grep -E -B2 -A6 'error|warning' | head -n 60
  status=1
fi

# ThreadSanitizer (its own runtime, so its own build): the concurrency stress test, 8 threads
# on shared models against serial results. Only that test's target is built.
step "clang++ -O1 with ThreadSanitizer: the tests labelled 'stress'"
cmake -S . -B build-tsan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g -DNDEBUG" -DBERTPP_TSAN=ON -DBERTPP_WERROR=ON \
  -DBERTPP_BUILD_EXAMPLES=OFF -DBERTPP_BUILD_BENCH=OFF >/dev/null
if cmake --build build-tsan -j "$jobs" --target stress_concurrency_test >/dev/null; then
  TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}" run_ctest build-tsan -L stress
else
  echo "ThreadSanitizer build FAILED; rerun: cmake --build build-tsan --target stress_concurrency_test"
  status=1
fi

fuzz_seconds="${FUZZ_SECONDS:-20}"
if [[ "$fuzz_seconds" != 0 ]]; then
  step "fuzz (clang++, libFuzzer + ASan + UBSan): every target for ${fuzz_seconds} s on its seeds"
  cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DBERTPP_BUILD_FUZZ=ON -DBERTPP_WERROR=ON \
    -DBERTPP_BUILD_TESTS=OFF -DBERTPP_BUILD_EXAMPLES=OFF -DBERTPP_BUILD_BENCH=OFF >/dev/null
  fuzz_targets=(tokenizer safetensors config head model_input sentencepiece tf_bundle)
  # The fuzz targets are all this build has: `all` builds them in parallel (several --target
  # goals would build one after another).
  # shellcheck disable=SC2046  # keep_going prints zero, one or two words
  cmake --build build-fuzz -j "$jobs" -- $(keep_going build-fuzz) >/dev/null || {
    echo "fuzz build FAILED; rerun: cmake --build build-fuzz"
    status=1
  }
  for t in "${fuzz_targets[@]}"; do
    seeds="fuzz/corpus_$t"
    [[ $t == tokenizer ]] && seeds="fuzz/corpus"
    bin="build-fuzz/fuzz/bertpp_${t}_fuzz"
    [[ -x "$bin" ]] || { echo "fuzz: $bin was not built"; status=1; continue; }
    work=$(mktemp -d)
    cp -r "$seeds/." "$work/"
    if (cd "$work" && "$root/$bin" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
          -max_len=4096 -print_final_stats=1 . >"$work/log" 2>&1); then
      echo "fuzz $t: $(grep -E '^stat::number_of_executed_units' "$work/log" | awk '{print $2}') runs, nothing found"
    else
      echo "fuzz $t: FOUND something; the input was saved in $work (crash-*, oom-*, timeout-*, leak-*):"
      tail -n 40 "$work/log"
      status=1
      continue
    fi
    rm -rf "$work"
  done
fi

step "summary"
if [[ $status -ne 0 ]]; then
  echo "run_tests: FAILED (a build step or a test failed; see above)"
fi
echo "ctest: $passed passed, $failed failed"
exit "$status"
