#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Starts bertpp-server on a loopback port and calls every route with a real HTTP client
(urllib), checking the answers against the committed references and TEI's error contract.

  check_server.py embed   -- SERVER --model MINILM_DIR      (an embedding model)
  check_server.py predict --tiny DIR --work DIR -- SERVER    (tiny classifier, tiny reranker)

References: tests/fixtures/minilm (sentence-transformers' embeddings and HF's token ids),
tests/fixtures/heads/pipelines.json (HF's text-classification pipeline) and
tests/fixtures/pairs/reference.json (sentence-transformers' CrossEncoder). Standard library
only. Exit status 0 when every check passes.
"""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_example import FIX, check, failures, main_of, near, safetensors  # noqa: E402

TOL = 1e-5


class Server:
    """The server on a loopback port. Its stderr goes to a file (a pipe nobody reads could fill
    and block it), printed when a check failed or the server exited abnormally."""

    def __init__(self, cmd):
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd + ["--port", "0"], stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "listening on " not in line:
            self.proc.kill()
            self.proc.wait()
            sys.exit(f"the server did not start: {line!r}\n{self.stderr()}")
        self.url = line.strip().split("listening on ")[1]

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def call(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            # 300 s: under ASan at -O0 one batch of every sentence can take over a minute.
            with urllib.request.urlopen(req, timeout=300) as r:
                text = r.read().decode()
                return r.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, text
        except OSError as e:  # reset, refused, timed out: a failed check, with the server's state
            state = "running" if self.proc.poll() is None else f"exited with {self.proc.returncode}"
            check(False, f"{method} {path}: {e!r} (the server is {state})")
            return None, None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "hung"
        check(rc == 0, f"SIGTERM: exit status {rc}, want 0")
        if failures:
            print("--- the server's stderr ---\n" + self.stderr() + "--- end of the server's stderr ---")
        self.log.close()


def expect_error(srv, path, body, status, error_type, raw=None, openai=False):
    got_status, got = srv.call("POST", path, body, raw)
    check(got_status == status, f"{path} {body if raw is None else raw[:40]}: status {got_status}, want {status}")
    if openai:
        check(isinstance(got, dict) and got.get("type") == error_type and got.get("code") == status,
              f"{path}: OpenAI error body {got}")
    else:
        check(isinstance(got, dict) and got.get("error_type") == error_type and got.get("error"),
              f"{path}: error body {got}, want error_type {error_type}")


def common_errors(srv, path, key="inputs", one="a", extra=None):
    """Bad JSON, wrong types, a missing field, no inputs, too many, an oversize body."""
    def body(value):
        return dict(extra or {}, **{key: value})

    expect_error(srv, path, None, 400, "Validation", raw=b"{not json")
    expect_error(srv, path, body(5), 422, "Validation")
    expect_error(srv, path, body(["ok", 7]), 422, "Validation")
    expect_error(srv, path, dict(extra or {}, other="x"), 422, "Validation")
    expect_error(srv, path, None, 422, "Validation", raw=b"[1, 2]")
    expect_error(srv, path, body([]), 400, "Empty")
    expect_error(srv, path, body([one] * 33), 413, "Validation")  # --max-client-batch-size 32
    status, _ = srv.call("POST", path, raw=json.dumps(body("x" * 300000)).encode())
    check(status == 413, f"{path}: an oversize body gave {status}, want 413")  # --max-payload-bytes


def run_embed(cmd):
    sentences = json.load(open(os.path.join(FIX, "minilm", "sentences.json")))
    ref = safetensors(os.path.join(FIX, "minilm", "reference.safetensors"))
    (n, dim), flat = ref["sentence_embeddings"]
    want = [flat[i * dim:(i + 1) * dim] for i in range(n)]
    (_, width), ids = ref["input_ids"]
    _, mask = ref["attention_mask"]
    srv = Server(cmd + ["--max-payload-bytes", "200000", "--max-input-length", "128"])
    try:
        status, _ = srv.call("GET", "/health")
        check(status == 200, f"/health: {status}")
        status, info = srv.call("GET", "/info")
        check(status == 200 and info["model_type"] == {"embedding": {"pooling": "mean"}}
              and info["max_input_length"] == 128 and info["max_client_batch_size"] == 32, f"/info: {info}")
        # Embeddings against sentence-transformers (normalised: TEI's default), in requests
        # sent at once so that the server batches them together.
        results = [None] * n

        def one(i):
            results[i] = srv.call("POST", "/embed", {"inputs": sentences[i]})

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, (status, got) in enumerate(results):
            check(status == 200 and len(got) == 1 and len(got[0]) == dim, f"/embed {i}: {status}")
            if status != 200:
                continue
            for a, b in zip(got[0], want[i]):
                near(a, b, f"/embed {i}", 1e-4)
        status, got = srv.call("POST", "/embed", {"inputs": sentences[:4], "normalize": False})
        check(status == 200 and len(got) == 4, f"/embed batch: {status}")
        norm = math.sqrt(sum(x * x for x in got[0]))
        check(abs(norm - 1.0) > 1e-3, f"/embed normalize=false gave a unit vector ({norm})")
        for a, b in zip(got[0], want[0]):
            near(a / norm, b, "/embed normalize=false, normalised here", 1e-4)
        status, got = srv.call("POST", "/v1/embeddings", {"input": sentences[:2], "model": "m"})
        check(status == 200 and got["object"] == "list" and got["model"] == "m" and len(got["data"]) == 2
              and got["data"][1]["index"] == 1 and got["data"][1]["object"] == "embedding", f"/v1/embeddings {got}")
        tokens = sum(mask[0:width]) + sum(mask[width:2 * width])
        check(got["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}, f"usage {got['usage']}")
        for a, b in zip(got["data"][0]["embedding"], want[0]):
            near(a, b, "/v1/embeddings", 1e-4)
        status, got = srv.call("POST", "/embed_all", {"inputs": sentences[0]})
        length = sum(mask[0:width])
        check(status == 200 and len(got) == 1 and len(got[0]) == length and len(got[0][0]) == dim,
              f"/embed_all: {status}")
        (rows, _), hidden = ref["last_hidden_state"]  # the real tokens of every sentence, in order
        for r in range(length):
            for a, b in zip(got[0][r], hidden[r * dim:(r + 1) * dim]):
                near(a, b, f"/embed_all token {r}", 1e-4)
        # Tokens against HF's ids.
        status, got = srv.call("POST", "/tokenize", {"inputs": [sentences[0], sentences[1]]})
        check(status == 200 and len(got) == 2, f"/tokenize: {status}")
        for k in range(2):
            want_ids = [ids[k * width + j] for j in range(width) if mask[k * width + j]]
            check([t["id"] for t in got[k]] == want_ids, f"/tokenize {k}: ids")
        first = got[0]
        check(first[0]["special"] and first[0]["start"] is None and not first[1]["special"]
              and sentences[0].lower()[first[1]["start"]:first[1]["stop"]] == first[1]["text"].lower(),
              f"/tokenize fields {first[:2]}")
        status, got = srv.call("POST", "/tokenize", {"inputs": "a b", "add_special_tokens": False})
        check(status == 200 and [t["text"] for t in got[0]] == ["a", "b"], f"/tokenize no specials {got}")
        # Errors.
        common_errors(srv, "/embed")
        long_text = "word " * 300
        expect_error(srv, "/embed", {"inputs": long_text}, 413, "Validation")
        status, got = srv.call("POST", "/embed", {"inputs": long_text, "truncate": True})
        check(status == 200 and len(got[0]) == dim, f"/embed truncate: {status}")
        expect_error(srv, "/embed", {"inputs": "x", "normalize": "yes"}, 422, "Validation")
        expect_error(srv, "/v1/embeddings", {"input": []}, 400, "Empty", openai=True)
        expect_error(srv, "/predict", {"inputs": "x"}, 424, "Backend")
        expect_error(srv, "/rerank", {"query": "q", "texts": ["x"]}, 424, "Backend")
    finally:
        srv.stop()


def run_predict(cmd, tiny, work):
    heads = json.load(open(os.path.join(FIX, "heads", "pipelines.json")))
    pairs_ref = json.load(open(os.path.join(FIX, "pairs", "reference.json")))
    # The tiny folders' config.json name the pre-training architecture: a copy names the
    # classifier's, and the server finds the kind from it as TEI does.
    seqcls = os.path.join(work, "seqcls")
    shutil.rmtree(seqcls, ignore_errors=True)
    shutil.copytree(os.path.join(tiny, "seqcls"), seqcls)
    with open(os.path.join(seqcls, "config.json")) as f:
        config = json.load(f)
    config["architectures"] = ["BertForSequenceClassification"]
    with open(os.path.join(seqcls, "config.json"), "w") as f:
        json.dump(config, f)
    srv = Server(cmd + ["--model", seqcls, "--max-payload-bytes", "200000"])
    try:
        c = heads["classify.seqcls"]
        status, got = srv.call("POST", "/predict", {"inputs": c["texts"][0]})
        check(status == 200, f"/predict: {status} {got}")
        want = sorted(c["results"][0], key=lambda x: -x["score"])
        check([g["label"] for g in got] == [w["label"] for w in want], f"/predict labels {got}")
        for g, w in zip(got, want):
            near(g["score"], w["score"], "/predict", TOL)
        status, got = srv.call("POST", "/predict", {"inputs": [[t] for t in c["texts"]]})
        check(status == 200 and len(got) == len(c["texts"]), f"/predict batch: {status}")
        for g, w in zip(got, c["results"]):
            w = sorted(w, key=lambda x: -x["score"])
            check([x["label"] for x in g] == [x["label"] for x in w], "/predict batch labels")
            for x, y in zip(g, w):
                near(x["score"], y["score"], "/predict batch", TOL)
        # Requests sent at once are run as one batch by the server: the same answers.
        results = [None] * len(c["texts"])

        def one(i):
            results[i] = srv.call("POST", "/predict", {"inputs": c["texts"][i]})

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(c["texts"]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for (status, g), w in zip(results, c["results"]):
            w = sorted(w, key=lambda x: -x["score"])
            check(status == 200 and [x["label"] for x in g] == [x["label"] for x in w], "/predict concurrent labels")
            if status != 200:
                continue
            for x, y in zip(g, w):
                near(x["score"], y["score"], "/predict concurrent", TOL)
        expect_error(srv, "/predict", {"inputs": "word " * 600}, 413, "Validation")
        status, cut = srv.call("POST", "/predict", {"inputs": "word " * 600, "truncate": True})
        check(status == 200 and len(cut) == len(c["results"][0]), f"/predict truncate: {status}")
        expect_error(srv, "/predict", {"inputs": "  "}, 413, "Validation")
        status, raw = srv.call("POST", "/predict", {"inputs": c["texts"][0], "raw_scores": True})
        check(status == 200 and abs(sum(x["score"] for x in raw) - 1.0) > 1e-3, f"/predict raw_scores {raw}")
        status, info = srv.call("GET", "/info")
        check(status == 200 and "classifier" in info["model_type"], f"/info {info}")
        common_errors(srv, "/predict", one=["a"])
        expect_error(srv, "/predict", {"inputs": ["a", "b", "c"]}, 422, "Validation")
        expect_error(srv, "/embed", {"inputs": "x"}, 424, "Backend")
    finally:
        srv.stop()
    ref = pairs_ref["rerank"]
    srv = Server(cmd + ["--model", os.path.join(tiny, "rerank"), "--kind", "reranker", "--max-payload-bytes", "200000"])
    try:
        query = ref["pairs"][0][0]
        passages = [p for q, p in ref["pairs"] if q == query]
        status, got = srv.call("POST", "/rerank", {"query": query, "texts": passages, "return_text": True})
        check(status == 200, f"/rerank: {status} {got}")
        want = ref["default"]["rank"]
        check([g["index"] for g in got] == [w["corpus_id"] for w in want], f"/rerank order {got}")
        for g, w in zip(got, want):
            near(g["score"], w["score"], "/rerank", TOL)
            check(g["text"] == passages[g["index"]], "/rerank return_text")
        # One request per passage, sent at once (batched by the server): the same scores.
        scores = [None] * len(passages)

        def one_passage(i):
            scores[i] = srv.call("POST", "/rerank", {"query": query, "texts": [passages[i]]})

        threads = [threading.Thread(target=one_passage, args=(i,)) for i in range(len(passages))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        want_scores = {w["corpus_id"]: w["score"] for w in want}
        for i, (status, g) in enumerate(scores):
            check(status == 200 and len(g) == 1, f"/rerank concurrent {i}: {status}")
            if status != 200:
                continue
            near(g[0]["score"], want_scores[i], "/rerank concurrent", TOL)
        expect_error(srv, "/rerank", {"query": query, "texts": ["word " * 600]}, 413, "Validation")
        status, cut = srv.call("POST", "/rerank", {"query": query, "texts": ["word " * 600], "truncate": True})
        check(status == 200 and len(cut) == 1, f"/rerank truncate: {status}")
        expect_error(srv, "/rerank", {"query": "", "texts": ["x"]}, 413, "Validation")
        status, raw = srv.call("POST", "/rerank", {"query": query, "texts": passages, "raw_scores": True})
        for g, w in zip(raw, got):
            near(1 / (1 + math.exp(-g["score"])), w["score"], "/rerank raw_scores are logits", TOL)
        check("text" not in raw[0], "/rerank without return_text")
        common_errors(srv, "/rerank", key="texts", extra={"query": "q"})
        expect_error(srv, "/rerank", {"texts": ["x"]}, 422, "Validation")
    finally:
        srv.stop()


def main():
    main_of({"embed": lambda cmd, o: run_embed(cmd),
             "predict": lambda cmd, o: run_predict(cmd, o["--tiny"], o["--work"])})

if __name__ == "__main__":
    main()
