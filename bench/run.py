#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bertpp beside ONNX Runtime and PyTorch on the same models and inputs. One command:

    python3 bench/run.py --bertpp-bin build/bench/model/bench_model [--results bench/RESULTS.md]

Workloads: BERT-base at 1x128 and 8x128 tokens and BERT-large at 1x128 (synthetic weights
of tools/synthetic_weights.py, saved once as HF folders), and all-MiniLM-L6-v2 over the SST-2
dev sentences in batches of 32; each at 1 and 2 threads. Every engine runs each workload in
its own process (so peak RSS is its own) and loads from files as a user would: bertpp the HF
folder, PyTorch `from_pretrained` + `torch.inference_mode`, ONNX Runtime the model exported by
`torch.onnx.export` and optimised by `onnxruntime.transformers.optimizer` (model_type bert).
Each row runs every engine --rounds times (3), in alternating order, each time in a fresh
process; time: the median over the rounds of each round's median over runs (a run: every
batch once, after one warm-up batch); ratios pair the engines' medians of the same round.
Time to first result: process start to the first batch's output, loading included. Prepared files are cached in
${BERTPP_CACHE:-~/.cache/bertpp}/bench. Needs tools/requirements.txt.
"""
import argparse
import json
import os
from statistics import median
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.environ.get("BERTPP_CACHE", os.path.expanduser("~/.cache/bertpp"))
MINILM_CANDIDATES = [os.path.join(CACHE, "models", "all-MiniLM-L6-v2")]  # tools/fetch_model.sh puts it there
SST2_CANDIDATES = [os.path.join(ROOT, "tests", "fixtures", "sst2", "dev.tsv")]  # in the repo (see its README)
# bertpp-portable: the same program built with no -m flags (the kernels are chosen at run
# time either way); onnxruntime-int8: quantize_dynamic (per-channel QInt8 weights) of the
# optimised graph; bertpp-int8 / bertpp-bf16: bertpp with those weight precisions.
ENGINES = ("bertpp", "bertpp-portable", "onnxruntime", "pytorch", "onnxruntime-int8", "bertpp-int8", "bertpp-bf16")
DEFAULT_ENGINES = "bertpp,bertpp-portable,onnxruntime,pytorch,onnxruntime-int8"
# The ratios the tables report: (numerator engine, denominator engine), time over time.
RATIOS = (("onnxruntime", "bertpp"), ("pytorch", "bertpp"), ("bertpp-portable", "bertpp"),
          ("onnxruntime-int8", "bertpp-int8"), ("onnxruntime", "bertpp-bf16"), ("onnxruntime", "bertpp-int8"))


def synthetic_ids(batch, seq, vocab):
    """The ids of bench_model.cpp's synthetic_batch (keep the two in step)."""
    rows = []
    for b in range(batch):
        ids = [1000 + (b * 7919 + j * 104729) % (vocab - 1000) for j in range(seq)]
        ids[0], ids[-1] = 101, 102
        rows.append(ids)
    return rows


def read_ids(path, batch):
    with open(path) as f:
        seqs = [[int(t) for t in line.split()] for line in f if line.strip()]
    return [seqs[i:i + batch] for i in range(0, len(seqs), batch)]


# ------------------------------------------------------------------------------- workers

