#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Sentence embeddings of a real checkpoint folder, bertpp against sentence-transformers.

A development check for checkpoints too large for CI (e.g. all-mpnet-base-v2, 420 MB); not
run by CI (needs torch and sentence-transformers, pinned in tools/requirements.txt):
    python3 tools/compare_real_model.py MODEL_DIR [--texts FILE] [--embed build/examples/embed]
FILE holds one text per line, or is a TSV whose first column is the text (default: the 872
SST-2 dev sentences of tests/fixtures/sst2/dev.tsv). Prints the worst cosine and the largest
absolute difference between the two engines' embeddings.
"""
import argparse
import json
import os
import subprocess

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def read_texts(path):
    texts = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            line = line.rstrip("\n")
            if path.endswith(".tsv"):
                if i == 0 and line.split("\t")[0] in ("sentence", "text"):
                    continue
                line = line.split("\t")[0]
            if line.strip():
                texts.append(line)
    return texts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--texts", default=os.path.join(ROOT, "tests", "fixtures", "sst2", "dev.tsv"))
    ap.add_argument("--embed", default=os.path.join(ROOT, "build", "examples", "embed"))
    ap.add_argument("--threads", default="2")
    args = ap.parse_args()
    texts = read_texts(args.texts)
    out = subprocess.run([args.embed, "--vectors", "--json", "--model", args.model, "--threads", args.threads],
                         input="\n".join(texts) + "\n", capture_output=True, text=True, check=True)
    got = np.array(json.loads(out.stdout)["embeddings"], dtype=np.float64)
    from sentence_transformers import SentenceTransformer
    import torch
    torch.set_num_threads(int(args.threads))
    st = SentenceTransformer(args.model, device="cpu")
    want = st.encode(texts, batch_size=32, convert_to_numpy=True).astype(np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    cos = (got * want).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    print(json.dumps({"model": os.path.basename(os.path.normpath(args.model)), "texts": len(texts),
                      "worst_cosine": float(cos.min()), "max_abs_diff": float(np.abs(got - want).max())}))


if __name__ == "__main__":
    main()
