#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seeds of bertpp_tf_bundle_fuzz (fuzz/corpus_tf_bundle/) with TensorFlow itself:
bundles small enough for the fuzz runs' 4 KB inputs. Not run by CI; needs the TF venv of
tools/requirements-tf.txt:

    ~/.cache/bertpp/tf-venv/bin/python fuzz/make_tf_seeds.py

Seeds (layout of fuzz/tf_bundle_fuzz.cpp: mode byte, u32 index length, index, data shard):
  dtypes       mode 0: tests/fixtures/tf/dtypes.ckpt (every dtype, a partitioned variable)
  tf1_google   mode 1: a TF1 checkpoint in Google's naming written by tf.compat.v1's Saver
               (embeddings, one attention kernel to transpose, a LayerNorm, an adam_m slot,
               global_step), 2 x 3 tensors
  tf2_objects  mode 2: an object-based TF2 checkpoint (tf.train.Checkpoint of a tf.Module
               with two variables and a bool), as a SavedModel's variables/ holds it
"""
import os
import struct
import tempfile

import numpy as np
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus_tf_bundle")


def seed(mode, prefix):
    with open(prefix + ".index", "rb") as f:
        index = f.read()
    with open(prefix + ".data-00000-of-00001", "rb") as f:
        data = f.read()
    return bytes([mode]) + struct.pack("<I", len(index)) + index + data


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    assert len(data) <= 4096, (name, len(data))
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def tf1_google(tmp):
    g = tf.Graph()
    with g.as_default():
        rng = np.random.default_rng(7)
        names = {
            "bert/embeddings/word_embeddings": (3, 2),
            "bert/embeddings/LayerNorm/gamma": (2,),
            "bert/encoder/layer_0/attention/self/query/kernel": (2, 2),
            "bert/encoder/layer_0/attention/self/query/bias": (2,),
            "bert/encoder/layer_0/attention/self/query/kernel/adam_m": (2, 2),
        }
        vs = [tf.compat.v1.Variable(rng.standard_normal(s).astype(np.float32), name=n)
              for n, s in names.items()]
        vs.append(tf.compat.v1.Variable(3, dtype=tf.int64, name="global_step"))
        saver = tf.compat.v1.train.Saver(vs)
        with tf.compat.v1.Session(graph=g) as s:
            s.run(tf.compat.v1.global_variables_initializer())
            prefix = os.path.join(tmp, "bert_model.ckpt")
            saver.save(s, prefix, write_meta_graph=False, write_state=False)
    return prefix


def tf2_objects(tmp):
    m = tf.Module()
    m.kernel = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="kernel")
    m.bias = tf.Variable(np.ones(3, dtype=np.float32), name="bias")
    m.do_lower_case = tf.Variable(True, trainable=False, name="do_lower_case")
    d = os.path.join(tmp, "variables")
    os.makedirs(d)
    return tf.train.Checkpoint(m).write(os.path.join(d, "variables"))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        write("dtypes", seed(0, os.path.join(ROOT, "tests", "fixtures", "tf", "dtypes.ckpt")))
        write("tf1_google", seed(1, tf1_google(tmp)))
        write("tf2_objects", seed(2, tf2_objects(tmp)))


if __name__ == "__main__":
    main()
