#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages that bertpp's build, tests and tools need, skipping those
# already installed. Idempotent; prints nothing when nothing is missing. Needs root (or sudo)
# only when something is missing.
#
#   bash tools/bootstrap.sh
set -euo pipefail

PACKAGES=(
  build-essential cmake            # g++ and make, CMake >= 3.14
  libeigen3-dev nlohmann-json3-dev # the library's dependencies
  libgtest-dev libbenchmark-dev    # tests and benchmarks
  clang libclang-rt-14-dev         # the second compiler, and its sanitizer runtimes
  clang-format                     # the format check (tools/check_format.sh)
  python3 python3-pip python3-venv # the model download and the reference tools
  pkg-config libcpp-httplib-dev    # bertpp-server (examples/server.cpp)
  openjdk-17-jre-headless          # Spark's JVM for python/tests/test_spark.py (pyspark 4: Java 17+)
)

installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == "installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "bootstrap: missing ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
fi

echo "bootstrap: installing ${missing[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -q &&
       "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
     >"$log" 2>&1 </dev/null; then
  cat "$log" >&2
  echo "bootstrap: apt-get failed" >&2
  exit 1
fi
