#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs bertpp-batch on JSON Lines and checks every output line against the committed
references, and its errors against its documented contract.

  check_batch.py embed   --work DIR -- BATCH --model MINILM_DIR   (an embedding model)
  check_batch.py predict --tiny DIR --work DIR -- BATCH           (tiny classifier, NLI, reranker)

References: tests/fixtures/minilm (sentence-transformers' embeddings),
tests/fixtures/heads/pipelines.json (HF's text-classification pipeline) and
tests/fixtures/pairs/reference.json (HF's pipeline on pairs, sentence-transformers'
CrossEncoder). Standard library only. Exit status 0 when every check passes.
"""
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_example import FIX, check, main_of, near, safetensors  # noqa: E402

TOL = 1e-5


def run(cmd, lines, *args, raw=None):
    """Runs the command on `lines` (JSON values, or `raw` text); returns (status, out lines, stderr)."""
    text = raw if raw is not None else "".join(json.dumps(x) + "\n" for x in lines)
    p = subprocess.run(cmd + list(args), input=text.encode(), capture_output=True, timeout=300)
    out = [json.loads(x) for x in p.stdout.decode().splitlines()]
    return p.returncode, out, p.stderr.decode()


def refused(cmd, args, what, lines=("x",)):
    status, out, err = run(cmd, list(lines), *args)
    check(status == 1 and what in err and not out, f"{args}: status {status}, stderr {err!r}, want '{what}'")


def run_embed(cmd, work):
    sentences = json.load(open(os.path.join(FIX, "minilm", "sentences.json")))
    ref = safetensors(os.path.join(FIX, "minilm", "reference.safetensors"))
    (n, dim), flat = ref["sentence_embeddings"]
    want = [flat[i * dim:(i + 1) * dim] for i in range(n)]
    # Objects keep their fields (in order) with the embedding added; a bare string gives
    # the result alone; batches of 3 put the sentences in several batches.
    lines = [{"id": i, "text": s, "meta": {"k": [1, 2]}} if i % 4 else s for i, s in enumerate(sentences)]
    status, out, err = run(cmd, lines, "--batch-size", "3", "--threads", "2", "--progress-every", "4")
    check(status == 0 and len(out) == n, f"embed: status {status}, {len(out)} lines of {n}: {err}")
    for i, got in enumerate(out[:n]):
        if i % 4:
            check(list(got) == ["id", "text", "meta", "embedding"] and got["id"] == i and got["meta"] == {"k": [1, 2]},
                  f"line {i}: fields {list(got)}")
        else:
            check(list(got) == ["embedding"], f"line {i}: a bare string gave {list(got)}")
        check(len(got["embedding"]) == dim, f"line {i}: {len(got['embedding'])} values, want {dim}")
        for a, b in zip(got["embedding"], want[i]):
            near(a, b, f"embedding {i}", 1e-4)
    check(err.count("lines/s") == n // 4 and f"done, {n} lines (0 errors)" in err, f"progress on stderr: {err!r}")
    # --no-normalize: the folder's Normalize module is skipped.
    status, out, _ = run(cmd, sentences[:1], "--no-normalize")
    norm = math.sqrt(sum(x * x for x in out[0]["embedding"]))
    check(status == 0 and abs(norm - 1) > 1e-3, f"--no-normalize: norm {norm}")
    for a, b in zip(out[0]["embedding"], want[0]):
        near(a / norm, b, "--no-normalize, normalised here", 1e-4)
    # Input and output files, a custom text field.
    src, dst = os.path.join(work, "in.jsonl"), os.path.join(work, "out.jsonl")
    os.makedirs(work, exist_ok=True)
    with open(src, "w") as f:
        f.write(json.dumps({"body": sentences[1]}) + "\r\n")  # CRLF line ends are read too
    status, out, _ = run(cmd, [], "--input", src, "--output", dst, "--text-field", "body")
    with open(dst) as f:
        got = [json.loads(x) for x in f]
    check(status == 0 and not out and len(got) == 1, f"--input/--output: status {status}, {len(got)} lines")
    for a, b in zip(got[0]["embedding"], want[1]):
        near(a, b, "--input/--output", 1e-4)

    # Bad lines. Stop mode: every line before the bad one is written, then exit 1 naming
    # stdin:LINE. Record mode: an error object in its place, the others computed.
    bad = ['{"id": 0, "text": "fine"}', "not json", '{"id": 2, "text": 7}', '{"id": 3}', "[1, 2]", "",
           '{"id": 6, "text": "ok", "text_pair": 5}', json.dumps({"id": 7, "text": "word " * 40}), '"last"']
    raw = "\n".join(bad) + "\n"
    status, out, err = run(cmd, None, "--batch-size", "2", raw=raw)
    check(status == 1 and len(out) == 1 and "stdin:2: not JSON" in err, f"stop mode: {status}, {len(out)}, {err!r}")
    status, out, err = run(cmd, None, "--on-error", "record", "--no-truncate", "--max-length", "16", raw=raw)
    check(status == 0 and len(out) == len(bad), f"record mode: status {status}, {len(out)} lines: {err}")
    expect = {2: "not JSON", 3: "field 'text' is not a string", 4: "field 'text' is missing", 5: "want an object",
              6: "an empty line", 7: "field 'text_pair' is not a string", 8: "more than max_length"}
    for i, got in enumerate(out):
        no = i + 1
        if no in expect:
            check(got.get("line") == no and expect[no] in got.get("error", "") and "embedding" not in got,
                  f"record mode line {no}: {got}")
        else:
            check("error" not in got and len(got.get("embedding", [])) == dim, f"record mode line {no}: {got}")
    check(out[2].get("id") == 2 and out[0]["id"] == 0, "record mode keeps the input object's fields")
    check("(7 errors)" in err, f"record mode summary: {err!r}")
    status, out, err = run(cmd, None, "--no-truncate", "--max-length", "16", raw=bad[7] + "\n")
    check(status == 1 and "stdin:1: embed" in err and "max_length" in err, f"--no-truncate: {err!r}")

    # Options.
    refused(cmd, ["--on-error", "skip"], "--on-error must be stop or record")
    refused(cmd, ["--kind", "tagger"], "--kind must be embedding, classifier or reranker")
    refused(cmd, ["--top-k", "2"], "apply to classifiers only")
    refused(cmd, ["--raw-scores"], "applies to rerankers only")
    refused(cmd, ["--normalize", "--no-normalize"], "exclude each other")
    refused(cmd, ["--batch-size", "0"], "--batch-size must be in")
    refused(cmd, ["--input", os.path.join(work, "missing.jsonl")], "missing.jsonl: cannot open")
    refused(cmd, ["--input", work], "is a folder")
    refused(cmd, ["stray"], "no positional arguments")
    refused(cmd, ["--bogus"], "unknown option --bogus")


def run_predict(cmd, tiny):
    heads = json.load(open(os.path.join(FIX, "heads", "pipelines.json")))
    pairs_ref = json.load(open(os.path.join(FIX, "pairs", "reference.json")))
    # A classifier: the best label by default, --top-k 0 every label, against HF's pipeline.
    c = heads["classify.seqcls"]
    lines = [{"text": t} for t in c["texts"]]
    seqcls = cmd + ["--model", os.path.join(tiny, "seqcls"), "--kind", "classifier"]
    status, out, err = run(seqcls, lines, "--batch-size", "3")
    check(status == 0 and len(out) == len(lines), f"classifier: {status} {err}")
    for got, want in zip(out, c["results"]):
        best = max(want, key=lambda x: x["score"])
        check(got.get("label") == best["label"], f"classifier label {got}, want {best}")
        near(got.get("score", -1), best["score"], "classifier score", TOL)
    status, out, _ = run(seqcls, lines, "--top-k", "0")
    for got, want in zip(out, c["results"]):
        want = sorted(want, key=lambda x: -x["score"])
        check([x["label"] for x in got["labels"]] == [x["label"] for x in want], f"--top-k 0 labels {got}")
        for x, y in zip(got["labels"], want):
            near(x["score"], y["score"], "--top-k 0 score", TOL)
    status, out, _ = run(seqcls, lines[:1], "--top-k", "0", "--function", "none")
    check(status == 0 and abs(sum(x["score"] for x in out[0]["labels"]) - 1) > 1e-3, f"--function none {out}")
    refused(seqcls, ["--function", "tanh"], "--function: 'tanh' is not one of")
    refused(seqcls, ["--no-normalize"], "apply to embedding models only")
    # NLI pairs (with single texts in the same batch): HF's pipeline on {text, text_pair}.
    nli = pairs_ref["nli"]
    lines = [{"text": a, "text_pair": b} for a, b in nli["pairs"]]
    lines.insert(1, {"text": "a single text between the pairs", "text_pair": None})
    status, out, err = run(cmd + ["--model", os.path.join(tiny, "nli"), "--kind", "classifier"], lines, "--top-k", "0")
    check(status == 0 and len(out) == len(lines), f"nli: {status} {err}")
    del out[1]
    for got, want in zip(out, nli["results"]):
        want = sorted(want, key=lambda x: -x["score"])
        check([x["label"] for x in got["labels"]] == [x["label"] for x in want], f"nli labels {got}")
        for x, y in zip(got["labels"], want):
            near(x["score"], y["score"], "nli score", TOL)
    # A reranker: the CrossEncoder's scores of (query, passage); logits with --raw-scores.
    ref = pairs_ref["rerank"]
    lines = [{"text": q, "text_pair": p} for q, p in ref["pairs"]]
    rerank = cmd + ["--model", os.path.join(tiny, "rerank"), "--kind", "reranker"]
    status, out, err = run(rerank, lines, "--batch-size", "4")
    check(status == 0 and len(out) == len(lines), f"reranker: {status} {err}")
    for got, want in zip(out, ref["default"]["scores"]):
        near(got.get("score", -1), want, "reranker score", TOL)
    status, raw, _ = run(rerank, lines, "--raw-scores")
    for got, want in zip(raw, ref["default"]["scores"]):
        near(1 / (1 + math.exp(-got["score"])), want, "--raw-scores are logits", TOL)
    status, out, err = run(rerank, [{"text": "a query without a passage"}])
    check(status == 1 and "stdin:1: a reranker scores pairs" in err, f"reranker without a pair: {err!r}")


def main():
    main_of({"embed": lambda cmd, o: run_embed(cmd, o["--work"]),
             "predict": lambda cmd, o: run_predict(cmd, o["--tiny"])})

if __name__ == "__main__":
    main()