def padded(batch):
    """(input_ids, attention_mask, token_type_ids) int64 arrays, right-padded to the longest."""
    import numpy as np
    n = max(len(s) for s in batch)
    ids = np.zeros((len(batch), n), dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, s in enumerate(batch):
        ids[i, :len(s)], mask[i, :len(s)] = s, 1
    return ids, mask, np.zeros_like(ids)


def peak_rss_mb():
    """VmHWM of this process (ru_maxrss would include the parent's RSS at fork on Linux)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def worker(args):
    """Runs one workload in this process with one engine; prints one JSON line."""
    t0 = time.perf_counter()
    import numpy as np
    args.threads = int(args.threads)
    if args.worker == "pytorch":
        import torch
        from transformers import BertModel
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
        model = BertModel.from_pretrained(args.model).eval()
        vocab = model.config.vocab_size

        def forward(b):
            with torch.inference_mode():
                ids, mask, types = (torch.from_numpy(a) for a in padded(b))
                return model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state.numpy()
    else:  # onnxruntime, onnxruntime-int8 (args.onnx is the graph for that engine)
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = args.threads, 1
        session = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
        with open(os.path.join(args.model, "config.json")) as f:
            vocab = json.load(f)["vocab_size"]

        def forward(b):
            ids, mask, types = padded(b)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            return session.run(["last_hidden_state"], feeds)[0]
    load_s = time.perf_counter() - t0
    batches = read_ids(args.ids, args.batch) if args.ids else [synthetic_ids(args.batch, args.seq, vocab)]
    out = forward(batches[0])  # the warm-up, and the first result
    first_epoch, probe = time.time(), float(out[0, 0, 0])
    runs, start = [], time.perf_counter()
    while len(runs) < args.max_runs:
        r0 = time.perf_counter()
        for b in batches:
            forward(b)
        runs.append(time.perf_counter() - r0)
        if len(runs) >= args.min_runs and time.perf_counter() - start >= args.min_seconds:
            break
    print(json.dumps({"engine": args.worker, "threads": args.threads, "median_s": float(np.median(runs)),
                      "min_s": min(runs), "runs": len(runs), "load_s": load_s, "peak_rss_mb": peak_rss_mb(),
                      "probe": probe, "first_result_epoch": first_epoch}))


# ------------------------------------------------------------------------------- preparation

def log(msg):
    print(msg, file=sys.stderr, flush=True)


def synthetic_folder(name, cfg):
    """An HF folder (config.json + model.safetensors) holding the synthetic weights."""
    path = os.path.join(CACHE, "bench", f"synthetic-bert-{name}")
    if not os.path.exists(os.path.join(path, "model.safetensors")):
        log(f"preparing {path} (synthetic weights, once)")
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        import synthetic_weights
        synthetic_weights.hf_model(cfg).save_pretrained(path)
    return path


def onnx_model(name, folder):
    """Exports folder's BertModel to ONNX and optimises it for BERT, once."""
    path = os.path.join(CACHE, "bench", f"{name}.opt.onnx")
    if os.path.exists(path):
        return path
    import warnings
    import torch
    from onnxruntime.transformers import optimizer
    from transformers import BertModel
    log(f"exporting {folder} to {path} (once)")
    # Eager attention: the graph onnxruntime's BERT optimiser recognises (SDPA exports are
    # left unfused).
    model = BertModel.from_pretrained(folder, attn_implementation="eager").eval()

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state, out.pooler_output

    raw = path.replace(".opt.onnx", ".onnx")
    ids = torch.ones(2, 16, dtype=torch.long)
    axes = {n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrapper(model), (ids, torch.ones_like(ids), torch.zeros_like(ids)), raw, dynamo=False,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state", "pooler_output"],
                          dynamic_axes=dict(axes, pooler_output={0: "batch"}), opset_version=17)
    cfg = model.config
    opt = optimizer.optimize_model(raw, model_type="bert", num_heads=cfg.num_attention_heads,
                                   hidden_size=cfg.hidden_size)
    fused = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
    log(f"  fused: {fused}")
    opt.save_model_to_file(path)
    os.remove(raw)
    return path


def onnx_int8_model(name, opt_path):
    """onnxruntime's dynamic quantization of the optimised graph, once: int8 weights per
    output channel (QInt8), uint8 activations quantized per call, as its docs recommend for
    transformer models on CPU."""
    path = os.path.join(CACHE, "bench", f"{name}.int8.onnx")
    if not os.path.exists(path):
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
        log(f"quantizing {opt_path} to {path} (once)")
        # The fused graph's contrib ops defeat ONNX shape inference; the quantizer asks for
        # the default tensor type instead (its own error message says so).
        quantize_dynamic(opt_path, path, per_channel=True, weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return path


def sst2_ids(minilm, tsv):
    """The SST-2 dev sentences tokenized by HF's tokenizer of the MiniLM folder, one per line."""
    path = os.path.join(CACHE, "bench", "sst2-dev-minilm.ids")
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(minilm)
    with open(tsv) as f:
        lines = f.read().splitlines()[1:]
    sentences = [line.rsplit("\t", 1)[0] for line in lines if line.strip()]
    ids = tok(sentences, truncation=True, max_length=128)["input_ids"]
    with open(path, "w") as f:
        f.write("".join(" ".join(map(str, s)) + "\n" for s in ids))
    return path, len(ids), sum(map(len, ids))


def first_existing(paths, what):
    for p in paths:
        if p and os.path.exists(p):
            return os.path.abspath(p)
    sys.exit(f"run.py: no {what} in {paths}")


# ------------------------------------------------------------------------------- driver

def run_engine(args, engine, work, threads):
    common = ["--threads", str(threads), "--min-runs", str(args.min_runs), "--max-runs", str(args.max_runs),
              "--min-seconds", str(args.min_seconds), "--batch", str(work["batch"])]
    common += ["--ids", work["ids"]] if work.get("ids") else ["--seq", str(work["seq"])]
    if engine.startswith("bertpp"):
        binary = args.bertpp_portable_bin if engine == "bertpp-portable" else args.bertpp_bin
        precision = {"bertpp-int8": ["--precision", "int8"], "bertpp-bf16": ["--precision", "bf16"]}.get(engine, [])
        cmd = [binary, "--model", work["folder"]] + precision + common
    else:
        worker = "onnxruntime" if engine.startswith("onnxruntime") else engine
        onnx = work["onnx_int8"] if engine == "onnxruntime-int8" else work["onnx"]
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", worker, "--model", work["folder"],
               "--onnx", onnx] + common
    spawn = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        log(f"  {engine} failed ({res.returncode}): {res.stderr.strip()[-2000:]}")
        return None
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["first_result_s"] = out["first_result_epoch"] - spawn
    return out


def fmt_ms(r):
    return f"{r['median_s'] * 1e3:.0f}" if r else "n/a"


def combine(rounds):
    """One engine's results over the rounds of a row: the median of the rounds' medians, the
    rounds' medians themselves (for the paired ratios), the peak RSS over all rounds."""
    done = [r for r in rounds if r]
    if len(done) < len(rounds):
        return None
    out = dict(done[0])
    out["round_medians_s"] = [r["median_s"] for r in done]
    out["median_s"] = median(out["round_medians_s"])
    out["min_s"] = min(r["min_s"] for r in done)
    out["runs"] = sum(r["runs"] for r in done)
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in done)
    out["first_result_s"] = median([r["first_result_s"] for r in done])
    return out


