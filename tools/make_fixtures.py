#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the model reference fixtures under tests/fixtures/ from HF transformers.

Not run by CI (needs torch). Versions are pinned in tools/requirements.txt; run
    pip install -r tools/requirements.txt
    python3 tools/make_fixtures.py [--minilm DIR]
It regenerates, deterministically:
  tiny-bert/          a random BertModel (seed 0, odd sizes, erf GELU) + HF outputs (f32, f64)
  tiny-bert-tanh/     a random BertForSequenceClassification (seed 1, gelu_new, 'bert.' prefix,
                      legacy gamma/beta names) + HF outputs
  dtypes.safetensors  the same values stored as F64, F32, F16 and BF16
  synthetic/reference.safetensors  HF outputs of BERT-base and BERT-large holding the
                      weights of tools/synthetic_weights.py (rows and summary statistics)
  minilm/reference.safetensors     HF outputs of all-MiniLM-L6-v2 for 24 sentences
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file
from transformers import AutoModel, AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_weights  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")

TINY = dict(vocab_size=99, hidden_size=36, num_hidden_layers=2, num_attention_heads=6,
            intermediate_size=37, max_position_embeddings=40, type_vocab_size=2,
            hidden_act="gelu", layer_norm_eps=1e-12, initializer_range=0.2)


def batch_arrays(seqs, types=None):
    """Right-padded ids, type ids and mask [B, L] (int64) from lists of ids."""
    L = max(len(s) for s in seqs)
    ids = np.zeros((len(seqs), L), np.int64)
    tt = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
        if types is not None:
            tt[i, :len(s)] = types[i]
    return ids, tt, mask


def run(model, ids, tt, mask, dtype):
    model = model.to(dtype)
    with torch.inference_mode():
        out = model(input_ids=torch.from_numpy(ids), token_type_ids=torch.from_numpy(tt),
                    attention_mask=torch.from_numpy(mask), output_hidden_states=True)
    return out


def tiny_cases(vocab, max_pos):
    g = np.random.default_rng(1234)
    r = lambda n: [2] + list(g.integers(4, vocab, n - 2)) + [3]  # [CLS]=2 ... [SEP]=3
    pair_a, pair_b = r(6), r(5)[1:]
    return {
        "single": ([r(9)], None),
        "pair": ([pair_a + pair_b], [[0] * len(pair_a) + [1] * len(pair_b)]),
        "batch": ([r(7), r(3), r(12), r(1 + 1)], None),
        "long": ([r(max_pos)], None),
    }


def write_tiny(name, cfg_kwargs, seed, cls, legacy_names=False):
    out_dir = os.path.join(ROOT, name)
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(seed)
    kwargs = dict(cfg_kwargs)
    if cls is BertForSequenceClassification:
        kwargs.update(num_labels=3, id2label={0: "neg", 1: "neutral", 2: "pos"},
                      label2id={"neg": 0, "neutral": 1, "pos": 2})
    config = BertConfig(**kwargs)
    model = cls(config).eval()
    # Random LayerNorm parameters and biases too (HF initialises them to 1 and 0).
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "LayerNorm" in n or n.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(out_dir, safe_serialization=True)
    if legacy_names:  # rewrite LayerNorm weight/bias as TF-era gamma/beta
        from safetensors.numpy import load_file
        path = os.path.join(out_dir, "model.safetensors")
        sd = load_file(path)
        renamed = {}
        for k, v in sd.items():
            if "LayerNorm.weight" in k:
                k = k.replace("LayerNorm.weight", "LayerNorm.gamma")
            elif "LayerNorm.bias" in k:
                k = k.replace("LayerNorm.bias", "LayerNorm.beta")
            renamed[k] = v
        save_file(renamed, path, metadata={"format": "pt"})
    encoder = model if cls is BertModel else model.bert
    ref = {}
    for case, (seqs, types) in tiny_cases(config.vocab_size, config.max_position_embeddings).items():
        ids, tt, mask = batch_arrays(seqs, types)
        ref[f"{case}.input_ids"] = ids
        ref[f"{case}.token_type_ids"] = tt
        ref[f"{case}.attention_mask"] = mask
        for tag, dtype in (("f32", torch.float32), ("f64", torch.float64)):
            out = run(encoder, ids, tt, mask, dtype)
            ref[f"{case}.{tag}.last_hidden_state"] = out.last_hidden_state.numpy()
            ref[f"{case}.{tag}.pooler_output"] = out.pooler_output.numpy()
            ref[f"{case}.{tag}.hidden_states"] = torch.stack(out.hidden_states).numpy()
    encoder.to(torch.float32)
    save_file(ref, os.path.join(out_dir, "reference.safetensors"))
    print("wrote", out_dir)


