# SPDX-License-Identifier: Apache-2.0
"""The inputs of the classifier-recipe twins (tools/train_classifier.py, PyTorch;
tools/train_classifier_keras.py, Keras): the frozen features that
`train_classifier --dump-features DIR` writes, and the TSV / CSV files of examples.

Features: DIR/train.safetensors and DIR/eval.safetensors, each with 'features'
[n x hidden] and 'labels' [n], read as numpy arrays (numpy + safetensors only, so each
trainer's venv can use it).
"""
import csv
import sys

from safetensors.numpy import load_file


def load_dumped_features(folder):
    """(x, y, ex, ey): train features and integer labels, eval features and labels."""
    tr = load_file(f"{folder}/train.safetensors")
    ev = load_file(f"{folder}/eval.safetensors")
    return (tr["features"], tr["labels"].astype("int64"), ev["features"],
            ev["labels"].astype("int64"))


def read_tsv(path):
    """(texts, labels) of a TSV file (CSV when it ends in .csv) with a header row: the text
    column is 'sentence' or 'text' (else the first), the label column 'label' (else the last)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="," if path.endswith(".csv") else "\t", quoting=csv.QUOTE_NONE
                               if not path.endswith(".csv") else csv.QUOTE_MINIMAL))
    if len(rows) < 2:
        sys.exit(f"{path}: no examples after the header")
    head = rows[0]
    tc = next((i for i, h in enumerate(head) if h in ("sentence", "text")), 0)
    lc = head.index("label") if "label" in head else len(head) - 1
    rows = [r for r in rows[1:] if any(c.strip() for c in r)]
    return [r[tc] for r in rows], [r[lc].strip() for r in rows]
