# SPDX-License-Identifier: Apache-2.0
"""Deterministic full-size BERT weights with no download.

The same counter-based generator is implemented in C++ (include/bertpp/io/synthetic.hpp),
so a C++ test can build BERT-base or BERT-large weights bit for bit equal to the ones this
script feeds HF transformers, and compare outputs against committed reference values.

Element i of tensor `name` (HF name without the `bert.` prefix):
    seed = fnv1a64(name)
    z    = splitmix64(seed + i)                (uint64 arithmetic, wrapping)
    u    = (z >> 40) / 2**24                   (exact, in [0, 1))
    v    = float32(center + (2u - 1) * half)   (computed in float64, rounded once)
with (center, half) = (1.0, 0.1) for LayerNorm weights, (0.0, 0.05) for LayerNorm biases
and (0.0, 0.035) for everything else (uniform with std ~0.02, like BERT's initialiser).
"""
import numpy as np

M64 = (1 << 64) - 1


def fnv1a64(name: str) -> int:
    h = 0xCBF29CE484222325
    for b in name.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & M64
    return h


def splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def role(name: str):
    if name.endswith("LayerNorm.weight"):
        return 1.0, 0.1
    if name.endswith("LayerNorm.bias"):
        return 0.0, 0.05
    return 0.0, 0.035


def tensor(name: str, shape) -> np.ndarray:
    n = int(np.prod(shape))
    seed = np.uint64(fnv1a64(name))
    out = np.empty(n, dtype=np.float32)
    chunk = 1 << 22
    for start in range(0, n, chunk):
        idx = np.arange(start, min(n, start + chunk), dtype=np.uint64)
        with np.errstate(over="ignore"):
            z = splitmix64(seed + idx)
        u = (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)
        center, half = role(name)
        out[start:start + len(idx)] = (center + (2.0 * u - 1.0) * half).astype(np.float32)
    return out.reshape(shape)


def bert_shapes(cfg):
    """(name, shape) of every tensor of a BertModel with pooler, HF names without prefix."""
    h, i = cfg["hidden_size"], cfg["intermediate_size"]
    shapes = [
        ("embeddings.word_embeddings.weight", (cfg["vocab_size"], h)),
        ("embeddings.position_embeddings.weight", (cfg["max_position_embeddings"], h)),
        ("embeddings.token_type_embeddings.weight", (cfg["type_vocab_size"], h)),
        ("embeddings.LayerNorm.weight", (h,)),
        ("embeddings.LayerNorm.bias", (h,)),
    ]
    for l in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        for m in ("query", "key", "value"):
            shapes += [(p + f"attention.self.{m}.weight", (h, h)), (p + f"attention.self.{m}.bias", (h,))]
        shapes += [
            (p + "attention.output.dense.weight", (h, h)),
            (p + "attention.output.dense.bias", (h,)),
            (p + "attention.output.LayerNorm.weight", (h,)),
            (p + "attention.output.LayerNorm.bias", (h,)),
            (p + "intermediate.dense.weight", (i, h)),
            (p + "intermediate.dense.bias", (i,)),
            (p + "output.dense.weight", (h, i)),
            (p + "output.dense.bias", (h,)),
            (p + "output.LayerNorm.weight", (h,)),
            (p + "output.LayerNorm.bias", (h,)),
        ]
    shapes += [("pooler.dense.weight", (h, h)), ("pooler.dense.bias", (h,))]
    return shapes


def state_dict(cfg):
    """{name: float32 array} for every tensor of the BertModel described by cfg (a dict)."""
    return {name: tensor(name, shape) for name, shape in bert_shapes(cfg)}


BASE = dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
            intermediate_size=3072, hidden_act="gelu", hidden_dropout_prob=0.1,
            attention_probs_dropout_prob=0.1, max_position_embeddings=512, type_vocab_size=2,
            initializer_range=0.02, layer_norm_eps=1e-12, pad_token_id=0,
            position_embedding_type="absolute", model_type="bert")
LARGE = dict(BASE, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
             intermediate_size=4096)


def hf_model(cfg, dtype="float32"):
    """A transformers BertModel (eval mode) holding the synthetic weights."""
    import torch
    from transformers import BertConfig, BertModel
    model = BertModel(BertConfig(**cfg), add_pooling_layer=True)
    sd = {k: torch.from_numpy(v) for k, v in state_dict(cfg).items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    assert not missing and not unexpected, (missing, unexpected)
    model.eval()
    return model.to(getattr(torch, dtype))
