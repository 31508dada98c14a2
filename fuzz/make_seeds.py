#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of the file and model-input fuzz targets (fuzz/corpus_<target>/),
from the repository's small fixtures and a few hand-made edge cases. Standard library only.

    python3 fuzz/make_seeds.py
"""
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, "fuzz")
FIX = os.path.join(ROOT, "tests", "fixtures")


def safetensors(header, data=b""):
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def write(target, name, data):
    d = os.path.join(FUZZ, "corpus_" + target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*parts):
    with open(os.path.join(FIX, *parts), "rb") as f:
        return f.read()


def main():
    # safetensors: byte 0 even = a safetensors file, odd = an index.json.
    f32 = struct.pack("<4f", 1, 2, 3, 4)
    write("safetensors", "dtypes", b"\x00" + read("dtypes.safetensors"))
    write("safetensors", "qa_head", b"\x00" + read("heads", "qa", "model.safetensors"))
    write("safetensors", "f32_2x2", b"\x00" + safetensors(
        {"__metadata__": {"format": "pt"}, "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}, f32))
    write("safetensors", "f16_bf16", b"\x00" + safetensors(
        {"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]},
         "b": {"dtype": "BF16", "shape": [2], "data_offsets": [4, 8]},
         "e": {"dtype": "F64", "shape": [0], "data_offsets": [8, 8]}}, f32[:8]))
    write("safetensors", "index_ok", b"\x01" + json.dumps({"weight_map": {"w": "shard.safetensors"}}).encode())
    write("safetensors", "index_dotdot", b"\x01" + json.dumps({"weight_map": {"s": "../secret.safetensors"}}).encode())
    # config.json: the fixtures' configs and a few edge values.
    write("config", "tiny_bert", read("tiny-bert", "config.json"))
    write("config", "seqcls", read("heads", "seqcls", "config.json"))
    write("config", "ner", read("heads", "ner", "config.json"))
    write("config", "edges", json.dumps({"hidden_size": 1e300, "num_labels": -1, "tie_word_embeddings": "false",
                                         "id2label": {"0": "a", "2": "b"}, "num_attention_heads": 0}).encode())
    # head: 2-byte length of head.json, head.json, head.safetensors.
    head = {"format": "bertpp-linear-head", "version": 1, "labels": ["negative", "positive"],
            "activation": "sigmoid", "pooling": "mean", "normalize": True, "max_length": 8,
            "encoder": {"name": "tiny", "hidden_size": 4, "weights_digest": "sampled64:0123456789abcdef"}}
    tensors = safetensors({"classifier.weight": {"dtype": "F32", "shape": [1, 4], "data_offsets": [0, 16]},
                           "classifier.bias": {"dtype": "F32", "shape": [1], "data_offsets": [16, 20]}},
                          f32 + struct.pack("<f", 0.5))
    for name, h in [("sigmoid", head),
                    ("softmax", dict(head, activation="softmax", labels=["a", "b", "c"], pooling="pooler")),
                    ("bad_max_length", dict(head, max_length=1e300))]:
        j = json.dumps(h).encode()
        t = tensors
        if name == "softmax":
            t = safetensors({"classifier.weight": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 48]},
                             "classifier.bias": {"dtype": "F32", "shape": [3], "data_offsets": [48, 60]}},
                            f32 * 3 + f32[:12])
        write("head", name, struct.pack("<H", len(j)) + j + t)
    # model inputs: [count/flags] then per sequence [length][skews] ids type-ids mask.
    def seq(ids, types=None, mask=None, skews=0):
        types = types if types is not None else [0] * len(ids)
        mask = mask if mask is not None else [1] * len(ids)
        return bytes([len(ids), skews]) + bytes(ids) + bytes(types) + bytes(mask)
    write("model_input", "one", bytes([0]) + seq([2, 17, 30, 3]))
    write("model_input", "two_padded", bytes([1]) + seq([2, 5, 6, 7, 3]) + seq([2, 9, 3, 0, 0], mask=[1, 1, 1, 0, 0]))
    write("model_input", "left_padded", bytes([16]) + seq([0, 0, 2, 8, 3], mask=[0, 0, 1, 1, 1]))
    write("model_input", "long", bytes([0]) + seq(list(range(4, 51)) , types=[1] * 47))
    write("model_input", "bad_id", bytes([0]) + bytes([3, 0]) + bytes([2, 250, 255, 255, 255, 127, 3]) + bytes(6))


if __name__ == "__main__":
    main()
