#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs one example program and checks its --json output against committed references.

  check_example.py assemble OUT                 tiny model folders from tests/fixtures/heads
  check_example.py KIND --work DIR -- EXE ARGS  run EXE ARGS (+ inputs) and check

References: tests/fixtures/heads/pipelines.json and reference.safetensors (HF transformers,
tools/make_head_fixtures.py), tests/fixtures/pairs/reference.json (HF transformers and
sentence-transformers' CrossEncoder, tools/make_pair_fixtures.py), tests/fixtures/sst2/minilm_embeddings.safetensors
(sentence-transformers). Standard library only. Exit status 0 when every check passes.
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")
TOL = 1e-4
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def near(a, b, what, tol=TOL):
    check(abs(a - b) <= tol, f"{what}: got {a}, want {b}")


def main_of(kinds):
    """The main() of a check script run as `SCRIPT KIND [--OPT VALUE]... -- CMD ARGS...`:
    kinds[KIND](cmd, opts) runs the checks (opts maps each --OPT to its VALUE); exits non-zero
    when a check failed."""
    argv = sys.argv[1:]
    sep = argv.index("--")
    head, cmd = argv[:sep], argv[sep + 1:]
    if not head or head[0] not in kinds:
        sys.exit(f"unknown kind {head[:1]}; one of {', '.join(kinds)}")
    kinds[head[0]](cmd, dict(zip(head[1::2], head[2::2])))
    if failures:
        sys.exit(f"{len(failures)} checks failed")
    print("all checks passed")


def safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        fmt = {"F32": "f", "F64": "d", "I64": "q", "I32": "i", "U8": "B", "BOOL": "?"}.get(t["dtype"])
        if fmt is None:
            continue
        b, e = t["data_offsets"]
        out[name] = (t["shape"], struct.unpack(f"<{(e - b) // struct.calcsize(fmt)}{fmt}", data[b:e]))
    return out


def assemble(out):
    """Folders the examples load as HF folders: config + vocab + encoder + head shards."""
    heads = os.path.join(FIX, "heads")
    vocab = os.path.join(FIX, "vocab", "bert-base-uncased", "vocab.txt")
    pairs = os.path.join(FIX, "pairs")
    for name in ("pretraining", "seqcls", "ner", "qa", "nli", "rerank", "rerank_identity"):
        src = os.path.join(pairs if os.path.isdir(os.path.join(pairs, name)) else heads, name)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(src, "config.json"), d)
        shutil.copy(vocab, d)
        if name == "pretraining":
            shutil.copy(os.path.join(heads, name, "model.safetensors"), d)
            continue
        shards = {"encoder.safetensors": os.path.join(heads, "pretraining", "model.safetensors"),
                  "head.safetensors": os.path.join(src, "model.safetensors")}
        weight_map = {}
        for shard, src in shards.items():
            shutil.copy(src, os.path.join(d, shard))
            with open(src, "rb") as f:
                n = struct.unpack("<Q", f.read(8))[0]
                names = [k for k in json.loads(f.read(n)) if k != "__metadata__"]
            weight_map.update({k: shard for k in names})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=1)


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
        sys.exit(f"{cmd[0]} exited with {p.returncode}")
    return json.loads(p.stdout)


