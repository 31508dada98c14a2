#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes (or reuses) the Python environment for the test setup and, given arguments, runs
# them with its interpreter:   tools/setup_python.sh [script.py args...]
#
# The environment holds the pinned packages of tools/requirements-test.txt (HF transformers
# and tokenizers as the tokenizer reference, numpy; no torch). In order:
#   1. $BERTPP_PYTHON, if set, is used as is.
#   2. The venv ${BERTPP_CACHE:-$HOME/.cache/bertpp}/venv, when its stamp matches the
#      requirements (a re-run costs no pip call).
#   3. python3 itself, when it already has exactly the pinned versions (offline machines).
#   4. A new venv + `pip install -r`; if the venv module is missing (Debian without
#      python3-venv), `python3 -m pip install --target ${cache}/pylib` and PYTHONPATH.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="${here}/requirements-test.txt"
cache="${BERTPP_CACHE:-$HOME/.cache/bertpp}"
venv="${cache}/venv"
pylib="${cache}/pylib"
base="${PYTHON:-python3}"
stamp_of() { { cat "${req}"; "$1" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1; }

# True when interpreter $1 has every pinned package of requirements-test.txt.
has_pins() {
  "$1" - "${req}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, want = line.split("==")
        if version(name) != want:
            sys.exit(1)
PY
}

py=""
if [[ -n "${BERTPP_PYTHON:-}" ]]; then
  py="${BERTPP_PYTHON}"
elif [[ -x "${venv}/bin/python" && -f "${venv}/.bertpp-stamp" ]] &&
     [[ "$(cat "${venv}/.bertpp-stamp")" == "$(stamp_of "${venv}/bin/python")" ]]; then
  py="${venv}/bin/python"
elif [[ -f "${pylib}/.bertpp-stamp" && "$(cat "${pylib}/.bertpp-stamp")" == "$(stamp_of "${base}")" ]]; then
  export PYTHONPATH="${pylib}${PYTHONPATH:+:${PYTHONPATH}}"
  py="${base}"
elif has_pins "${base}"; then
  py="${base}"
else
  mkdir -p "${cache}"
  rm -rf "${venv}"
  if "${base}" -m venv "${venv}" >/dev/null 2>&1 && [[ -x "${venv}/bin/pip" ]]; then
    echo "setup_python: installing the pinned packages of ${req} into ${venv}" >&2
    "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check -r "${req}" >&2
    stamp_of "${venv}/bin/python" > "${venv}/.bertpp-stamp"  # written last: a failed install retries
    py="${venv}/bin/python"
  else
    rm -rf "${venv}"
    echo "setup_python: no venv module; installing into ${pylib} with pip --target" >&2
    rm -rf "${pylib}"
    "${base}" -m pip install --quiet --disable-pip-version-check --target "${pylib}" -r "${req}" >&2
    stamp_of "${base}" > "${pylib}/.bertpp-stamp"
    export PYTHONPATH="${pylib}${PYTHONPATH:+:${PYTHONPATH}}"
    py="${base}"
  fi
fi

if [[ $# -gt 0 ]]; then
  exec "${py}" "$@"
fi
echo "${py}"
