#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the task-head and pipeline reference fixtures under tests/fixtures/heads/ and
tests/fixtures/sst2/ from HF transformers and sentence-transformers.

Not run by CI (needs torch). Versions are pinned in tools/requirements.txt; run
    pip install -r tools/requirements.txt
    python3 tools/make_head_fixtures.py [--minilm DIR]
It regenerates, deterministically (fixed seeds, CPU, float32):
  heads/pretraining/   a random BertForPreTraining (seed 0, hidden 32, 2 layers, the
                       bert-base-uncased vocabulary of tests/fixtures/vocab), stored as F16.
                       BertForMaskedLM and BertForNextSentencePrediction load from it too.
  heads/<task>/        head-only folders (config.json with the labels + model.safetensors
                       with the head tensors only, F16), on top of the pretraining encoder:
                       seqcls (3 labels), multilabel (4 labels, multi_label_classification),
                       regression (1 label), ner (BIO labels), qa.
  heads/reference.safetensors  logits of every head for a batch of inputs (float32)
  heads/pipelines.json         HF pipeline outputs: fill-mask, text-classification
                       (top_k=None), token-classification (each aggregation strategy) and
                       question answering (see qa_pipeline below)
  sst2/dev.tsv + sst2/minilm_embeddings.safetensors  all-MiniLM-L6-v2 sentence embeddings
                       (sentence-transformers) of the 872 SST-2 dev sentences