def run_fail(cmd, message, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    check(p.returncode == 1, f"{' '.join(cmd)}: exit {p.returncode}, want 1")
    check(message in p.stderr, f"{' '.join(cmd)}: stderr {p.stderr!r} lacks {message!r}")


def pipelines():
    with open(os.path.join(FIX, "heads", "pipelines.json")) as f:
        return json.load(f)


def sst2_dev():
    with open(os.path.join(FIX, "sst2", "dev.tsv")) as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [r[0] for r in rows], [r[1] for r in rows]


def minilm_embeddings():
    shape, v = safetensors(os.path.join(FIX, "sst2", "minilm_embeddings.safetensors"))["embeddings"]
    h = shape[1]
    return [v[i * h:(i + 1) * h] for i in range(shape[0])]


def cos(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def check_classify(exe):
    c = pipelines()["classify.seqcls"]
    got = run(exe + ["--json"] + c["texts"])
    check(len(got) == len(c["results"]), "classify: one result per text")
    for g, want in zip(got, c["results"]):
        check([x["label"] for x in g["labels"]] == [x["label"] for x in want], f"classify labels of {g['text']!r}")
        for x, w in zip(g["labels"], want):
            near(x["score"], w["score"], f"classify {g['text']!r} {w['label']}")
    got = run(exe + ["--top-k", "1", "--json"], stdin="\n".join(c["texts"]) + "\n")
    check([g["labels"][0]["label"] for g in got] == [w[0]["label"] for w in c["results"]], "classify stdin top-1")


def pair_reference():
    with open(os.path.join(FIX, "pairs", "reference.json")) as f:
        return json.load(f)


def check_classify_pair(exe):
    c = pair_reference()["nli"]
    got = run(exe + ["--pair", "--json"] + [t for p in c["pairs"] for t in p])
    check(len(got) == len(c["results"]), "classify --pair: one result per pair")
    for g, p, want in zip(got, c["pairs"], c["results"]):
        check((g["text"], g["text_pair"]) == tuple(p), f"classify --pair: texts {p}")
        check([x["label"] for x in g["labels"]] == [x["label"] for x in want], f"classify --pair labels of {p}")
        for x, w in zip(g["labels"], want):
            near(x["score"], w["score"], f"classify --pair {p} {w['label']}", 1e-5)
    got2 = run(exe + ["--pair", "--json"], stdin="".join(f"{a}\t{b}\n" for a, b in c["pairs"]))
    check(got2 == got, "classify --pair: stdin A<TAB>B = arguments")
    run_fail(exe + ["--pair", "only one"], "give texts in pairs (A B), got 1")
    run_fail(exe + ["--pair"], "expected 'A<TAB>B'", stdin="no tab here\n")


def check_zero_shot(exe, tiny):
    model = ["--model", os.path.join(tiny, "nli")]
    for c in pair_reference()["zero_shot"]:
        args = model + ["--labels", ",".join(c["labels"]), "--json"]
        if c["template"]:
            args += ["--template", c["template"]]
        if c["multi_label"]:
            args.append("--multi-label")
        got = run(exe + args + [r["sequence"] for r in c["results"]])
        check(len(got) == len(c["results"]), "zero_shot: one result per text")
        for g, w in zip(got, c["results"]):
            check(g["labels"] == w["labels"], f"zero_shot {c['template']} multi {c['multi_label']}: {g['labels']}")
            for x, y in zip(g["scores"], w["scores"]):
                near(x, y, f"zero_shot {w['sequence']!r}", 1e-5)
    text = pair_reference()["zero_shot"][0]["results"][0]["sequence"]
    run_fail(exe + model + ["--labels", "a,b", "--template", "no placeholder", text], "has no '{}'")
    run_fail(exe + model + ["--labels", " , ", text], "--labels: no label")
    run_fail(exe + model + [text], "--labels L1,L2,... is required")
    run_fail(exe + ["--model", os.path.join(tiny, "seqcls"), "--labels", "a,b", text],
             "no label starting with 'entail'")


def check_rerank(exe, tiny, work):
    ref = pair_reference()
    query = ref["rerank"]["pairs"][0][0]
    passages = [p for _, p in ref["rerank"]["pairs"][:len(ref["rerank"]["default"]["rank"])]]

    def expect(model, want, what, extra=()):
        got = run(exe + ["--model", model, "--query", query, "--json"] + list(extra) + passages)
        check([g["index"] for g in got] == [w["corpus_id"] for w in want], f"rerank {what}: order")
        for g, w in zip(got, want):
            check(g["text"] == passages[w["corpus_id"]], f"rerank {what}: text of {w['corpus_id']}")
            near(g["score"], w["score"], f"rerank {what} passage {w['corpus_id']}", 1e-5)

    for name in ("rerank", "rerank_identity"):
        c = ref[name]
        expect(os.path.join(tiny, name), c["default"]["rank"], name)
        expect(os.path.join(tiny, name), c["default"]["rank_top2"], name + " top 2", ["--top-k", "2"])
        expect(os.path.join(tiny, name), c["truncated"]["rank"], name + " max-length 24", ["--max-length", "24"])
    # The activation named in config_sentence_transformers.json, as CrossEncoder saves it.
    st = os.path.join(work, "rerank-st")
    shutil.rmtree(st, ignore_errors=True)
    shutil.copytree(os.path.join(tiny, "rerank"), st)
    with open(os.path.join(st, "config_sentence_transformers.json"), "w") as f:
        json.dump({"activation_fn": "torch.nn.modules.linear.Identity"}, f)
    expect(st, ref["rerank_identity"]["default"]["rank"], "config_sentence_transformers.json Identity")
    for body, message in (("{not json", "config_sentence_transformers.json: not valid JSON"),
                          ('{"activation_fn": 3}', "field 'activation_fn' must be a string"),
                          ('{"activation_fn": "torch.nn.ReLU"}', "is 'torch.nn.ReLU'; bertpp knows")):
        with open(os.path.join(st, "config_sentence_transformers.json"), "w") as f:
            f.write(body)
        run_fail(exe + ["--model", st, "--query", query, "a passage"], message)
    got = run(exe + ["--model", os.path.join(tiny, "rerank"), "--query", query, "--json"], stdin="\n".join(passages) + "\n")
    check([g["index"] for g in got] == [w["corpus_id"] for w in ref["rerank"]["default"]["rank"]], "rerank stdin")
    run_fail(exe + ["--model", os.path.join(tiny, "nli"), "--query", query, "a passage"], "this checkpoint has 3")
    run_fail(exe + ["--model", os.path.join(tiny, "rerank"), "--query", " ", "a passage"], "the query is empty")
    run_fail(exe + ["--model", os.path.join(tiny, "rerank"), "a passage"], "--query Q is required")


def check_fill_mask(exe):
    for c in pipelines()["fill_mask"]:
        if c["top_k"] != 5:
            continue
        got = run(exe + ["--json", c["text"]])[0]["predictions"]
        check(len(got) == 5, "fill_mask: 5 predictions")
        for g, w in zip(got, c["results"]):
            check(g["token_str"] == w["token_str"] and g["sequence"] == w["sequence"], f"fill_mask {w['token_str']!r}")
            near(g["score"], w["score"], f"fill_mask {c['text']!r} {w['token_str']!r}", 1e-6)


def check_ner(exe):
    for mode in ("none", "simple", "max"):
        for c in pipelines()["ner"][mode]:
            got = run(exe + ["--aggregation", mode, "--json", c["text"]])[0]["entities"]
            check(len(got) == len(c["entities"]), f"ner {mode}: entity count for {c['text']!r}")
            for g, w in zip(got, c["entities"]):
                check(g["entity"] == w["entity" if mode == "none" else "entity_group"] and g["word"] == w["word"]
                      and g["start"] == w["start"] and g["end"] == w["end"], f"ner {mode}: {w}")
                near(g["score"], w["score"], f"ner {mode} {w['word']!r}")


def check_qa(exe):
    for c in pipelines()["qa"]:
        o = c["options"]
        args = ["--context", c["context"], "--json"]
        for k in ("top_k", "max_seq_len", "doc_stride", "max_answer_len"):
            if k in o:
                args += ["--" + k.replace("_", "-"), str(o[k])]
        if o.get("handle_impossible_answer"):
            args.append("--impossible")
        got = run(exe + args + [c["question"]])[0]["answers"]
        check(len(got) == len(c["answers"]), f"qa: answer count for {c['question']!r}")
        for g, w in zip(got, c["answers"]):
            check((g["answer"], g["start"], g["end"]) == (w["answer"], w["start"], w["end"]), f"qa: {w}")
            near(g["score"], w["score"], f"qa {c['question']!r}", 1e-6)
    # Options out of range and a context file that is a folder: an error naming them, rc 1.
    ctx = pipelines()["qa"][0]["context"]
    run_fail(exe + ["--context", ctx, "--max-answer-len", "-1", "why?"], "--max-answer-len must be in [1,")
    run_fail(exe + ["--context", ctx, "--top-k", "0", "why?"], "--top-k must be in [1,")
    run_fail(exe + ["--context", ctx, "--doc-stride", "-5", "why?"], "--doc-stride must be in [0,")
    run_fail(exe + ["--context", ctx, "--top-k", "99999999999999999999", "why?"], "out of range")
    run_fail(exe + ["--context-file", FIX, "why?"], "is a folder, not a file")


def check_next_sentence(exe):
    _, logits = safetensors(os.path.join(FIX, "heads", "reference.safetensors"))["nsp.logits"]
    pairs = [("My dog is cute.", "He likes playing."), ("The sky is blue.", "Pizza tastes best with cheese!")]
    got = run(exe + ["--json"] + [s for p in pairs for s in p])
    for i, g in enumerate(got):
        a, b = logits[(3 + i) * 2], logits[(3 + i) * 2 + 1]
        near(g["is_next"], 1 / (1 + math.exp(b - a)), f"next_sentence pair {i}", 1e-6)
    got2 = run(exe + ["--json"], stdin="".join(f"{a}\t{b}\n" for a, b in pairs))
    check([g["is_next"] for g in got2] == [g["is_next"] for g in got], "next_sentence stdin = arguments")


def check_embed(exe, work):
    texts, _ = sst2_dev()
    ref = minilm_embeddings()
    got = run(exe + ["--json"] + texts[:3])["similarity"]
    for i in range(3):
        for j in range(3):
            near(got[i][j], cos(ref[i], ref[j]), f"embed similarity [{i}][{j}]")
    run_fail(exe + [texts[0]], "one text gives no pair to compare")
    corpus = os.path.join(work, "corpus.txt")
    with open(corpus, "w") as f:
        f.write("\n".join(texts[:60]) + "\n")
    queries = [texts[100], texts[200]]
    got = run(exe + ["--search", corpus, "--top-k", "3", "--json"] + queries)
    for q, g in zip((100, 200), got):
        want = sorted(range(60), key=lambda j: -cos(ref[q], ref[j]))[:3]
        check([h["line"] - 1 for h in g["hits"]] == want, f"embed search for dev {q}: {g['hits']} vs {want}")
        for h in g["hits"]:
            near(h["score"], cos(ref[q], ref[h["line"] - 1]), f"embed search score line {h['line']}")


def check_main(exe):
    texts, gold = sst2_dev()
    ref = minilm_embeddings()
    head = safetensors(os.path.join(ROOT, "examples", "models", "sst2-minilm-head", "head.safetensors"))
    w, b = head["classifier.weight"][1], head["classifier.bias"][1][0]
    idx = list(range(8))
    got = run(exe + ["--json"] + [texts[i] for i in idx])
    for i, g in zip(idx, got):
        p = 1 / (1 + math.exp(-(sum(x * y for x, y in zip(w, ref[i])) + b)))  # reference embeddings are normalised
        label = "positive" if p >= 0.5 else "negative"
        check(g["label"] == label, f"main: dev {i} label {g['label']}, want {label} (p {p:.4f})")
        near(g["score"], max(p, 1 - p), f"main: dev {i} probability", 1e-3)
    correct = sum((g["label"] == "positive") == (gold[i] == "1") for i, g in zip(idx, got))
    check(correct >= 6, f"main: {correct}/8 dev sentences right")
    # Invalid UTF-8 on stdin: valid JSON out, the bad bytes as U+FFFD (was nlohmann's
    # type_error 316 and no output).
    p = subprocess.run(exe + ["--json"], input=b"a good film \xff\xfe indeed\n", capture_output=True)
    check(p.returncode == 0, f"main --json, invalid UTF-8: exit {p.returncode}: {p.stderr!r}")
    if p.returncode == 0:
        out = json.loads(p.stdout.decode("utf-8"))
        check(len(out) == 1 and "\ufffd" in json.dumps(out[0], ensure_ascii=False),
              f"main --json, invalid UTF-8: {out!r}")


def check_train(exe, classify, work, tiny):
    texts, gold = sst2_dev()

    def write(name, rows, header="sentence\tlabel"):
        p = os.path.join(work, name)
        with open(p, "w") as f:
            f.write(header + "\n" + "".join(f"{t}\t{l}\n" for t, l in rows))
        return p

    train = write("train.tsv", list(zip(texts[:200], gold[:200])))
    ev = write("eval.tsv", list(zip(texts[200:300], gold[200:300])))
    out = os.path.join(work, "head")
    args = ["--model", tiny, "--train", train, "--eval", ev, "--out", out, "--epochs", "4", "--no-cache",
            "--label-names", "neg,pos", "--json"]
    s = run(exe + args)
    losses = [e["loss"] for e in s["epochs"]]
    check(len(losses) == 4 and all(math.isfinite(x) for x in losses), f"train: 4 finite losses {losses}")
    check(s["pooling"] == "pooler" and s["activation"] == "sigmoid", "train: pooler + sigmoid for a BERT folder")
    s2 = run(exe + args)
    check(s2["epochs"] == s["epochs"] and s2["eval_accuracy"] == s["eval_accuracy"], "train: same seed, same result")
    got = run(classify + ["--model", tiny, "--head", out, "--top-k", "1", "--json"] + texts[200:300])
    acc = sum((g["labels"][0]["label"] == "pos") == (y == "1") for g, y in zip(got, gold[200:300])) / 100
    near(acc, s["eval_accuracy"], "train: accuracy of the saved head through classify", 1e-9)
    # One folder holding encoder and head loads without --head (TextClassifier::load(dir)).
    both = os.path.join(work, "encoder-and-head")
    shutil.rmtree(both, ignore_errors=True)
    shutil.copytree(tiny, both)
    for f in ("head.json", "head.safetensors"):
        shutil.copy(os.path.join(out, f), both)
    check(run(classify + ["--model", both, "--top-k", "1", "--json"] + texts[200:300]) == got,
          "train: encoder + head in one folder classifies as --head")
    with open(os.path.join(out, "head.json")) as f:
        hj = json.load(f)
    check(hj["labels"] == ["neg", "pos"] and hj["encoder"]["name"] == "pretraining", "train: head.json fields")
    # Bad input: clear errors, exit status 1.
    run_fail(exe + ["--model", tiny, "--train", write("empty.tsv", []), "--no-cache"], "no examples after the header")
    run_fail(exe + ["--model", tiny, "--train", train, "--no-cache", "--eval",
                    write("unknown.tsv", [("fine", "1"), ("odd", "7")])],
             "label '7', which is not one of the training labels (0, 1)")
    run_fail(exe + ["--model", tiny, "--train", write("one.tsv", [("a", "1"), ("b", "1")]), "--no-cache"],
             "at least 2 distinct labels")
    run_fail(classify + ["--model", tiny, "--head", os.path.join(ROOT, "examples", "models", "sst2-minilm-head"),
                         "hello"], "head trained on encoder 'all-MiniLM-L6-v2'")
    run_fail(exe + ["--bogus"], "unknown option --bogus")


def main():
    if sys.argv[1] == "assemble":
        assemble(sys.argv[2])
        return
    kind = sys.argv[1]
    sep = sys.argv.index("--")
    opts = dict(zip(sys.argv[2:sep:2], sys.argv[3:sep:2]))
    exe = sys.argv[sep + 1:]
    work = opts.get("--work", "/tmp")
    os.makedirs(work, exist_ok=True)
    if kind == "classify":
        check_classify(exe)
    elif kind == "classify_pair":
        check_classify_pair(exe)
    elif kind == "zero_shot":
        check_zero_shot(exe, opts["--tiny"])
    elif kind == "rerank":
        check_rerank(exe, opts["--tiny"], work)
    elif kind == "fill_mask":
        check_fill_mask(exe)
    elif kind == "ner":
        check_ner(exe)
    elif kind == "qa":
        check_qa(exe)
    elif kind == "next_sentence":
        check_next_sentence(exe)
    elif kind == "embed":
        check_embed(exe, work)
    elif kind == "main":
        check_main(exe)
    elif kind == "train":
        check_train(exe, [opts["--classify"]], work, opts["--tiny"])
    else:
        sys.exit(f"unknown kind {kind}")
    print(f"{kind}: {'FAILED ' + str(len(failures)) if failures else 'all checks passed'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
