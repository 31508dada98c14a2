#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: installs what is missing, fetches the test model, builds
# everything with warnings as errors (g++) and runs ctest; builds everything again with
# clang++ -Werror; then rebuilds the tests listed below with clang++ under AddressSanitizer +
# UBSan and runs them. Exits non-zero on any failure.
#
#   bash tools/run_tests.sh
#   BERTPP_CACHE=/path   cache for models and the Python venv (default ~/.cache/bertpp)
#   JOBS=N               parallel jobs (default: nproc)
set -euo pipefail

# The ctest label whose tests also run under the sanitizers; SANITIZE_TARGETS, when set,
# names the targets to build for them (default: the executables of the tests with that label).
SANITIZE_LABEL="tokenizer"
SANITIZE_TARGETS="${SANITIZE_TARGETS:-}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="${JOBS:-$(nproc)}"
export BERTPP_CACHE="${BERTPP_CACHE:-$HOME/.cache/bertpp}"

step() { printf '\n== %s\n' "$*"; }

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

# run_ctest <build dir> <ctest args...>: runs ctest, adds its counts to the totals.
run_ctest() {
  local dir="$1" log rc=0
  shift
  log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure -j "$jobs" "$@") 2>&1 | tee "$log" || rc=$?
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  if [[ -n "$line" ]]; then
    local nfail total
    nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + total - nfail))
    failed=$((failed + nfail))
  fi
  rm -f "$log"
  [[ $rc -eq 0 ]] || status=1
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

step "build (Release, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBERTPP_WERROR=ON
# shellcheck disable=SC2046  # keep_going prints zero, one or two words
cmake --build build -j "$jobs" -- $(keep_going build) || status=1

step "ctest"
run_ctest build

step "build with clang++ (-Werror): every target compiles without warnings on the second compiler"
cmake -S . -B build-clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release -DBERTPP_WERROR=ON \
  >/dev/null
# shellcheck disable=SC2046  # keep_going prints zero, one or two words
cmake --build build-clang -j "$jobs" -- $(keep_going build-clang) >/dev/null || {
  echo "clang++ build FAILED; rerun: cmake --build build-clang"
  cmake --build build-clang -j 1 2>&1 | grep -E -B2 -A6 'error|warning' | head -n 60
  status=1
}

step "sanitizers (clang++, ASan + UBSan): tests labelled '$SANITIZE_LABEL'"
cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBERTPP_SANITIZE=ON -DBERTPP_WERROR=ON -DBERTPP_BUILD_EXAMPLES=OFF -DBERTPP_BUILD_BENCH=OFF \
 
targets="$SANITIZE_TARGETS"
if [[ -z "$targets" ]]; then
  # The executables of the tests with the label: targets named as their tests (as
  # bertpp_add_test makes them). ctest lists no command for an executable not built yet.
  targets=$(cd build-asan && ctest -N -L "$SANITIZE_LABEL" --show-only=json-v1 | python3 -c '
import json, os, sys
names = set()
for t in json.load(sys.stdin).get("tests", []):
    cmd = t.get("command") or []
    if not cmd or os.path.basename(cmd[0]) == t["name"]:
        names.add(t["name"])
print(" ".join(sorted(names)))')
fi
if [[ -z "$targets" ]]; then
  echo "no test is labelled '$SANITIZE_LABEL' yet: nothing to run under the sanitizers"
else
  # shellcheck disable=SC2086,SC2046  # word lists
  cmake --build build-asan -j "$jobs" --target $targets -- $(keep_going build-asan) || status=1
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  run_ctest build-asan -L "$SANITIZE_LABEL"
fi

step "summary"
if [[ $status -ne 0 ]]; then
  echo "run_tests: FAILED (a build step or a test failed; see above)"
fi
echo "ctest: $passed passed, $failed failed"
exit "$status"