HF reads back the F16 folders (as float32), so its references use the same rounded weights
as bertpp.
"""
import argparse
import json
import os
import shutil

import numpy as np
import torch
from safetensors.numpy import save_file
from transformers import (BertConfig, BertForMaskedLM, BertForNextSentencePrediction, BertForPreTraining,
                          BertForQuestionAnswering, BertForSequenceClassification,
                          BertForTokenClassification, BertTokenizerFast, pipeline)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "tests", "fixtures")
OUT = os.path.join(ROOT, "heads")
VOCAB = os.path.join(ROOT, "vocab", "bert-base-uncased", "vocab.txt")

ENCODER = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
               intermediate_size=64, max_position_embeddings=512, type_vocab_size=2,
               hidden_act="gelu", layer_norm_eps=1e-12, initializer_range=0.2)
NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
HEADS = {  # folder: (class, extra config, head tensor prefix, seed)
    "seqcls": (BertForSequenceClassification,
               dict(id2label={0: "negative", 1: "neutral", 2: "positive"}), "classifier.", 11),
    "multilabel": (BertForSequenceClassification,
                   dict(id2label={0: "sports", 1: "politics", 2: "music", 3: "food"},
                        problem_type="multi_label_classification"), "classifier.", 12),
    "regression": (BertForSequenceClassification,
                   dict(num_labels=1, problem_type="regression"), "classifier.", 13),
    "ner": (BertForTokenClassification, dict(id2label=dict(enumerate(NER_LABELS))), "classifier.", 14),
    "qa": (BertForQuestionAnswering, dict(), "qa_outputs.", 15),
}

TEXTS = ["The quick brown fox jumps over the lazy dog.",
         "Hugging Face is based in New York City.",
         "unaffable"]
PAIRS = [("My dog is cute.", "He likes playing."),
         ("The sky is blue.", "Pizza tastes best with cheese!")]
MASK_TEXTS = ["The capital of France is [MASK].",
              "I [MASK] to the store yesterday and bought milk.",
              "[MASK] is a very good movie , i loved it ."]
MULTI_MASK = "The [MASK] sat on the [MASK]."
CLS_TEXTS = ["what a great film", "It was terrible; I want my money back.", "meh",
             "An unremarkable, perfectly average afternoon at the cinema."]
NER_TEXTS = ["My name is Wolfgang and I live in Berlin.",
             "Hugging Face Inc. is a company based in New York City. Its headquarters are in DUMBO, "
             "therefore very close to the Manhattan Bridge.",
             "Sarah Connor-Reese visited Zürich, São Paulo and Washington D.C. in 2019 \u2764 !",
             "unbelievably supercalifragilisticexpialidocious antidisestablishmentarianism"]
QA_CONTEXT = (
    "The Amazon rainforest, covering much of northwestern Brazil and extending into Colombia, Peru "
    "and other South American countries, is the world's largest tropical rainforest, famed for its "
    "biodiversity. It's crisscrossed by thousands of rivers, including the powerful Amazon. River "
    "towns, with 19th-century architecture from rubber-boom days, include Brazil's Manaus and Belém "
    "and Peru's Iquitos and Puerto Maldonado. ") * 6 + (
    "Scientists estimate that the forest holds about 390 billion individual trees divided into "
    "16,000 species. The rainforest likely formed during the Eocene era, about 55 million years ago, "
    "following a global reduction of tropical temperatures when the Atlantic Ocean had widened "
    "sufficiently to provide a warm, moist climate to the Amazon basin.")
QA_CASES = [  # question, context, pipeline kwargs
    ("Which city is in Peru?", QA_CONTEXT, dict()),
    ("How many trees are in the forest?", QA_CONTEXT, dict(top_k=3, max_seq_len=64, doc_stride=16)),
    ("Where do I live?", "My name is Wolfgang and I live in Berlin.", dict(top_k=5, max_answer_len=4)),
    ("What is the answer?", "The answer is forty-two, or so they say.", dict(handle_impossible_answer=True)),
]


def set_random_norms(model):
    """Random LayerNorm parameters and biases (HF initialises them to 1 and 0)."""
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "LayerNorm" in n or n.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)


def batch(tok):
    singles = tok(TEXTS)
    pairs = tok([a for a, _ in PAIRS], [b for _, b in PAIRS])
    seqs = [(i, t) for i, t in zip(singles["input_ids"], singles["token_type_ids"])]
    seqs += [(i, t) for i, t in zip(pairs["input_ids"], pairs["token_type_ids"])]
    L = max(len(s) for s, _ in seqs)
    ids = np.zeros((len(seqs), L), np.int64)
    tt = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for b, (s, t) in enumerate(seqs):
        ids[b, :len(s)] = s
        tt[b, :len(s)] = t
        mask[b, :len(s)] = 1
    return ids, tt, mask


def logits(model, ids, tt, mask):
    with torch.inference_mode():
        return model(input_ids=torch.from_numpy(ids), token_type_ids=torch.from_numpy(tt),
                     attention_mask=torch.from_numpy(mask))


def write_pretraining():
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig(**ENCODER)).eval()
    set_random_norms(model)
    path = os.path.join(OUT, "pretraining")
    model.half().save_pretrained(path, safe_serialization=True)
    return path


def write_head(encoder_dir, name):
    cls, extra, prefix, seed = HEADS[name]
    torch.manual_seed(seed)
    model = cls.from_pretrained(encoder_dir, dtype=torch.float32, **extra).eval()
    with torch.no_grad():  # a fresh head (NER: small, for mixed labels), rounded to F16 as stored
        for n, p in model.named_parameters():
            if n.startswith(prefix):
                scale = (0.5 if n.endswith("weight") else 0.3) * (0.2 if name == "ner" else 1.0)
                p.copy_((torch.randn_like(p) * scale).half().float())
    path = os.path.join(OUT, name)
    os.makedirs(path, exist_ok=True)
    model.config.save_pretrained(path)
    head = {n: p.detach().half().numpy() for n, p in model.named_parameters() if n.startswith(prefix)}
    save_file(head, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    return model


def to_py(x):
    if isinstance(x, dict):
        return {k: to_py(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_py(v) for v in x]
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    return x


# --- question answering -------------------------------------------------------------------
# transformers 5 has no "question-answering" pipeline any more; this is a line-for-line port
# of transformers 4.57's QuestionAnsweringPipeline (fast tokenizer, question first:
# preprocess, select_starts_ends, decode_spans and postprocess with align_to_words=True).
def decode_spans(start, end, topk, max_answer_len, undesired_tokens):
    if start.ndim == 1:
        start = start[None]
    if end.ndim == 1:
        end = end[None]
    outer = np.einsum("bi,bj->bij", start, end)
    candidates = np.tril(np.triu(outer), max_answer_len - 1)
    scores_flat = candidates.flatten()
    if topk == 1:
        idx_sort = [np.argmax(scores_flat)]
    elif len(scores_flat) < topk:
        idx_sort = np.argsort(-scores_flat)
    else:
        idx = np.argpartition(-scores_flat, topk)[0:topk]
        idx_sort = idx[np.argsort(-scores_flat[idx])]
    starts, ends = np.unravel_index(idx_sort, candidates.shape)[1:]
    nz = set(np.flatnonzero(undesired_tokens))
    desired = np.array([s in nz and e in nz for s, e in zip(starts, ends)], dtype=bool)
    starts, ends = starts[desired], ends[desired]
    return starts, ends, candidates[0, starts, ends]


def select_starts_ends(start, end, p_mask, attention_mask, min_null_score, top_k, handle_impossible, max_answer_len):
    undesired = np.abs(np.array(p_mask) - 1)
    undesired = np.bitwise_and(undesired, attention_mask)
    undesired_mask = undesired == 0
    start = np.where(undesired_mask, -10000.0, start)
    end = np.where(undesired_mask, -10000.0, end)
    start = np.exp(start - start.max(axis=-1, keepdims=True))
    start = start / start.sum()
    end = np.exp(end - end.max(axis=-1, keepdims=True))
    end = end / end.sum()
    if handle_impossible:
        min_null_score = min(min_null_score, (start[0, 0] * end[0, 0]).item())
    start[0, 0] = end[0, 0] = 0.0
    starts, ends, scores = decode_spans(start, end, top_k, max_answer_len, undesired)
    return starts, ends, scores, min_null_score


def qa_pipeline(model, tok, question, context, top_k=1, doc_stride=None, max_answer_len=15,
                max_seq_len=None, handle_impossible_answer=False):
    if max_seq_len is None:
        max_seq_len = min(tok.model_max_length, 384)
    if doc_stride is None:
        doc_stride = min(max_seq_len // 2, 128)
    enc = tok(question, context, truncation="only_second", max_length=max_seq_len, stride=doc_stride,
              return_token_type_ids=True, return_overflowing_tokens=True, return_offsets_mapping=True,
              return_special_tokens_mask=True)
    windows = []
    min_null_score = 1000000
    answers = []
    for span in range(len(enc["input_ids"])):
        ids = np.array([enc["input_ids"][span]])
        p_mask = [[s != 1 for s in enc.sequence_ids(span)]]
        for i, t in enumerate(ids[0]):
            if t == tok.cls_token_id:
                p_mask[0][i] = 0
        mask = np.array([enc["attention_mask"][span]])
        out = logits(model, ids, np.array([enc["token_type_ids"][span]]), mask)
        windows.append(len(ids[0]))
        pre_topk = top_k * 2 + 10
        starts, ends, scores, min_null_score = select_starts_ends(
            out.start_logits.numpy(), out.end_logits.numpy(), p_mask, mask, min_null_score, pre_topk,
            handle_impossible_answer, max_answer_len)
        e = enc[span]
        for s, en, score in zip(starts, ends, scores):
            start_index = e.word_to_chars(e.token_to_word(s), sequence_index=1)[0]
            end_index = e.word_to_chars(e.token_to_word(en), sequence_index=1)[1]
            target = context[start_index:end_index]
            found = next((a for a in answers if a["answer"].lower() == target.lower()), None)
            if found:
                found["score"] += score.item()
            else:
                answers.append({"score": score.item(), "start": start_index, "end": end_index, "answer": target})
    if handle_impossible_answer:
        answers.append({"score": min_null_score, "start": 0, "end": 0, "answer": ""})
    return sorted(answers, key=lambda x: x["score"], reverse=True)[:top_k], windows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minilm", default=os.path.expanduser("~/.cache/bertpp/models/all-MiniLM-L6-v2"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    tok = BertTokenizerFast(VOCAB, do_lower_case=True, model_max_length=512)
    enc_dir = write_pretraining()
    ids, tt, mask = batch(tok)
    ref = {"input_ids": ids, "token_type_ids": tt, "attention_mask": mask}
    cols = np.arange(0, ENCODER["vocab_size"], 37)
    ref["vocab_columns"] = cols.astype(np.int64)
    mlm = BertForMaskedLM.from_pretrained(enc_dir, dtype=torch.float32).eval()
    out = logits(mlm, ids, tt, mask).logits.numpy()
    ref["mlm.logits_columns"] = np.ascontiguousarray(out[:, :, cols])  # [B, L, cols]
    ref["mlm.logits_full"] = np.ascontiguousarray(out[:2, 1, :])       # [2, vocab] at position 1
    nsp = BertForNextSentencePrediction.from_pretrained(enc_dir, dtype=torch.float32).eval()
    ref["nsp.logits"] = logits(nsp, ids, tt, mask).logits.numpy()
    pre = BertForPreTraining.from_pretrained(enc_dir, dtype=torch.float32).eval()
    o = logits(pre, ids, tt, mask)
    ref["pretraining.prediction_columns"] = np.ascontiguousarray(o.prediction_logits.numpy()[:, :, cols])
    ref["pretraining.seq_relationship"] = o.seq_relationship_logits.numpy()
    results = {}
    fm = pipeline("fill-mask", model=mlm, tokenizer=tok, device="cpu")
    results["fill_mask"] = [{"text": t, "top_k": k, "results": to_py(fm(t, top_k=k))}
                            for t in MASK_TEXTS for k in (5, 12)]
    results["fill_mask_multi"] = {"text": MULTI_MASK, "top_k": 3, "results": to_py(fm(MULTI_MASK, top_k=3))}
    heads = {name: write_head(enc_dir, name) for name in HEADS}
    for name in ("seqcls", "multilabel", "regression"):
        ref[f"{name}.logits"] = logits(heads[name], ids, tt, mask).logits.numpy()
        tc = pipeline("text-classification", model=heads[name], tokenizer=tok, device="cpu")
        results[f"classify.{name}"] = {"texts": CLS_TEXTS, "results": to_py(tc(CLS_TEXTS, top_k=None))}
    ref["ner.logits"] = logits(heads["ner"], ids, tt, mask).logits.numpy()
    results["ner"] = {}
    for strategy in ("none", "simple", "first", "average", "max"):
        nr = pipeline("token-classification", model=heads["ner"], tokenizer=tok, device="cpu",
                      aggregation_strategy=strategy)
        results["ner"][strategy] = [{"text": t, "entities": to_py(nr(t))} for t in NER_TEXTS]
    o = logits(heads["qa"], ids, tt, mask)
    ref["qa.start_logits"] = o.start_logits.numpy()
    ref["qa.end_logits"] = o.end_logits.numpy()
    results["qa"] = []
    for q, c, kw in QA_CASES:
        answers, windows = qa_pipeline(heads["qa"], tok, q, c, **kw)
        results["qa"].append({"question": q, "context": c, "options": kw, "windows": windows,
                              "answers": answers})
    save_file(ref, os.path.join(OUT, "reference.safetensors"))
    with open(os.path.join(OUT, "pipelines.json"), "w", encoding="utf-8") as f:
        json.dump(to_py(results), f, ensure_ascii=False, indent=1)
    print("wrote", OUT)
    write_sst2(args.minilm)


def write_sst2(minilm):
    from sentence_transformers import SentenceTransformer
    out = os.path.join(ROOT, "sst2")
    os.makedirs(out, exist_ok=True)
    # dev.tsv is committed in the fixture folder (provenance in its README) and read from there.
    with open(os.path.join(out, "dev.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    sentences = [r[0] for r in rows]
    assert len(sentences) == 872, len(sentences)
    st = SentenceTransformer(minilm, device="cpu")
    emb = st.encode(sentences, batch_size=32, convert_to_numpy=True)
    save_file({"embeddings": emb.astype(np.float32)}, os.path.join(out, "minilm_embeddings.safetensors"))
    print("wrote", out, emb.shape)


if __name__ == "__main__":
    main()
