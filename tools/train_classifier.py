#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The classic BERT classification recipe in PyTorch, as examples/train_classifier.cpp.

Frozen encoder features -> Dropout(0.1) -> Linear(hidden, 1) + sigmoid (2 labels; binary
cross-entropy) or Linear(hidden, N) + softmax (categorical cross-entropy); Glorot-uniform
weights, zero bias, Adam (lr 1e-3, betas 0.9/0.999, eps 1e-7 as Keras), shuffled batches.

Features come from the files `train_classifier --dump-features DIR` writes
(DIR/train.safetensors, DIR/eval.safetensors: 'features' [n x hidden], 'labels' [n]), so both
trainers see the same numbers; or, with --train/--eval TSV files, from sentence-transformers.

  python3 tools/train_classifier.py --features ~/.cache/bertpp/features/sst2-minilm
  python3 tools/train_classifier.py --model DIR --train train.tsv --eval dev.tsv

Pinned versions: tools/requirements.txt. The Keras twin: tools/train_classifier_keras.py
(the same features, read by tools/classifier_features.py).
"""
import argparse
import json
import time

import torch
from safetensors.torch import save_file

from classifier_features import load_dumped_features, read_tsv


def st_features(model, texts):
    from sentence_transformers import SentenceTransformer
    m = SentenceTransformer(model, device="cpu")
    return torch.from_numpy(m.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--features", help="folder written by train_classifier --dump-features")
    p.add_argument("--model", help="sentence-transformers folder (with --train/--eval)")
    p.add_argument("--train")
    p.add_argument("--eval")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="write OUT (safetensors: classifier.weight, classifier.bias)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    t0 = time.perf_counter()
    if a.features:
        x, y, ex, ey = (torch.from_numpy(v) for v in load_dumped_features(a.features))
    else:
        if not (a.model and a.train and a.eval):
            p.error("give --features DIR, or --model, --train and --eval")
        texts, labels = read_tsv(a.train)
        etexts, elabels = read_tsv(a.eval)
        values = sorted(set(labels), key=lambda s: (len(s), s))
        y = torch.tensor([values.index(v) for v in labels])
        ey = torch.tensor([values.index(v) for v in elabels])
        x, ex = st_features(a.model, texts), st_features(a.model, etexts)
    encode_s = time.perf_counter() - t0

    n, h = x.shape
    k = int(y.max().item()) + 1
    binary = k == 2
    layer = torch.nn.Linear(h, 1 if binary else k, dtype=torch.float64)
    torch.nn.init.xavier_uniform_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    model = torch.nn.Sequential(torch.nn.Dropout(a.dropout), layer)
    opt = torch.optim.Adam(model.parameters(), lr=a.learning_rate, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()
    x64, ex64 = x.double(), ex.double()
    gen = torch.Generator().manual_seed(a.seed)
    epochs = []
    t1 = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(n, generator=gen)
        total, batches = 0.0, 0
        for s in range(0, n, a.batch_size):
            idx = order[s:s + a.batch_size]
            z = model(x64[idx])
            loss = loss_fn(z[:, 0], y[idx].double()) if binary else loss_fn(z, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            batches += 1
        epochs.append({"epoch": epoch, "loss": total / batches})
        if not a.json:
            print(f"epoch {epoch}/{a.epochs}  loss {total / batches:.4f}")
    train_s = time.perf_counter() - t1
    model.eval()
    with torch.no_grad():
        z = model(ex64)
        pred = (z[:, 0] > 0).long() if binary else z.argmax(1)
    ok = int((pred == ey).sum())
    acc = ok / len(ey)
    if a.out:
        save_file({"classifier.weight": layer.weight.detach().float().contiguous(),
                   "classifier.bias": layer.bias.detach().float().contiguous()}, a.out)
    summary = {"train_examples": n, "epochs": epochs, "eval_accuracy": acc, "eval_examples": len(ey),
               "encode_seconds": encode_s, "train_seconds": train_s}
    if a.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"eval accuracy {acc:.4f} ({ok}/{len(ey)})")
        print(f"time: loading/encoding {encode_s:.1f} s, training {train_s:.1f} s")


if __name__ == "__main__":
    main()
