#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's main-job command: installs what is missing, fetches the default model,
# builds only the example bertpp_main and runs it with the given arguments.
#
#   bash tools/run_example.sh [arguments for bertpp_main...]
#   BERTPP_CACHE=/path   model cache (default ~/.cache/bertpp)
set -euo pipefail

TARGET="bertpp_main"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export BERTPP_CACHE="${BERTPP_CACHE:-$HOME/.cache/bertpp}"

bash tools/bootstrap.sh
model=$(bash tools/fetch_model.sh all-MiniLM-L6-v2)
export BERTPP_MODEL="${BERTPP_MODEL:-$model}"

# Examples only: no tests or benchmarks to configure. Build output goes to stderr so that
# stdout carries only what the example prints.
{
  cmake -S . -B build-example -DCMAKE_BUILD_TYPE=Release -DBERTPP_BUILD_TESTS=OFF \
    -DBERTPP_BUILD_BENCH=OFF -DBERTPP_BUILD_EXAMPLES=ON >/dev/null
  cmake --build build-example -j "${JOBS:-$(nproc)}" --target "$TARGET"
} >&2

exe=$(find build-example -type f -name "$TARGET" -perm -u+x | head -n 1)
[[ -n "$exe" ]] || { echo "run_example: $TARGET was not built" >&2; exit 1; }
exec "$exe" "$@"