def write_dtypes():
    g = np.random.default_rng(7)
    # Values exactly representable in bfloat16 and float16 (8 significant bits, small range),
    # plus signed zero, a float16 subnormal and infinities.
    mant = g.integers(-255, 256, 60).astype(np.float64)
    vals = mant * np.exp2(g.integers(-14, 2, 60)).astype(np.float64) / 256.0
    vals = np.concatenate([vals, [0.0, -0.0, 2.0 ** -20, np.inf, -np.inf]])
    bf16 = (vals.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    assert np.array_equal((bf16.astype(np.uint32) << 16).view(np.float32).astype(np.float64), vals)
    tensors = {
        "values.f64": vals.reshape(5, 13),
        "values.f32": vals.astype(np.float32).reshape(5, 13),
        "values.f16": vals.astype(np.float16).reshape(5, 13),
        "values.i64": np.arange(6, dtype=np.int64).reshape(2, 3),
    }
    path = os.path.join(ROOT, "dtypes.safetensors")
    save_file(tensors, path)
    # safetensors.numpy has no bfloat16: append BF16 by rewriting the header ourselves.
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    header["values.bf16"] = {"dtype": "BF16", "shape": [5, 13],
                             "data_offsets": [len(data), len(data) + bf16.nbytes]}
    data += bf16.tobytes()
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(len(raw).to_bytes(8, "little") + raw + data)
    print("wrote", path)


def ops_reference():
    """Per-op references: torch's gelu, tanh-gelu, layer_norm, softmax and linear."""
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(5)
    x = torch.randn(7, 37, generator=g, dtype=torch.float64) * 3
    w = torch.randn(37, generator=g, dtype=torch.float64) * 0.5 + 1
    b = torch.randn(37, generator=g, dtype=torch.float64) * 0.5
    lw = torch.randn(5, 37, generator=g, dtype=torch.float64) * 0.2
    lb = torch.randn(5, generator=g, dtype=torch.float64)
    ref = {}
    for tag, dt in (("f32", torch.float32), ("f64", torch.float64)):
        xx, ww, bb, lww, lbb = (t.to(dt) for t in (x, w, b, lw, lb))
        ref[f"{tag}.x"] = xx.numpy()
        ref[f"{tag}.ln_weight"] = ww.numpy()
        ref[f"{tag}.ln_bias"] = bb.numpy()
        ref[f"{tag}.linear_weight"] = lww.numpy()
        ref[f"{tag}.linear_bias"] = lbb.numpy()
        ref[f"{tag}.gelu"] = F.gelu(xx).numpy()
        ref[f"{tag}.gelu_tanh"] = F.gelu(xx, approximate="tanh").numpy()
        ref[f"{tag}.layer_norm"] = F.layer_norm(xx, (37,), ww, bb, 1e-12).numpy()
        ref[f"{tag}.softmax"] = torch.softmax(xx, -1).numpy()
        ref[f"{tag}.linear"] = F.linear(xx, lww, lbb).numpy()
    save_file(ref, os.path.join(ROOT, "ops.safetensors"))
    print("wrote ops reference")


def synthetic_reference():
    ref = {}
    g = np.random.default_rng(99)
    for tag, cfg in (("base", synthetic_weights.BASE), ("large", synthetic_weights.LARGE)):
        model = synthetic_weights.hf_model(cfg)
        a = [101] + list(g.integers(1000, 30000, 14)) + [102]
        b = list(g.integers(1000, 30000, 7)) + [102]
        seqs = [a + b, [101] + list(g.integers(1000, 30000, 9)) + [102]]
        types = [[0] * len(a) + [1] * len(b), [0] * 11]
        ids, tt, mask = batch_arrays(seqs, types)
        out = run(model, ids, tt, mask, torch.float32)
        h = out.last_hidden_state.numpy()
        ref[f"{tag}.input_ids"] = ids
        ref[f"{tag}.token_type_ids"] = tt
        ref[f"{tag}.attention_mask"] = mask
        rows = [0, 7, len(seqs[0]) - 1]
        ref[f"{tag}.row_index"] = np.array(rows, np.int64)
        ref[f"{tag}.rows"] = h[0, rows]  # [3, hidden] of sequence 0
        ref[f"{tag}.row_mean"] = h.mean(-1)  # [B, L]
        ref[f"{tag}.row_std"] = h.std(-1)
        ref[f"{tag}.pooler_output"] = out.pooler_output.numpy()
        del model
        print("computed", tag)
    # Samples of the generator itself, so the C++ twin is checked bit for bit.
    for name in ("pooler.dense.bias", "embeddings.LayerNorm.weight", "encoder.layer.0.output.LayerNorm.bias",
                 "embeddings.word_embeddings.weight"):
        ref[f"generator.{name}"] = synthetic_weights.tensor(name, (64,))
    os.makedirs(os.path.join(ROOT, "synthetic"), exist_ok=True)
    save_file(ref, os.path.join(ROOT, "synthetic", "reference.safetensors"))


SENTENCES = [
    "A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.",
    "A man is riding a horse.", "A woman is playing violin.", "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.", "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.", "The new movie is awesome!",
    "The cat sits outside.", "I love pasta.", "Do you like pizza?", "The new movie is so great.",
    "The dog plays in the garden.", "A woman watches TV.", "The quick brown fox jumps over the lazy dog.",
    "BERT was published by Google in 2018.", "Héllo wörld, naïve café résumé!",
    "東京は日本の首都です。", "Tokenizers split unaffordable words into pieces.",
    "it's a charming and often affecting journey.", "unflinchingly bleak and desperate",
    "What time is it? Half past 3, I think... or 4:30pm.",
]


def minilm_reference(model_dir):
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    enc = tok(SENTENCES, padding=True, return_tensors="np")
    out = run(model, enc["input_ids"].astype(np.int64), enc["token_type_ids"].astype(np.int64),
              enc["attention_mask"].astype(np.int64), torch.float32)
    mask = enc["attention_mask"].astype(bool)
    ref = {
        "input_ids": enc["input_ids"].astype(np.int64),
        "attention_mask": enc["attention_mask"].astype(np.int64),
        # Real tokens only, sentence after sentence: [tokens, 384].
        "last_hidden_state": out.last_hidden_state.numpy()[mask],
        "pooler_output": out.pooler_output.numpy(),
    }
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(model_dir, device="cpu")
    ref["sentence_embeddings"] = st.encode(SENTENCES, convert_to_numpy=True).astype(np.float32)
    os.makedirs(os.path.join(ROOT, "minilm"), exist_ok=True)
    save_file(ref, os.path.join(ROOT, "minilm", "reference.safetensors"))
    with open(os.path.join(ROOT, "minilm", "sentences.json"), "w", encoding="utf-8") as f:
        json.dump(SENTENCES, f, ensure_ascii=False, indent=0)
    print("wrote minilm reference for", len(SENTENCES), "sentences")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minilm", default=os.path.join(os.environ.get("BERTPP_CACHE", os.path.expanduser("~/.cache/bertpp")),
                                                    "models", "all-MiniLM-L6-v2"))
    p.add_argument("--skip-synthetic", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(2)
    write_tiny("tiny-bert", TINY, 0, BertModel)
    write_tiny("tiny-bert-tanh", dict(TINY, hidden_act="gelu_new"), 1, BertForSequenceClassification,
               legacy_names=True)
    write_dtypes()
    ops_reference()
    if not args.skip_synthetic:
        synthetic_reference()
    minilm_reference(args.minilm)


if __name__ == "__main__":
    main()
