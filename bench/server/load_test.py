#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Load test of bertpp-server: C concurrent clients (default 16) on loopback, one sentence
per POST /embed (keep-alive connections), over the 872 SST-2 dev sentences; then the same
sentences embedded in-process in batches by the Python package (bertpp.Embedder) with the
same thread count. Prints throughput (sentences/s) of both, their ratio, and the server's
p50/p99 request latency; bounded in count (the corpus, --rounds times) and time (--timeout).

  python bench/server/load_test.py --server build/examples/bertpp-server \\
      --model ~/.cache/bertpp/models/all-MiniLM-L6-v2 [--clients 16] [--threads 2] [--rounds 1]
      [--client python|wrk] [--seconds 30]

--client wrk drives the server with wrk (Debian's `wrk`: one C thread holding the 16
connections, bench/server/wrk_embed.lua) for --seconds instead of the Python clients, so
that the clients take little of the CPU the server runs on; the figures are wrk's (requests
per second, latency percentiles) and the sentences cycle through the corpus.

Needs the Python package installed (pip install ./python) for the in-process figure.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sentences():
    with open(os.path.join(ROOT, "tests", "fixtures", "sst2", "dev.tsv")) as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [r[0] for r in rows if r and r[0]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--client", choices=["python", "wrk"], default="python")
    ap.add_argument("--seconds", type=int, default=30)
    args = ap.parse_args()
    texts = sentences() * args.rounds

    proc = subprocess.Popen([args.server, "--model", args.model, "--port", "0", "--threads", str(args.threads),
                             "--max-concurrent-requests", "1024"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "listening on http://" not in line:
        sys.exit(f"the server did not start: {line!r}")
    host, port = line.strip().split("http://")[1].rsplit(":", 1)
    try:
        # Warm up (first-call allocations), then the timed run.
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        for t in texts[:32]:
            conn.request("POST", "/embed", json.dumps({"inputs": t}), {"Content-Type": "application/json"})
            conn.getresponse().read()
        conn.close()
        if args.client == "wrk":
            served_per_s, p50, p99 = run_wrk(host, port, texts, args)
            proc.terminate()
            proc.wait(timeout=30)
            report(args, texts, served_per_s, p50, p99)
            return
        latencies, errors, lock = [], [], threading.Lock()
        next_index = [0]
        deadline = time.perf_counter() + args.timeout

        def client():
            c = http.client.HTTPConnection(host, int(port), timeout=60)
            while time.perf_counter() < deadline:
                with lock:
                    i = next_index[0]
                    next_index[0] += 1
                if i >= len(texts):
                    break
                t0 = time.perf_counter()
                c.request("POST", "/embed", json.dumps({"inputs": texts[i]}), {"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                dt = time.perf_counter() - t0
                with lock:
                    (latencies if r.status == 200 else errors).append(dt if r.status == 200 else r.status)
            c.close()

        start = time.perf_counter()
        workers = [threading.Thread(target=client) for _ in range(args.clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        served = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if errors or len(latencies) != len(texts):
        sys.exit(f"{len(errors)} errors ({errors[:5]}), {len(latencies)} of {len(texts)} answered")

    lat = sorted(latencies)
    p50, p99 = statistics.median(lat), lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    report(args, texts, len(texts) / served, p50, p99)


def run_wrk(host, port, texts, args):
    """wrk -c CLIENTS for --seconds: (requests/s, p50 s, p99 s)."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for t in texts:
            f.write(json.dumps({"inputs": t}) + "\n")
        bodies = f.name
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{args.clients}", f"-d{args.seconds}s", "--latency", "--timeout", "60s",
                              "-s", os.path.join(ROOT, "bench", "server", "wrk_embed.lua"), f"http://{host}:{port}",
                              "--", bodies], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(bodies)
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"wrk saw errors:\n{out}")

    def ms(value):
        for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
            if value.endswith(unit):
                return float(value[:-len(unit)]) * scale
        raise ValueError(value)

    per_s = p50 = p99 = None
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            per_s = float(parts[1])
        elif parts[:1] == ["50%"]:
            p50 = ms(parts[1]) / 1e3
        elif parts[:1] == ["99%"]:
            p99 = ms(parts[1]) / 1e3
    if per_s is None or p50 is None or p99 is None:
        sys.exit(f"could not read wrk's output:\n{out}")
    return per_s, p50, p99


def report(args, texts, served_per_s, p50, p99):
    """The in-process figure on the same sentences (median of 3 runs), then the comparison as JSON."""
    import bertpp

    emb = bertpp.Embedder.load(args.model, num_threads=args.threads, batch_size=32)
    emb.embed(texts[:32])
    runs = []  # the median of three: the machine is shared and one run can be far off
    for _ in range(3):
        start = time.perf_counter()
        emb.embed(texts)
        runs.append(time.perf_counter() - start)
    direct = statistics.median(runs)
    result = {
        "client": args.client,
        "sentences": len(texts),
        "clients": args.clients,
        "threads": args.threads,
        "server_per_s": served_per_s,
        "in_process_per_s": len(texts) / direct,
        "ratio": served_per_s / (len(texts) / direct),
        "p50_ms": p50 * 1e3,
        "p99_ms": p99 * 1e3,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
