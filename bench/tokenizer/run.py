#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bertpp's tokenizer beside HF tokenizers, same inputs, same run. One command:

    python3 bench/tokenizer/run.py [--bertpp-bin build/bench/tokenizer/bench_tokenizer]
                                   [--sst2 PATH/train.tsv] [--repeats 5] [--results FILE]

Inputs: the parity corpus (tests/tokenizer/data/corpus.jsonl, many scripts and odd
characters) and SST-2 train (plain English, data/sst2/train.tsv by default).
Tokenizer: bert-base-uncased (tests/fixtures/vocab), or the folder given by --vocab (HF:
RobertaTokenizer with merges.txt, AlbertTokenizer with spiece.model, XLMRobertaTokenizer with
sentencepiece.bpe.model, PreTrainedTokenizerFast for a lone tokenizer.json, else
AutoTokenizer; e.g. tests/tokenizer/data/vocab/roberta-base, or the XLM-R folder of
tools/fetch_sp_vocab.sh), special tokens added, no truncation or padding. Also the load
time of each engine ("load s": bertpp's Tokenizer::load, HF's from_pretrained). Engines: bertpp `encode_batch` at 1 thread and at all threads (bench_tokenizer);
HF `tokenizers` (the Rust backend of BertTokenizerFast) `encode_batch` with
RAYON_NUM_THREADS=1 and with all threads, each in its own process. Time: median over
--repeats runs after one warm-up. Prints tokens/s and the ratio to HF at 1 thread; the
token totals of both engines are checked to be equal. Without --bertpp-bin, bench_tokenizer
is built (Release) in ${BERTPP_CACHE:-~/.cache/bertpp}/bench/build-tokenizer. --results
writes the table into FILE between "<!-- tokenizer-bench -->" markers (other text kept).
Needs tokenizers and transformers (tools/requirements-test.txt).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("BERTPP_CACHE", os.path.expanduser("~/.cache/bertpp"))
VOCAB = os.path.join(ROOT, "tests", "fixtures", "vocab", "bert-base-uncased", "vocab.txt")
CORPUS = os.path.join(ROOT, "tests", "tokenizer", "data", "corpus.jsonl")
SST2 = os.path.join(ROOT, "data", "sst2", "train.tsv")
BEGIN, END = "<!-- tokenizer-bench -->", "<!-- /tokenizer-bench -->"


def read_texts(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith(".jsonl"):
            return [json.loads(line) for line in f]
        if path.endswith(".tsv"):
            next(f)
            return [line.rstrip("\n").split("\t")[0] for line in f]
        return [line.rstrip("\n") for line in f]


def hf_worker(args):
    """Runs in its own process (RAYON_NUM_THREADS is read once, when the pool starts)."""
    from transformers import BertTokenizerFast
    from transformers.models.bert.tokenization_bert import load_vocab
    t_load = time.perf_counter()
    if os.path.isdir(args.vocab):  # a folder (RoBERTa's vocab.json + merges.txt, ...)
        import transformers
        has = lambda f: os.path.exists(os.path.join(args.vocab, f))
        if has("tokenizer.json") and not has("tokenizer_config.json"):
            tok = transformers.PreTrainedTokenizerFast(
                tokenizer_file=os.path.join(args.vocab, "tokenizer.json")).backend_tokenizer
        else:
            cls = transformers.RobertaTokenizer if has("merges.txt") \
                else transformers.AlbertTokenizer if has("spiece.model") \
                else transformers.XLMRobertaTokenizer if has("sentencepiece.bpe.model") \
                else transformers.AutoTokenizer
            tok = cls.from_pretrained(args.vocab).backend_tokenizer
    else:
        tok = BertTokenizerFast(vocab=load_vocab(args.vocab), do_lower_case=not args.cased).backend_tokenizer
    load_s = time.perf_counter() - t_load
    texts = read_texts(args.input)
    secs, tokens = [], 0
    for r in range(args.repeats + 1):
        t0 = time.perf_counter()
        encs = tok.encode_batch(texts, add_special_tokens=True)
        dt = time.perf_counter() - t0
        tokens = sum(len(e.ids) for e in encs)
        if r:
            secs.append(dt)
    m = statistics.median(secs)
    print(json.dumps({"engine": "hf-tokenizers", "input": args.label, "threads": args.threads,
                      "texts": len(texts), "tokens": tokens, "repeats": args.repeats,
                      "median_s": m, "tokens_per_s": tokens / m, "load_s": load_s}))


def build_bench():
    build = os.path.join(CACHE, "bench", "build-tokenizer")
    subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                    "-DBERTPP_BUILD_TESTS=OFF", "-DBERTPP_BUILD_EXAMPLES=OFF",
                    "-DBERTPP_BUILD_BENCH=ON", "-DBERTPP_INSTALL=OFF"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "--target", "bench_tokenizer", "-j",
                    str(os.cpu_count() or 2)], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build, "bench", "tokenizer", "bench_tokenizer")


