#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""TF Hub's BERT preprocessing, computed by tensorflow_text itself, on the tokenizer corpus.

What `bert_en_uncased_preprocess` does (TF Model Garden's BertTokenizer + BertPackInputs
layers): tensorflow_text.BertTokenizer(vocab.txt, lower_case=True) on each segment, the
word pieces merged, RoundRobinTrimmer(seq_length - (segments + 1)), combine_segments
([CLS] A [SEP] B [SEP], type ids 0 then 1), pad_model_inputs to seq_length (input_word_ids
padded with 0, input_mask 1 on real tokens, input_type_ids padded with 0).

Writes (the C++ side: include/bertpp/tokenizer/detail/tf_text_tables.hpp and
tests/tokenizer/tfhub_test.cpp):

  --tables FILE   the C++ tables of tensorflow_text's BasicTokenizer, measured code point
                  by code point on tensorflow_text's own ops (no unicodedata guesswork):
                  what lower_case (case_fold_utf8, NFD, removal of \\p{Mn}) maps each
                  code point to, and which code points the split treats as whitespace
                  (dropped: \\s and the \\p{Cc}|\\p{Cf} it replaces by spaces) or as a
                  delimiter (kept alone: ASCII punctuation, \\p{P}, the CJK blocks).
  --out DIR       DIR/tfhub_preprocess.bin: the FNV-1a 64 hash of each case's three rows
                  (input_word_ids, input_mask, input_type_ids as little-endian int32, in
                  that order), case after case in the order below;
                  DIR/tfhub_preprocess.json: the header (versions, corpus and vocab sha256,
                  case layout), the rows of a few hundred cases in full, and
                  RoundRobinTrimmer's allocation for small segment lengths and budgets.

Cases, in this order: for each seq_length of SINGLE_SEQ_LENGTHS, every corpus line alone;
then for each seq_length of PAIR_SEQ_LENGTHS, the pairs (line i, line i + 1) for
i % PAIR_EVERY == 0.

    ~/.cache/bertpp/tf-venv/bin/python tools/make_tfhub_preprocess_reference.py \\
        --tables include/bertpp/tokenizer/detail/tf_text_tables.hpp --out tests/tokenizer/data/tfhub

Pinned versions: tools/requirements-tf.txt (tensorflow-cpu, tensorflow-text). Not run by
CI (CI cannot install TensorFlow); the outputs are committed.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "tests", "tokenizer", "data", "corpus.jsonl")
VOCAB = os.path.join(ROOT, "tests", "fixtures", "vocab", "bert-base-uncased", "vocab.txt")

SINGLE_SEQ_LENGTHS = [128, 16, 7]     # budgets 126, 14, 5
PAIR_SEQ_LENGTHS = [128, 32, 17, 8, 5, 3]  # budgets 125, 29, 14, 5, 2, 0
PAIR_EVERY = 5
FULL_EVERY = 97  # cases whose rows are written in full (every FULL_EVERY-th of each group)
BATCH = 2048


