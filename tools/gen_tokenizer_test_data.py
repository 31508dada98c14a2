#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Expected values for bertpp's tokenizer unit tests, from HF itself.

  pip install tokenizers==0.23.3 transformers==5.24.0
  python3 tools/gen_tokenizer_test_data.py [--vocab-src .../bert-base-uncased/vocab.txt]

Writes tests/tokenizer/data/unit/:
  vocab.txt            the first 8000 lines of bert-base-uncased's vocab.txt (provenance:
                       google-bert/bert-base-uncased on the HF Hub, Apache-2.0)
  vocab_dir/           vocab.txt + tokenizer_config.json + special_tokens_map.json (cased)
  json_dir/            tokenizer.json + tokenizer_config.json saved by BertTokenizerFast, with
                       extra added tokens (normalized / lstrip / rstrip)
  expected.json        encodings, truncation/padding/stride/pair cases and decodes as
                       transformers.BertTokenizerFast returns them
"""
import argparse
import json
import os
import shutil
import sys

import tokenizers
import transformers
from transformers import AddedToken, BertTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "tokenizer", "data", "unit")

TEXTS = [
    "Hello, world! Don't stop; it's 3.14 $5 <tag> a+b=c ^_^ `x` |y| ~z",
    "unaffable transformers tokenization WordPiece",
    "Héllo Wörld naïve café Ångström e\u0301 İstanbul ǅemal ﬁne Σίσυφος STRASSE \u1e9e",
    "你好世界, 中文字符 こんにちは カタカナ 한국어 Ελληνικά русский العربية हिन्दी ไทย",
    "tab\there\nnewline\r\nline\u2028sep\u0085nel \u00a0nbsp \u3000ideo\u200bzw\u200dj\ufeffbom",
    "ctrl\x00\x01\x07\x1b\x7f\x9f end \ufffd repl",
    "emoji \U0001F600\U0001F468\u200d\U0001F469\u200d\U0001F467 \U0001F44D\U0001F3FD flags \U0001F1EB\U0001F1F7",
    "special [MASK] and [mask] and [SEP]x[CLS] [UNK] [PAD]",
    "x" * 120 + " " + "ab" * 55 + " supercalifragilisticexpialidocious",
    "http://example.com/a?b=c&d=e#f user@mail.org int main() { return 0; }",
    "",
    "   ",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ﬀ ﬃ ℌ ①",
    "added <ent> tokens <ent>here and   <ent>  spaced [MASK]   end  [E1]x [e1] a[E1]",
]
PAIRS = [
    ("What is the capital of France?", "Paris is the capital and most populous city of France."),
    ("short", "a much longer second sequence with many many words in it to truncate"),
    ("a fairly long first sequence that goes on and on and on", "tiny"),
    ("", "only second"),
]
INVALID = [  # byte strings; HF sees them decoded with errors="replace"
    b"ab\xe2\x82 cd",
    b"\xf0\x9f\x98 x \xc0\xaf y \xed\xa0\x80 z",
    b"\xff\xfe hello \xe4\xbd",
    b"x[MASK]\x80\x80y",
]
TRUNC = [  # (strategy, max_length, stride, side, pair index or None, text index)
    ("longest_first", 12, 0, "right", 0, None),
    ("longest_first", 12, 2, "right", 1, None),
    ("only_first", 14, 3, "right", 2, None),
    ("only_second", 14, 3, "left", 1, None),
    ("longest_first", 10, 4, "right", None, 1),
    ("longest_first", 10, 3, "left", None, 0),
    ("only_first", 8, 0, "right", None, 2),
]
PADS = [  # (padding, max_length, multiple, side, truncation)
    ("longest", None, None, "right", False),
    ("max_length", 40, None, "left", False),
    ("longest", None, 8, "right", False),
    ("max_length", 20, None, "right", True),
]


def enc_dict(tok, enc, i, texts):
    """Row i of a BatchEncoding as a dict, with byte offsets."""
    ids = enc["input_ids"][i]
    offs = enc["offset_mapping"][i]
    seq = enc.sequence_ids(i)
    words = enc.word_ids(i)
    byte_offs = []
    for (a, b), s in zip(offs, seq):
        if s is None:
            byte_offs.append([0, 0])
        else:
            t = texts[s]
            byte_offs.append([len(t[:a].encode()), len(t[:b].encode())])
    return {
        "ids": ids,
        "type_ids": enc["token_type_ids"][i],
        "attention_mask": enc["attention_mask"][i],
        "special_tokens_mask": enc["special_tokens_mask"][i],
        "offsets": [list(o) for o in offs],
        "byte_offsets": byte_offs,
        "tokens": tok.convert_ids_to_tokens(ids),
        "word_ids": [-1 if w is None else w for w in words],
        "sequence_ids": [-1 if s is None else s for s in seq],
    }


def call(tok, a, b=None, **kw):
    enc = tok([a] if b is None else [a], None if b is None else [b], return_offsets_mapping=True,
              return_special_tokens_mask=True, return_token_type_ids=True,
              return_attention_mask=True, **kw)
    texts = [a] if b is None else [a, b]
    return [enc_dict(tok, enc, i, texts) for i in range(len(enc["input_ids"]))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab-src", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                                    "fixtures", "vocab", "bert-base-uncased", "vocab.txt"))
    args = ap.parse_args()
    if (tokenizers.__version__, transformers.__version__) != ("0.23.3", "5.24.0"):
        sys.exit("pinned: tokenizers 0.23.3, transformers 5.24.0")
    os.makedirs(OUT, exist_ok=True)
    with open(args.vocab_src, encoding="utf-8") as fh:
        lines = fh.read().split("\n")[:8000]
    vocab = os.path.join(OUT, "vocab.txt")
    with open(vocab, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")

    settings = {
        "uncased": dict(),
        "cased": dict(do_lower_case=False),
        "no_cjk": dict(tokenize_chinese_chars=False),
        "strip_cased": dict(do_lower_case=False, strip_accents=True),
        "lower_keep_accents": dict(strip_accents=False),
    }
    toks = {name: BertTokenizerFast(vocab, **kw) for name, kw in settings.items()}
    # tokenizer.json with extra added tokens
    jt = BertTokenizerFast(vocab)
    jt.add_tokens([AddedToken("<ent>", normalized=True, rstrip=True)])
    jt.add_special_tokens({"additional_special_tokens": [AddedToken("[E1]", lstrip=True, normalized=False)]})
    json_dir = os.path.join(OUT, "json_dir")
    shutil.rmtree(json_dir, ignore_errors=True)
    jt.save_pretrained(json_dir)
    for f in os.listdir(json_dir):
        if f not in ("tokenizer.json", "tokenizer_config.json"):
            os.remove(os.path.join(json_dir, f))
    toks["json"] = BertTokenizerFast.from_pretrained(json_dir)
    # vocab.txt folder, cased, configured by tokenizer_config.json
    vdir = os.path.join(OUT, "vocab_dir")
    os.makedirs(vdir, exist_ok=True)
    shutil.copy(vocab, os.path.join(vdir, "vocab.txt"))
    with open(os.path.join(vdir, "tokenizer_config.json"), "w") as fh:
        json.dump({"do_lower_case": False, "model_max_length": 64, "tokenize_chinese_chars": True,
                   "strip_accents": None}, fh)
    with open(os.path.join(vdir, "special_tokens_map.json"), "w") as fh:
        json.dump({"mask_token": {"content": "[MASK]", "lstrip": False}}, fh)
    toks["vocab_dir"] = BertTokenizerFast(vocab, do_lower_case=False, model_max_length=64)

    cases = []
    for name, tok in toks.items():
        for i, t in enumerate(TEXTS):
            cases.append({"setting": name, "text": t, "rows": call(tok, t)})
        for a, b in PAIRS[:3]:  # transformers treats an empty first text... as a text; keep non-empty
            cases.append({"setting": name, "text": a, "pair": b, "rows": call(tok, a, b)})
        for i, raw in enumerate(INVALID):
            t = raw.decode("utf-8", "replace")
            cases.append({"setting": name, "text_hex": raw.hex(), "text": t, "rows": call(tok, t)})
    tok = toks["uncased"]
    for strat, ml, stride, side, pi, ti in TRUNC:
        tok.truncation_side = side
        a, b = (PAIRS[pi] if pi is not None else (TEXTS[ti], None))
        rows = call(tok, a, b, truncation=strat, max_length=ml, stride=stride,
                    return_overflowing_tokens=True)
        cases.append({"setting": "uncased", "text": a, **({"pair": b} if b is not None else {}),
                      "truncation": strat, "max_length": ml, "stride": stride,
                      "truncation_side": side, "overflow": True, "rows": rows})
    tok.truncation_side = "right"
    batch = [TEXTS[0], TEXTS[1], TEXTS[7]]
    pads = []
    for padding, ml, mult, side, trunc in PADS:
        tok.padding_side = side
        enc = tok(batch, padding=padding, max_length=ml, pad_to_multiple_of=mult, truncation=trunc,
                  return_offsets_mapping=True, return_special_tokens_mask=True)
        pads.append({"padding": padding, "max_length": ml or 0, "pad_to_multiple_of": mult or 0,
                     "padding_side": side, "truncation": trunc, "texts": batch,
                     "rows": [enc_dict(tok, enc, i, [batch[i]]) for i in range(len(batch))]})
    tok.padding_side = "right"
    decodes = []
    for t in TEXTS + ["i don't know . it 's , the ' x ' do not ; i 'm we 've they 're ?"]:
        ids = tok(t).input_ids
        for skip in (True, False):
            for clean in (True, False):
                decodes.append({"ids": ids, "skip_special_tokens": skip, "clean_up": clean,
                                "text": tok.decode(ids, skip_special_tokens=skip,
                                                   clean_up_tokenization_spaces=clean)})
    # Stages alone: normalizer (each option set), pre-tokenizer, WordPiece model.
    from tokenizers import normalizers, pre_tokenizers
    stages = {"normalizer": [], "pre_tokenizer": [], "wordpiece": []}
    for opts in [dict(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True),
                 dict(clean_text=True, handle_chinese_chars=False, strip_accents=None, lowercase=False),
                 dict(clean_text=False, handle_chinese_chars=True, strip_accents=True, lowercase=False),
                 dict(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True)]:
        n = normalizers.BertNormalizer(**opts)
        for t in TEXTS:
            stages["normalizer"].append({"options": opts, "text": t, "normalized": n.normalize_str(t)})
    pre = pre_tokenizers.BertPreTokenizer()
    for t in TEXTS:
        stages["pre_tokenizer"].append({"text": t, "words": [w for w, _ in pre.pre_tokenize_str(t)]})
    model = toks["cased"].backend_tokenizer.model
    for w in ["unaffable", "hello", "Hello", "xyzé", "a" * 101, "a" * 100, "##", "running",
              "tokenization", "你", "qqqqzzzz", "embeddings"]:
        stages["wordpiece"].append({"word": w, "tokens": [[t.value, t.id, list(t.offsets)] for t in model.tokenize(w)]})

    out = {"versions": {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__},
           "cases": cases, "padding": pads, "decode": decodes, "stages": stages}
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as fh:
        json.dump(out, fh, ensure_ascii=True, separators=(",", ":"))
    print(f"{len(cases)} cases, {len(pads)} padding, {len(decodes)} decodes")


if __name__ == "__main__":
    main()