def ratio(a, b):
    """b's time over a's, paired by round: the median of the per-round ratios, and their
    range when there are several rounds."""
    if not (a and b):
        return "n/a"
    pairs = [tb / ta for ta, tb in zip(a["round_medians_s"], b["round_medians_s"])]
    text = f"{median(pairs):.2f}x"
    if len(pairs) > 1:
        text += f" ({min(pairs):.2f}-{max(pairs):.2f})"
    return text


def tables(results, engines):
    """Markdown: the timing table, the ratios, then RSS and time to first result."""
    pairs = [(n, d) for n, d in RATIOS if n in engines and d in engines]
    lines = ["| workload | threads | " + " | ".join(f"{e} ms" for e in engines) + " |",
             "|" + "---|" * (2 + len(engines))]
    for (work, threads), r in results.items():
        lines.append(f"| {work} | {threads} | " + " | ".join(fmt_ms(r.get(e)) for e in engines) + " |")
    lines += ["", "| workload | threads | " + " | ".join(f"{n} / {d}" for n, d in pairs) + " |",
              "|" + "---|" * (2 + len(pairs))]
    for (work, threads), r in results.items():
        lines.append(f"| {work} | {threads} | " + " | ".join(ratio(r.get(d), r.get(n)) for n, d in pairs) + " |")
    lines += ["", "| workload | threads | " + " | ".join(f"{e} RSS MB / first result s" for e in engines) + " |",
              "|" + "---|" * (2 + len(engines))]
    for (work, threads), r in results.items():
        cells = [f"{r[e]['peak_rss_mb']:.0f} / {r[e]['first_result_s']:.2f}" if r.get(e) else "n/a"
                 for e in engines]
        lines.append(f"| {work} | {threads} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def gemm_table(args, threads):
    """This machine's FMA peak (peak_flops) and exec::Linear's GFLOP/s on BERT's GEMM shapes
    (bench_gemm), each as a share of the peak of its vector width and thread count."""
    if not (os.path.exists(args.peak_bin) and os.path.exists(args.gemm_bin)):
        log("no peak_flops / bench_gemm binaries: GEMM table skipped")
        return ""
    top = str(max(threads))
    peak = json.loads(subprocess.run([args.peak_bin, "--json", "--threads", top], capture_output=True, text=True,
                                     check=True).stdout)
    gemm = json.loads(subprocess.run([args.gemm_bin, "--json", "--threads", top], capture_output=True, text=True,
                                     check=True).stdout)
    peaks = {(p["isa"], p["threads"]): p["gflops"] for p in peak}
    widest = max(peaks, key=lambda k: (k[0] == "avx512", k[1] == 1))[0] if peaks else None
    lines = ["| fp32 FMA peak | threads | GFLOP/s |", "|---|---|---|"]
    lines += [f"| {isa} | {t} | {g:.1f} |" for (isa, t), g in sorted(peaks.items())]
    lines += ["", "| GEMM (m x k x n) | kernels | threads | GFLOP/s | share of peak |", "|---|---|---|---|---|"]
    for g in gemm:
        ref = peaks.get((g["isa"] if g["isa"] != "generic" else widest, g["threads"]))
        share = f"{100 * g['gflops'] / ref:.0f}%" if ref else "n/a"
        lines.append(f"| {g['shape']} | {g['isa']} | {g['threads']} | {g['gflops']:.1f} | {share} |")
    return "\n".join(lines)


def profile_table(args, work):
    """Where bertpp's time goes on one workload at one thread (bench_model --profile)."""
    cmd = [args.bertpp_bin, "--model", work["folder"], "--batch", str(work["batch"]), "--seq", str(work["seq"]),
           "--threads", "1", "--min-runs", "3", "--max-runs", "5", "--min-seconds", "1", "--profile"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        log(f"profile run failed: {res.stderr.strip()[-500:]}")
        return ""
    out = json.loads(res.stdout.strip().splitlines()[-1])
    total = out["median_s"]
    lines = [f"| op ({out['kernels']} kernels, 1 thread) | ms per forward | share |", "|---|---|---|"]
    timed = 0.0
    for op, sec in sorted(out["profile"].items(), key=lambda kv: -kv[1]):
        timed += sec
        lines.append(f"| {op} | {sec * 1e3:.1f} | {100 * sec / total:.0f}% |")
    lines.append(f"| rest (embeddings, packing, copies out) | {(total - timed) * 1e3:.1f} | "
                 f"{100 * (total - timed) / total:.0f}% |")
    return "\n".join(lines)


def machine():
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    simd = [f for f in info.get("flags", "").split() if f.startswith(("avx", "fma", "sse4", "amx", "f16c"))]
    # A guest's model name is often only the brand ("AMD EPYC"): family and model tell the
    # core (AMD family 25: Zen 3 / Zen 4, 26: Zen 5; Intel family 6, model 143: Sapphire Rapids).
    name = info.get("model name", "?")
    if "cpu family" in info:
        name += f" (family {info['cpu family']}, model {info.get('model', '?')})"
    return name, os.cpu_count(), " ".join(simd)


def write_results(path, table, seconds, args):
    import onnxruntime
    import torch
    import transformers
    cpu, cores, simd = machine()
    rounds, min_runs, min_seconds = max(1, args.rounds), args.min_runs, args.min_seconds
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "uncommitted"
    # This run's section is the file's head; the other benchmarks' sections (from the
    # tokenizer marker on) are kept as they are.
    rest = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        if "<!-- tokenizer-bench -->" in old:
            rest = "\n" + old[old.index("<!-- tokenizer-bench -->"):]
    with open(path, "w") as f:
        f.write(f"""<!-- SPDX-License-Identifier: Apache-2.0 -->
# bertpp beside ONNX Runtime and PyTorch

Written by `bench/run.py` on {time.strftime("%Y-%m-%d %H:%M %Z")}, commit `{commit}`, in {seconds:.0f} s.

Machine: {cpu}, {cores} logical cores ({simd}); shared and noisy, so read the ratios,
not the absolute times.
Engines: bertpp (bench_model, Release, -march=native), bertpp-portable (the same program
built Release with no -m flags: the kernels are chosen at run time), onnxruntime
{onnxruntime.__version__} (exported by torch.onnx, optimised by onnxruntime.transformers.optimizer,
model_type bert; intra-op threads = bertpp's, inter-op 1), onnxruntime-int8 (that graph through
`quantize_dynamic`, per-channel QInt8 weights), PyTorch {torch.__version__} with transformers
{transformers.__version__} (`torch.inference_mode`).

Each row runs every engine {rounds} times, in rounds (each engine once per round, back to
back, the order reversed every other round), each time in a fresh process: at least
{min_runs} run(s) and {min_seconds:g} s after a warm-up batch. A time is the median over the
rounds of each round's median; a ratio is the median of the ratios of the same round's
medians, with their range over the rounds in brackets, so that a slow stretch of the machine
hits both sides of a ratio alike. A run of `minilm-sst2` is one pass over the 872 SST-2 dev
sentences in batches of 32 (PyTorch and ONNX Runtime pad each batch to its longest sentence;
bertpp packs the sentences without padding). `X / bertpp` above 1 means bertpp is faster.

{table}

RSS: peak resident memory of the engine's own process. First result: from the process
start (interpreter start and imports for the Python engines) to the first batch's output.

## Reproduce

    pip install -r tools/requirements.txt
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
    cmake --build build --target bench_model bench_model_portable peak_flops bench_gemm
    python3 bench/run.py --results bench/RESULTS.md

The first run writes synthetic BERT-base/large folders and the ONNX exports into
`${{BERTPP_CACHE:-~/.cache/bertpp}}/bench` (about 3.6 GB); all-MiniLM-L6-v2 is read from
`${{BERTPP_CACHE}}/models/all-MiniLM-L6-v2` (tools/fetch_model.sh) or `--minilm DIR`.
""" + rest)


def prepare(args, engines):
    """{workload: its inputs and model files}, writing what is missing into the cache."""
    os.makedirs(os.path.join(CACHE, "bench"), exist_ok=True)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import synthetic_weights as sw
    wanted, works = args.workloads.split(","), {}
    for name, cfg in (("base", sw.BASE), ("large", sw.LARGE)):
        for key, batch in ((f"{name}-1x128", 1), (f"{name}-8x128", 8)):
            if key in wanted:
                folder = synthetic_folder(name, cfg)
                onnx = onnx_model(f"synthetic-bert-{name}", folder) if any(e.startswith("onnxruntime") for e in engines) else ""
                works[key] = dict(folder=folder, batch=batch, seq=128, onnx=onnx,
                                  onnx_int8=onnx_int8_model(f"synthetic-bert-{name}", onnx)
                                  if "onnxruntime-int8" in engines else "")
    if "minilm-sst2" in wanted:
        folder = first_existing([args.minilm] + MINILM_CANDIDATES, "all-MiniLM-L6-v2 folder")
        ids, n, tokens = sst2_ids(folder, first_existing([args.sst2] + SST2_CANDIDATES, "SST-2 dev.tsv"))
        log(f"SST-2 dev: {n} sentences, {tokens} tokens (MiniLM tokenizer)")
        onnx = onnx_model("all-MiniLM-L6-v2", folder) if any(e.startswith("onnxruntime") for e in engines) else ""
        works["minilm-sst2"] = dict(folder=folder, batch=32, ids=ids, onnx=onnx,
                                    onnx_int8=onnx_int8_model("all-MiniLM-L6-v2", onnx)
                                    if "onnxruntime-int8" in engines else "")
    return works


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bertpp-bin", default=os.path.join(ROOT, "build", "bench", "model", "bench_model"))
    p.add_argument("--bertpp-portable-bin",
                   default=os.path.join(ROOT, "build", "bench", "model", "bench_model_portable"))
    p.add_argument("--peak-bin", default=os.path.join(ROOT, "build", "bench", "peak", "peak_flops"))
    p.add_argument("--gemm-bin", default=os.path.join(ROOT, "build", "bench", "peak", "bench_gemm"))
    p.add_argument("--minilm", help="all-MiniLM-L6-v2 folder (HF layout)")
    p.add_argument("--sst2", help="SST-2 dev.tsv")
    p.add_argument("--engines", default=DEFAULT_ENGINES, help=f"any of {','.join(ENGINES)}")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--workloads", default="base-1x128,base-8x128,large-1x128,minilm-sst2")
    p.add_argument("--rounds", type=int, default=3,
                   help="times each row runs every engine, in alternating order (default 3)")
    p.add_argument("--min-runs", type=int, default=1, help="per engine and round")
    p.add_argument("--max-runs", type=int, default=20, help="per engine and round")
    p.add_argument("--min-seconds", type=float, default=0.7, help="per engine and round")
    p.add_argument("--json", help="also write every raw result here")
    p.add_argument("--results", help="write the tables, machine, date and commit to this markdown file")
    # worker mode (one engine, one workload; used by the driver)
    p.add_argument("--worker", choices=("pytorch", "onnxruntime"), help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--onnx", help=argparse.SUPPRESS)
    p.add_argument("--ids", help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--seq", type=int, default=128, help=argparse.SUPPRESS)
    p.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    engines = [e for e in ENGINES if e in args.engines.split(",")]
    if args.prepare:
        print(json.dumps(prepare(args, engines)))
        return 0

    if "bertpp" in engines and not os.path.exists(args.bertpp_bin):
        sys.exit(f"run.py: no {args.bertpp_bin}; build the bench_model target (Release) or pass --bertpp-bin")
    # Preparing (synthetic weights, exports) takes GBs: done in a child process, so that the
    # driver stays small while the engines run.
    t0 = time.time()
    res = subprocess.run([sys.executable, os.path.abspath(__file__), "--prepare"] + sys.argv[1:],
                         stdout=subprocess.PIPE, text=True)
    if res.returncode:
        sys.exit("run.py: preparing the models failed")
    works = json.loads(res.stdout.strip().splitlines()[-1])
    wanted = args.workloads.split(",")
    log(f"prepared in {time.time() - t0:.0f} s")
    results = {}
    for key in [w for w in wanted if w in works]:
        for threads in (int(t) for t in args.threads.split(",")):
            # Rounds: every engine once per round, back to back, the order reversed every
            # other round, so that a slow stretch of this shared machine falls on all engines
            # of a round alike; each ratio pairs the engines' medians of the same round.
            rounds = {engine: [] for engine in engines}
            for rnd in range(max(1, args.rounds)):
                for engine in engines if rnd % 2 == 0 else engines[::-1]:
                    r = run_engine(args, engine, works[key], threads)
                    rounds[engine].append(r)
                    if r:
                        log(f"{key} x{threads} {engine:16s} round {rnd + 1}: {r['median_s'] * 1e3:8.1f} ms "
                            f"(runs {r['runs']}, probe {r['probe']:.5f})")
            results[(key, threads)] = {engine: combine(rs) for engine, rs in rounds.items()}
    table = tables(results, engines)
    gemm = gemm_table(args, [int(t) for t in args.threads.split(",")])
    if gemm:
        table += "\n\n" + gemm
    first = next((k for k in wanted if k in works and "seq" in works[k]), None)
    prof = profile_table(args, works[first]) if first and "bertpp" in engines else ""
    if prof:
        table += f"\n\nWhere the time goes, {first}:\n\n" + prof
    print(table)
    log(f"total {time.time() - t0:.0f} s")
    if args.results:
        write_results(args.results, table, time.time() - t0, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{k[0]}@{k[1]}": v for k, v in results.items()}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
