#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The classic BERT classification recipe in Keras (tf-keras), as examples/train_classifier.cpp.

The head of TensorFlow's BERT tutorials on frozen encoder features:

    x = Input(shape=(hidden,)); x = Dropout(0.1)(x); out = Dense(1, activation='sigmoid')(x)
    model.compile(optimizer=Adam(learning_rate), loss='binary_crossentropy', metrics=['accuracy'])

(N > 2 labels: Dense(N, activation='softmax') and sparse_categorical_crossentropy), Keras'
own defaults everywhere else (Glorot-uniform kernel, zero bias, Adam betas 0.9 / 0.999 and
epsilon 1e-7, shuffled batches, float32). Same hyper-parameters as train_classifier and
tools/train_classifier.py (epochs 10, batch 32, learning rate 1e-3, dropout 0.1, seed 42).

Features: the files `train_classifier --dump-features DIR` writes, read by
tools/classifier_features.py as tools/train_classifier.py reads them, so the three trainers
see the same numbers.

  ~/.cache/bertpp/tf-venv/bin/python tools/train_classifier_keras.py --features ~/.cache/bertpp/features/sst2-minilm

Pinned versions: tools/requirements-tf.txt (tensorflow-cpu, tf-keras).
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.keras is tf-keras (Keras 2)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from classifier_features import load_dumped_features  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--features", required=True, help="folder written by train_classifier --dump-features")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    import tensorflow as tf
    import tf_keras as keras

    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    keras.utils.set_random_seed(a.seed)

    t0 = time.perf_counter()
    x, y, ex, ey = load_dumped_features(a.features)
    load_s = time.perf_counter() - t0
    k = int(y.max()) + 1
    binary = k == 2

    inputs = keras.Input(shape=(x.shape[1],), name="features")
    h = keras.layers.Dropout(a.dropout)(inputs)
    if binary:
        outputs = keras.layers.Dense(1, activation="sigmoid")(h)
        loss = "binary_crossentropy"
    else:
        outputs = keras.layers.Dense(k, activation="softmax")(h)
        loss = "sparse_categorical_crossentropy"
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=a.learning_rate), loss=loss,
                  metrics=["accuracy"])

    t1 = time.perf_counter()
    hist = model.fit(x, y, batch_size=a.batch_size, epochs=a.epochs, shuffle=True,
                     verbose=0 if a.json else 2)
    train_s = time.perf_counter() - t1
    _, acc = model.evaluate(ex, ey, batch_size=256, verbose=0)
    prob = model.predict(ex, batch_size=256, verbose=0)
    pred = (prob[:, 0] > 0.5).astype("int64") if binary else prob.argmax(1)
    ok = int((pred == ey).sum())
    summary = {"train_examples": int(x.shape[0]), "eval_examples": int(len(ey)),
               "eval_accuracy": ok / len(ey), "keras_evaluate_accuracy": float(acc),
               "epochs": [{"epoch": i + 1, "loss": float(v)} for i, v in enumerate(hist.history["loss"])],
               "load_seconds": load_s, "train_seconds": train_s,
               "versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__}}
    if a.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"eval accuracy {ok / len(ey):.4f} ({ok}/{len(ey)}); Keras evaluate(): {acc:.4f}")
        print(f"time: loading {load_s:.1f} s, training {train_s:.1f} s")


if __name__ == "__main__":
    main()
