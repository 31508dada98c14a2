#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: installs what is missing, fetches the test model, builds
# everything with warnings as errors (g++) and runs ctest; builds everything again with
# clang++ -Werror; then rebuilds the tests listed below with clang++ under AddressSanitizer +
# UBSan and runs them; then builds the libFuzzer targets (fuzz/) and runs each for
# FUZZ_SECONDS on its seeds. Exits non-zero on any failure, and also when a test area is left
# out (-DBERTPP_CI=ON makes CMake stop), a bertpp_add_test of the tree is not registered, or
# ctest ran fewer tests than it lists.
#
#   bash tools/run_tests.sh
#   BERTPP_CACHE=/path   cache for models and the Python venv (default ~/.cache/bertpp)
#   JOBS=N               parallel jobs (default: nproc)
#   FUZZ_SECONDS=N       seconds per fuzz target (default 20; 0 skips fuzzing)
set -euo pipefail

# The ctest labels (a regular expression) whose tests also run under the sanitizers;
# SANITIZE_TARGETS, when set, names the targets to build for them (default: the executables
# of the tests with those labels). unit + hardening add about 4 CPU-minutes of ASan build
# and 3 s of tests.
SANITIZE_LABEL="tokenizer|unit|hardening|kernels"
SANITIZE_TARGETS="${SANITIZE_TARGETS:-}"

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
step "build (Release, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBERTPP_WERROR=ON -DBERTPP_CI=ON -DBERTPP_BUILD_BENCH=OFF
# shellcheck disable=SC2046  # keep_going prints zero, one or two words
cmake --build build -j "$jobs" -- $(keep_going build) || status=1

step "ctest"
check_registered build
run_ctest build

# At -O0 without debug info: clang's warnings come from its front end, so they are the same as
# at -O3, and the build takes less than half the time (nothing of it runs).
step "build with clang++ (-Werror, -O0): every target compiles without warnings on the second compiler"
cmake -S . -B build-clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
  -DBERTPP_WERROR=ON -DBERTPP_CI=ON >/dev/null
# shellcheck disable=SC2046  # keep_going prints zero, one or two words
cmake --build build-clang -j "$jobs" -- $(keep_going build-clang) >/dev/null || {
  echo "clang++ build FAILED; rerun: cmake --build build-clang"
  cmake --build build-clang -j 1 2>&1 | grep -E -B2 -A6 'error|warning' | head -n 60
  status=1
}

step "sanitizers (clang++, ASan + UBSan): tests labelled '$SANITIZE_LABEL'"
cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBERTPP_SANITIZE=ON -DBERTPP_WERROR=ON -DBERTPP_CI=ON -DBERTPP_BUILD_EXAMPLES=OFF -DBERTPP_BUILD_BENCH=OFF \
 
targets="$SANITIZE_TARGETS"
if [[ -z "$targets" ]]; then
  # The executables of the tests with the label: targets named as their tests (as
  # bertpp_add_test makes them), kept only when the build has such a target (a test may run
  # another test's executable; ctest lists no command for one not built yet).
  known=$(cmake --build build-asan --target help | sed -n -E 's/^\.\.\. ([A-Za-z0-9_]+).*/\1/p; s/^([A-Za-z0-9_]+): .*/\1/p')
  targets=$(cd build-asan && ctest -N -L "$SANITIZE_LABEL" --show-only=json-v1 | KNOWN="$known" python3 -c '
import json, os, sys
known = set(os.environ["KNOWN"].split())
names = set()
for t in json.load(sys.stdin).get("tests", []):
    cmd = t.get("command") or []
    if (not cmd or os.path.basename(cmd[0]) == t["name"]) and t["name"] in known:
        names.add(t["name"])
print(" ".join(sorted(names)))')
fi
if [[ -z "$targets" ]]; then
  echo "no test is labelled '$SANITIZE_LABEL' yet: nothing to run under the sanitizers"
else
  # One goal for all of them, so that they build in parallel (see bertpp_group in CMakeLists.txt).
  cmake -S . -B build-asan -DBERTPP_TARGET_GROUP="${targets// /;}" >/dev/null
  # shellcheck disable=SC2046  # keep_going prints zero, one or two words
  cmake --build build-asan -j "$jobs" --target bertpp_group -- $(keep_going build-asan) || status=1
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  run_ctest build-asan -L "$SANITIZE_LABEL"
fi

fuzz_seconds="${FUZZ_SECONDS:-20}"
if [[ "$fuzz_seconds" != 0 ]]; then
  step "fuzz (clang++, libFuzzer + ASan + UBSan): every target for ${fuzz_seconds} s on its seeds"
  cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DBERTPP_BUILD_FUZZ=ON -DBERTPP_WERROR=ON \
    -DBERTPP_BUILD_TESTS=OFF -DBERTPP_BUILD_EXAMPLES=OFF -DBERTPP_BUILD_BENCH=OFF >/dev/null
  fuzz_targets=(tokenizer safetensors config head model_input sentencepiece)
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
