#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the text-pair fixtures under tests/fixtures/pairs/ from HF transformers and
sentence-transformers: NLI classification, zero-shot classification and cross-encoder
reranking.

Not run by CI (needs torch). Versions are pinned in tools/requirements.txt; run
    pip install -r tools/requirements.txt
    python3 tools/make_pair_fixtures.py
It regenerates, deterministically (fixed seeds, CPU, float32), head-only folders on top of
the encoder of tests/fixtures/heads/pretraining (tools/make_head_fixtures.py):
  pairs/nli/              BertForSequenceClassification, 3 labels ENTAILMENT / neutral /
                          contradiction (seed 21), head F16
  pairs/rerank/           BertForSequenceClassification, 1 label, used as a cross-encoder
                          (seed 22; sentence-transformers' default activation: sigmoid)
  pairs/rerank_identity/  the same weights, config.json naming the Identity activation
                          (`sentence_transformers.activation_fn`, as CrossEncoder saves it)
  pairs/reference.json    HF's text-classification pipeline on (premise, hypothesis) pairs
                          (top_k=None), HF's zero-shot-classification pipeline (single and
                          multi-label, two templates, one candidate), and CrossEncoder's
                          predict() and rank() (default and max_length=24)
HF reads the F16-rounded weights back as float32, as bertpp does.
"""
import json
import os
import shutil
import sys
import tempfile

import torch
from safetensors.numpy import save_file
from transformers import BertForSequenceClassification, BertTokenizerFast, pipeline

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_head_fixtures import ROOT, VOCAB, to_py  # noqa: E402

OUT = os.path.join(ROOT, "pairs")
ENCODER = os.path.join(ROOT, "heads", "pretraining")
IDENTITY = "torch.nn.modules.linear.Identity"

NLI_PAIRS = [("A man is playing a guitar on stage.", "A person is performing music."),
             ("The cat sleeps on the warm windowsill.", "A dog is barking loudly."),
             ("Two children are building a sandcastle at the beach.", "Kids are outside."),
             ("unaffable", "friendly")]
ZS_TEXTS = ["I have a problem with my iphone that needs to be resolved asap!!",
            "The team won the championship after a dramatic overtime goal.",
            "Add two cups of flour and stir until smooth."]
ZS_LABELS = ["urgent", "not urgent", "phone", "sports", "cooking"]
ZS_CASES = [  # hypothesis template (None: HF's default), multi_label, labels
    (None, False, ZS_LABELS),
    (None, True, ZS_LABELS),
    ("The topic of this text is {}.", False, ZS_LABELS),
    (None, False, ["sports"]),
]
QUERY = "How many people live in Berlin?"
PASSAGES = ["Berlin has a population of 3,520,031 registered inhabitants in an area of 891.82 square kilometers.",
            "New York City is famous for the Metropolitan Museum of Art.",
            "Berlin is well known for its museums.",
            "The capital of Germany is Berlin, which is also its largest city by population, with many "
            "people living in its twelve boroughs and even more commuting in from the surrounding state "
            "of Brandenburg every single working day.",
            "Paris"]
RERANK_TRUNCATED = 24  # max_length for the truncation case


def write_head(name, seed, **extra):
    torch.manual_seed(seed)
    model = BertForSequenceClassification.from_pretrained(ENCODER, dtype=torch.float32, **extra).eval()
    with torch.no_grad():  # a fresh head, rounded to F16 as stored
        for n, p in model.named_parameters():
            if n.startswith("classifier."):
                p.copy_((torch.randn_like(p) * (0.5 if n.endswith("weight") else 0.3)).half().float())
    path = os.path.join(OUT, name)
    os.makedirs(path, exist_ok=True)
    model.config.save_pretrained(path)
    head = {n: p.detach().half().numpy() for n, p in model.named_parameters() if n.startswith("classifier.")}
    save_file(head, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    return model


def cross_encoder_results(model, tok, activation):
    from sentence_transformers import CrossEncoder
    with tempfile.TemporaryDirectory() as d:  # CrossEncoder loads whole folders
        if activation:
            model.config.sentence_transformers = {"activation_fn": activation}
        model.save_pretrained(d)
        tok.save_pretrained(d)
        pairs = [(QUERY, p) for p in PASSAGES] + [(b, a) for a, b in NLI_PAIRS]
        out = {"pairs": pairs}
        for key, kw in (("default", {}), ("truncated", {"max_length": RERANK_TRUNCATED})):
            ce = CrossEncoder(d, device="cpu", **kw)
            assert ce.max_length == kw.get("max_length", 512), ce.max_length
            out[key] = {"max_length": kw.get("max_length", 0),
                        "activation": type(ce.activation_fn).__name__,
                        "scores": ce.predict(pairs, batch_size=4).tolist(),
                        "rank": ce.rank(QUERY, PASSAGES),
                        "rank_top2": ce.rank(QUERY, PASSAGES, top_k=2)}
        if activation:
            del model.config.sentence_transformers
        return out


def main():
    torch.set_num_threads(1)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    tok = BertTokenizerFast(VOCAB, do_lower_case=True, model_max_length=512)
    # label2id too: transformers 5 keeps its default LABEL_0/LABEL_1 label2id when only
    # id2label is given, and the zero-shot pipeline reads label2id.
    id2label = {0: "ENTAILMENT", 1: "neutral", 2: "contradiction"}
    nli = write_head("nli", 21, id2label=id2label, label2id={v: k for k, v in id2label.items()})
    results = {}
    tc = pipeline("text-classification", model=nli, tokenizer=tok, device="cpu")
    results["nli"] = {"pairs": NLI_PAIRS,
                      "results": to_py(tc([{"text": a, "text_pair": b} for a, b in NLI_PAIRS], top_k=None))}
    zs = pipeline("zero-shot-classification", model=nli, tokenizer=tok, device="cpu")
    assert zs.entailment_id == 0, zs.entailment_id
    results["zero_shot"] = []
    for template, multi, labels in ZS_CASES:
        kw = {"multi_label": multi}
        if template:
            kw["hypothesis_template"] = template
        results["zero_shot"].append({"template": template, "multi_label": multi, "labels": labels,
                                     "results": [to_py(zs(t, candidate_labels=labels, **kw)) for t in ZS_TEXTS]})
    rerank = write_head("rerank", 22, num_labels=1)
    results["rerank"] = cross_encoder_results(rerank, tok, None)
    write_head("rerank_identity", 22, num_labels=1)
    with open(os.path.join(OUT, "rerank_identity", "config.json")) as f:
        cfg = json.load(f)
    cfg["sentence_transformers"] = {"activation_fn": IDENTITY}
    with open(os.path.join(OUT, "rerank_identity", "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    results["rerank_identity"] = cross_encoder_results(rerank, tok, IDENTITY)
    with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(to_py(results), f, ensure_ascii=False, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