def json_lines(out):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bertpp-bin", help="bench_tokenizer binary (default: build it)")
    ap.add_argument("--vocab", default=VOCAB)
    ap.add_argument("--cased", action="store_true", help="do_lower_case=False")
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--sst2", default=SST2, help="SST-2 train.tsv (or any text file)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="'all threads' runs")
    ap.add_argument("--results", help="markdown file to write the table into")
    ap.add_argument("--hf-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--label", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hf_worker:
        return hf_worker(args)

    binary = args.bertpp_bin or build_bench()
    inputs = [("corpus", args.corpus), ("sst2-train", args.sst2)]
    rows = []
    for label, path in inputs:
        if not os.path.exists(path):
            print("skipping %s: %s not found" % (label, path), file=sys.stderr)
            continue
        cmd = [binary, "--vocab", args.vocab, "--input", path, "--label", label,
               "--repeats", str(args.repeats), "--threads", str(args.threads)]
        rows += json_lines(subprocess.run(cmd + (["--cased"] if args.cased else []), check=True,
                                          capture_output=True, text=True).stdout)
        for threads in sorted({1, args.threads}):
            env = dict(os.environ, RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
            cmd = [sys.executable, os.path.abspath(__file__), "--hf-worker", "--input", path,
                   "--label", label, "--vocab", args.vocab, "--repeats", str(args.repeats),
                   "--threads", str(threads)] + (["--cased"] if args.cased else [])
            rows += json_lines(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                              env=env).stdout)

    name = os.path.basename(os.path.normpath(args.vocab)) if os.path.isdir(args.vocab) else \
        "bert-base-uncased"
    lines = ["Tokenizer throughput, %s%s, special tokens added; median of %d runs; "
             "%s, %d hardware threads, Python %s." % (name, " (cased)" if args.cased else "", args.repeats,
                                                    platform.processor() or platform.machine(),
                                                    os.cpu_count() or 0, platform.python_version()),
             "", "| input | texts | tokens | engine | threads | tokens/s | vs HF 1 thread | load s |",
             "|---|---:|---:|---|---:|---:|---:|---:|"]
    for label, _ in inputs:
        mine = [r for r in rows if r["input"] == label]
        base = [r for r in mine if r["engine"] == "hf-tokenizers" and r["threads"] == 1]
        if not base:
            continue
        totals = {r["engine"]: r["tokens"] for r in mine}
        if len(set(totals.values())) > 1:
            print("WARNING: token totals differ on %s: %s" % (label, totals), file=sys.stderr)
        for r in sorted(mine, key=lambda r: (r["engine"] != "bertpp", r["threads"])):
            lines.append("| %s | %d | %d | %s | %d | %.3g M | %.2fx | %.2f |" % (
                label, r["texts"], r["tokens"], r["engine"], r["threads"], r["tokens_per_s"] / 1e6,
                r["tokens_per_s"] / base[0]["tokens_per_s"], r.get("load_s", float("nan"))))
    table = "\n".join(lines)
    print(table)
    if args.results:
        old = open(args.results, encoding="utf-8").read() if os.path.exists(args.results) else ""
        block = "%s\n%s\n\n%s\n\n%s\n%s" % (BEGIN, section_header(), table, REPRODUCE, END)
        if BEGIN in old and END in old:
            new = old[:old.index(BEGIN)] + block + old[old.index(END) + len(END):]
        else:  # a section of its own after whatever the file holds (other benchmarks)
            new = (old.rstrip("\n") + "\n\n" if old else "") + block + "\n"
        with open(args.results, "w", encoding="utf-8") as f:
            f.write(new)


REPRODUCE = """Reproduce (needs the packages of tools/requirements-test.txt; SST-2 from
data/sst2/train.tsv, see data/sst2/README.md):

    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBERTPP_BUILD_BENCH=ON
    cmake --build build --target bench_tokenizer
    python3 bench/tokenizer/run.py --bertpp-bin build/bench/tokenizer/bench_tokenizer \\
        --results bench/RESULTS.md

The table between the `tokenizer-bench` markers is rewritten by each run; the rest of the
file (other benchmarks) is kept."""


def section_header():
    """Heading, date, commit and machine (CPU model and the SIMD flags that matter)."""
    model, flags = platform.processor() or platform.machine(), []
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model == (platform.processor() or platform.machine()):
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = value.split()
    except OSError:
        pass
    simd = [x for x in flags if x.startswith(("sse4", "avx", "bmi", "popcnt", "fma"))]
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rev = "unknown"
    dirty = ""
    try:
        if subprocess.run(["git", "status", "--porcelain", "--", "include/bertpp/tokenizer"],
                          cwd=ROOT, capture_output=True, text=True).stdout.strip():
            dirty = " (tokenizer sources modified since that commit)"
    except OSError:
        pass
    return ("## Tokenizer (bench/tokenizer/run.py)\n\n"
            "Written on %s, commit `%s`%s.\n"
            "Machine: %s, %d logical cores; SIMD flags: %s.\n"
            "Load average (1 / 5 min) at the end of the run: %.1f / %.1f. Shared machines are noisy:\n"
            "compare the ratios (both engines run back to back on the same inputs), not absolute\n"
            "numbers; with a load near the core count, the all-threads rows mean little."
            % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), rev, dirty, model,
               os.cpu_count() or 0, " ".join(simd) or "n/a", *os.getloadavg()[:2]))


if __name__ == "__main__":
    main()