def row_hashes(ids, mask, types):
    """FNV-1a 64 of each case's rows (int32 little-endian), all cases at once."""
    buf = np.concatenate([ids, mask, types], axis=1).astype("<i4")
    b = buf.view(np.uint8).reshape(buf.shape[0], -1)
    h = np.full(b.shape[0], 0xCBF29CE484222325, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    with np.errstate(over="ignore"):
        for k in range(b.shape[1]):
            h = (h ^ b[:, k].astype(np.uint64)) * prime
    return [int(x) for x in h]


def measure_tables(tf, text, BasicTokenizer, path):
    """Writes the C++ header of BasicTokenizer's per-code-point behaviour."""
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    basic_lc = BasicTokenizer(lower_case=True)
    basic = BasicTokenizer(lower_case=False)
    mapping = {}
    for s in range(0, len(cps), 65536):
        chunk = cps[s:s + 65536]
        out = basic_lc.lower_case(tf.constant([chr(c).encode("utf-8") for c in chunk])).numpy()
        for c, o in zip(chunk, out):
            o = o.decode("utf-8")
            if o != chr(c):
                mapping[c] = o
    # Hangul syllables decompose algorithmically (NFD): checked, then left to the C++ code.
    SBase, LBase, VBase, TBase, VCount, TCount = 0xAC00, 0x1100, 0x1161, 0x11A7, 21, 28
    for c in range(0xAC00, 0xAC00 + 11172):
        i = c - SBase
        want = chr(LBase + i // (VCount * TCount)) + chr(VBase + (i % (VCount * TCount)) // TCount)
        if i % TCount:
            want += chr(TBase + i % TCount)
        if mapping.get(c) != want:
            sys.exit(f"U+{c:04X}: lower_case gives {mapping.get(c)!r}, not the Hangul decomposition")
        del mapping[c]
    # Classes: how the split treats "a" + c + "b" (c as it is after lower_case).
    classes = {}
    for s in range(0, len(cps), 65536):
        chunk = cps[s:s + 65536]
        toks = basic.tokenize(tf.constant([("a" + chr(c) + "b").encode("utf-8") for c in chunk]))
        for c, t in zip(chunk, toks.to_list()):
            if t == [b"a", b"b"]:
                classes[c] = 1  # whitespace: dropped
            elif t == [b"a", chr(c).encode("utf-8"), b"b"]:
                classes[c] = 2  # delimiter: a token of its own
            elif t != [("a" + chr(c) + "b").encode("utf-8")]:
                sys.exit(f"U+{c:04X}: unexpected split {t!r}")
    ranges = []
    for c in sorted(classes):
        k = classes[c]
        if ranges and ranges[-1][1] == c - 1 and ranges[-1][2] == k:
            ranges[-1][1] = c
        else:
            ranges.append([c, c, k])
    pool = bytearray()
    entries = []
    for c in sorted(mapping):
        b = mapping[c].encode("utf-8")
        entries.append((c, len(pool), len(b)))
        pool += b
    versions = f"tensorflow {tf.__version__}, tensorflow-text {text.__version__}"
    with open(path, "w", encoding="utf-8") as f:
        f.write("// SPDX-License-Identifier: Apache-2.0\n")
        f.write("// GENERATED by tools/make_tfhub_preprocess_reference.py -- do not edit.\n")
        f.write("// Source: " + versions + ": BasicTokenizer, measured code point by code point.\n")
        f.write("#pragma once\n\n#include <cstdint>\n\n")
        f.write("namespace bertpp::tokenizer_detail::tf_text {\n\n")
        f.write("/// lower_case (case_fold_utf8, NFD, \\p{Mn} removed) of each code point it changes,\n")
        f.write("/// except the Hangul syllables (decomposed algorithmically): cp, offset and length of\n")
        f.write("/// the UTF-8 result in kLowerPool (length 0: removed).\n")
        f.write("struct LowerEntry { std::uint32_t cp, offset, length; };\n")
        f.write(f"inline constexpr LowerEntry kLower[] = {{\n")
        for i in range(0, len(entries), 4):
            f.write("  " + " ".join(f"{{0x{c:X}, {o}, {n}}}," for c, o, n in entries[i:i + 4]) + "\n")
        f.write("};\n")
        f.write("inline constexpr unsigned char kLowerPool[] = {\n")
        for i in range(0, len(pool), 20):
            f.write("  " + "".join(f"{b}," for b in pool[i:i + 20]) + "\n")
        f.write("};\n\n")
        f.write("/// Split classes after lower_case: 1 whitespace (dropped), 2 delimiter (a token of its\n")
        f.write("/// own); code points in no range are word characters.\n")
        f.write("struct ClassRange { std::uint32_t first, last; std::uint8_t cls; };\n")
        f.write("inline constexpr ClassRange kClasses[] = {\n")
        for i in range(0, len(ranges), 4):
            f.write("  " + " ".join(f"{{0x{a:X}, 0x{b:X}, {k}}}," for a, b, k in ranges[i:i + 4]) + "\n")
        f.write("};\n\n}  // namespace bertpp::tokenizer_detail::tf_text\n")
    print(f"{path}: {len(entries)} mappings ({len(pool)} bytes), {len(ranges)} class ranges", file=sys.stderr)


def round_robin_table(tf, text):
    """RoundRobinTrimmer's allocation for two segments of lengths a, b and a budget."""
    rows = []
    for budget in range(0, 15):
        la, lb = [], []
        for a in range(0, 13):
            for b in range(0, 13):
                la.append(a)
                lb.append(b)
        sa = tf.RaggedTensor.from_row_lengths(tf.zeros([sum(la)], tf.int64), la)
        sb = tf.RaggedTensor.from_row_lengths(tf.zeros([sum(lb)], tf.int64), lb)
        ta, tb = text.RoundRobinTrimmer(max_seq_length=budget).trim([sa, sb])
        ka, kb = ta.row_lengths().numpy(), tb.row_lengths().numpy()
        for a, b, x, y in zip(la, lb, ka, kb):
            rows.append([budget, a, b, int(x), int(y)])
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", help="write the C++ header of BasicTokenizer's tables")
    p.add_argument("--out", help="write the reference into this folder")
    a = p.parse_args()
    import tensorflow as tf
    import tensorflow_text as text
    from tensorflow_text.python.ops.bert_tokenizer import BasicTokenizer

    if a.tables:
        measure_tables(tf, text, BasicTokenizer, a.tables)
    if not a.out:
        return
    lines = [json.loads(l) for l in open(CORPUS, encoding="utf-8")]
    tok = text.BertTokenizer(VOCAB, lower_case=True, token_out_type=tf.int64)
    vocab = [l.rstrip("\n") for l in open(VOCAB, encoding="utf-8")]
    cls, sep, pad = vocab.index("[CLS]"), vocab.index("[SEP]"), vocab.index("[PAD]")

    def tokenize(texts):
        out = []
        for s in range(0, len(texts), BATCH):
            r = tok.tokenize(tf.constant([t.encode("utf-8") for t in texts[s:s + BATCH]]))
            out.append(r.merge_dims(-2, -1))
        return tf.concat(out, axis=0)

    seg = tokenize(lines)  # every line's word pieces: [lines, (pieces)]

    def pack(segments, seq_length):
        """BertPackInputs: RoundRobinTrimmer, combine_segments, pad_model_inputs."""
        trimmed = text.RoundRobinTrimmer(max_seq_length=seq_length - (len(segments) + 1)).trim(segments)
        combined, types = text.combine_segments(trimmed, start_of_sequence_id=cls, end_of_segment_id=sep)
        ids, mask = text.pad_model_inputs(combined, max_seq_length=seq_length, pad_value=pad)
        tt, _ = text.pad_model_inputs(types, max_seq_length=seq_length, pad_value=0)
        return ids.numpy(), mask.numpy(), tt.numpy()

    hashes, full, groups = [], [], []
    pair_i = [i for i in range(len(lines) - 1) if i % PAIR_EVERY == 0]
    for kind, seq_lengths in (("single", SINGLE_SEQ_LENGTHS), ("pair", PAIR_SEQ_LENGTHS)):
        for L in seq_lengths:
            if kind == "single":
                ids, mask, tt = pack([seg], L)
                keys = [[i, -1] for i in range(len(lines))]
            else:
                ids, mask, tt = pack([tf.gather(seg, pair_i), tf.gather(seg, [i + 1 for i in pair_i])], L)
                keys = [[i, i + 1] for i in pair_i]
            groups.append({"kind": kind, "seq_length": L, "cases": len(keys)})
            hashes += row_hashes(ids, mask, tt)
            for n, k in enumerate(keys):
                if n % FULL_EVERY == 0:
                    full.append({"i": k[0], "j": k[1], "seq_length": L, "input_word_ids": ids[n].tolist(),
                                 "input_mask": mask[n].tolist(), "input_type_ids": tt[n].tolist()})
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "tfhub_preprocess.bin"), "wb") as f:
        f.write(b"".join(struct.pack("<Q", h) for h in hashes))

    def sha(path):
        return hashlib.sha256(open(path, "rb").read()).hexdigest()

    header = {
        "what": "TF Hub BERT preprocessing (tensorflow_text BertTokenizer lower_case=True, "
                "RoundRobinTrimmer, combine_segments, pad_model_inputs) on tests/tokenizer/data/corpus.jsonl",
        "generator": "tools/make_tfhub_preprocess_reference.py",
        "versions": {"tensorflow": tf.__version__, "tensorflow_text": text.__version__},
        "corpus_sha256": sha(CORPUS), "vocab": "tests/fixtures/vocab/bert-base-uncased/vocab.txt",
        "vocab_sha256": sha(VOCAB), "pair_every": PAIR_EVERY,
        "hash": "FNV-1a 64 of input_word_ids, input_mask, input_type_ids (int32 little-endian)",
        "groups": groups, "cases": len(hashes),
        "round_robin": {"columns": ["budget", "len_a", "len_b", "kept_a", "kept_b"],
                        "rows": round_robin_table(tf, text)},
        "full": full,
    }
    with open(os.path.join(a.out, "tfhub_preprocess.json"), "w", encoding="utf-8") as f:
        json.dump(header, f, separators=(",", ":"))
        f.write("\n")
    print(f"{a.out}: {len(hashes)} cases, {len(full)} in full", file=sys.stderr)


if __name__ == "__main__":
    main()
