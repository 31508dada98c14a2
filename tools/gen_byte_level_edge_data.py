#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Expected values for byte-level BPE on a vocabulary that lacks most bytes, from HF itself.

  pip install tokenizers==0.23.3
  python3 tools/gen_byte_level_edge_data.py

A real byte-level vocabulary (GPT-2, RoBERTa) holds all 256 bytes, so no byte is ever
dropped. This one holds a few, so HF's BPE drops the others (no unk token) or maps them to
<unk> (fused or not), and its offsets then follow HF's own rules: a piece's offsets are
cumulative over the kept symbols, in bytes of the mapped text, and the prepended space of
add_prefix_space shares the first character's offsets (so trimmed offsets are not always
monotone). The fuzz target found the last one (fuzz/corpus/regress_trim_prefix_space).

Writes tests/tokenizer/data/byte_level_edge/:
  <config>/tokenizer.json  for each config below
  expected.json            {config: [{text, pair, add_special_tokens, max_length, stride,
                            rows: [{ids, tokens, offsets, sequence_ids}]}]}, a case a line
"""
import json
import os
import sys

import tokenizers
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "tokenizer", "data", "byte_level_edge")

VOCAB = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "a": 4, "b": 5, "\u0120": 6,
         "\u0120a": 7, "ab": 8, "\u0120ab": 9, "<mask>": 10, "'": 11, "s": 12, "'s": 13,
         "\u00c3": 14, "\u00a9": 15}
MERGES = [["a", "b"], ["\u0120", "a"], ["\u0120a", "b"], ["'", "s"]]


def config(add_prefix_space, unk_token=None, fuse_unk=False):
    def added(i, content, lstrip=False):
        return {"id": i, "content": content, "single_word": False, "lstrip": lstrip,
                "rstrip": False, "normalized": False, "special": True}
    byte_level = {"type": "ByteLevel", "add_prefix_space": add_prefix_space,
                  "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(0, "<s>"), added(1, "<pad>"), added(2, "</s>"),
                         added(10, "<mask>", lstrip=True)],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                           "trim_offsets": True, "add_prefix_space": add_prefix_space},
        "decoder": dict(byte_level),
        "model": {"type": "BPE", "dropout": None, "unk_token": unk_token,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": fuse_unk, "byte_fallback": False, "ignore_merges": False,
                  "vocab": VOCAB, "merges": MERGES},
    }


CONFIGS = {
    "prefix_dropped": config(True),
    "plain_dropped": config(False),
    "prefix_unk": config(True, "<unk>"),
    "prefix_unk_fused": config(True, "<unk>", fuse_unk=True),
}

TEXTS = ["\u00f6", "w\u00f6", " w\u00f6", "a\u00f6", "\u00f6a", "ab \u00f6", "xyz", "a\u00f6b",
         "a\u00e9b", "ab's <mask> \u00e9\u00e9ab xx ab", "\U0001F600ab \u4f60a",
         "Hello [MASK] w\u00f6rld, \u4f60\u597d! ab ##a x", "  a  b", ""]
PAIRS = [("Hello [MASK] w\u00f6rld, \u4f60\u597d! ab ##a x", "second [SEP] text"),
         ("ab ab", "\u00f6 s's")]
CASES = ([(t, None, True, 0, 0) for t in TEXTS] + [(t, None, False, 0, 0) for t in TEXTS] +
         [(a, b, True, 0, 0) for a, b in PAIRS] +
         [(a, b, True, 3, 0) for a, b in PAIRS] +  # fewer than the special tokens: no truncation
         [(a, b, True, 9, 1) for a, b in PAIRS[1:]] + [(TEXTS[9], None, True, 6, 2)])


def rows(tok, enc):
    out = []
    for e in [enc] + list(enc.overflowing):
        # tokens as convert_ids_to_tokens gives them (bertpp's Encoding::tokens); HF's
        # Encoding.tokens holds an added token's matched text (" <mask>" with lstrip).
        out.append({"ids": e.ids, "tokens": [tok.id_to_token(i) for i in e.ids],
                    "offsets": [list(o) for o in e.offsets],
                    "sequence_ids": [-1 if s is None else s for s in e.sequence_ids]})
    return out


def main():
    if tokenizers.__version__ != "0.23.3":
        sys.exit("pinned: tokenizers 0.23.3")
    expected = {}
    for name, cfg in CONFIGS.items():
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "tokenizer.json")
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            json.dump(cfg, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        tok = Tokenizer.from_file(path)
        cases = []
        for text, pair, special, max_length, stride in CASES:
            if max_length:
                tok.enable_truncation(max_length=max_length, stride=stride,
                                      strategy="longest_first")
            else:
                tok.no_truncation()
            enc = tok.encode(text, pair, add_special_tokens=special)
            cases.append({"text": text, "pair": pair, "add_special_tokens": special,
                          "max_length": max_length, "stride": stride, "rows": rows(tok, enc)})
        expected[name] = cases
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write("{\n")  # a case per line
        for k, (name, cases) in enumerate(expected.items()):
            fh.write(json.dumps(name) + ": [\n")
            fh.write(",\n".join(json.dumps(c, ensure_ascii=False, separators=(",", ":"))
                                for c in cases))
            fh.write("\n]" + ("," if k + 1 < len(expected) else "") + "\n")
        fh.write("}\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
