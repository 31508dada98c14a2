#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks of tools/convert_checkpoint.py, run by ctest (numpy only, no torch).

    check_converter.py convert-without-torch CONVERTER ARGS...  convert, torch unimportable
    check_converter.py same-tensors OUT_DIR REF_DIR       converted == HF's model.safetensors
    check_converter.py side-files OUT_DIR NAME...         the named files were copied
    check_converter.py refuses CONVERTER FILE NAME        refused, message names NAME, no payload ran
    check_converter.py tricky CONVERTER TRICKY_DIR WORK   views, ties, dtypes, both formats, --dtype
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np

NP = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
      "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def read_safetensors(path):
    """{name: (dtype, shape, bytes)}, validating the layout as a strict reader would."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    check(n % 8 == 0, f"{path}: header length {n} is not a multiple of 8")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    check(header.pop("__metadata__", None) == {"format": "pt"}, f"{path}: __metadata__ is not format pt")
    data, out, end = blob[8 + n:], {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, stop = info["data_offsets"]
        check(begin == end, f"{path}: {name} does not start where the previous tensor ends")
        size = int(np.prod(info["shape"], dtype=np.int64)) * np.dtype(NP[info["dtype"]]).itemsize
        check(stop - begin == size, f"{path}: {name} has {stop - begin} bytes for shape {info['shape']}")
        out[name] = (info["dtype"], tuple(info["shape"]), data[begin:stop])
        end = stop
    check(end == len(data), f"{path}: {len(data) - end} bytes after the last tensor")
    return out


def as_array(entry):
    dtype, shape, raw = entry
    return np.frombuffer(raw, dtype=NP[dtype]).reshape(shape)


def same_tensors(out_dir, ref_dir):
    got = read_safetensors(os.path.join(out_dir, "model.safetensors"))
    ref = read_safetensors(os.path.join(ref_dir, "model.safetensors"))
    check(sorted(got) == sorted(ref), f"tensor names differ: {sorted(set(got) ^ set(ref))}")
    for name in sorted(set(got) & set(ref)):
        check(got[name][:2] == ref[name][:2], f"{name}: {got[name][:2]} vs HF {ref[name][:2]}")
        check(got[name][2] == ref[name][2], f"{name}: bytes differ from HF's safetensors")
    print(f"{len(got)} tensors, all bytes equal to {ref_dir}" if not failures else "")


def side_files(out_dir, *names):
    for name in names:
        check(os.path.isfile(os.path.join(out_dir, name)), f"{name} was not copied to {out_dir}")
    check(not any(n.endswith(".bin") for n in os.listdir(out_dir)), f"a .bin was copied to {out_dir}")


def run_converter(converter, *args, cwd=None):
    return subprocess.run([sys.executable, converter, *args], cwd=cwd, capture_output=True, text=True)


def refuses(converter, path, name):
    work = os.path.abspath("refuses-" + os.path.basename(path))
    os.makedirs(work, exist_ok=True)
    for f in os.listdir(work):
        if f.startswith("pwned"):
            os.remove(os.path.join(work, f))
    res = run_converter(converter, os.path.abspath(path), os.path.join(work, "out"), cwd=work)
    print(res.stderr.strip())
    check(res.returncode != 0, f"{path} was accepted (exit status 0)")
    check(f"refusing to load {os.path.abspath(path)}: the pickle asks for {name}" in res.stderr,
          f"the message does not name {name}: {res.stderr!r}")
    check("Traceback" not in res.stderr, "the converter crashed instead of refusing")
    check(not any(f.startswith("pwned") for f in os.listdir(work)), "the payload ran")
    check(not os.path.exists(os.path.join(work, "out", "model.safetensors")), "an output was written")


def nan_free_bits(a, dtype):
    """The bits of a, with every NaN made one value: torch writes NaN as bf16 0xFFFF where the
    converter keeps the sign (0x7FC0); both are NaN, no other bit may differ."""
    if dtype not in ("F64", "F32", "F16", "BF16"):
        return a
    nan = np.isnan((a.astype("<u4") << 16).view("<f4")) if dtype == "BF16" else np.isnan(a)
    bits = a.view({1: "u1", 2: "<u2", 4: "<u4", 8: "<u8"}[a.dtype.itemsize]).copy()
    bits[nan] = 0
    return np.stack([bits.astype(np.uint64), nan.astype(np.uint64)])


def tricky(converter, tricky_dir, work):
    expected = np.load(os.path.join(tricky_dir, "expected.npz"))
    names = sorted({k.split("/", 1)[1] for k in expected.files})
    for fmt in ("zip", "legacy"):
        for dtype in ("keep", "f32", "f16", "bf16"):
            out = os.path.join(work, f"tricky-{fmt}-{dtype}")
            res = run_converter(converter, os.path.join(tricky_dir, fmt + ".bin"), out, "--dtype", dtype, "-q")
            check(res.returncode == 0, f"{fmt} --dtype {dtype}: exit {res.returncode}: {res.stderr}")
            if res.returncode:
                continue
            got = read_safetensors(os.path.join(out, "model.safetensors"))
            check(sorted(got) == names, f"{fmt} {dtype}: names {sorted(got)}")
            for name in names:
                key = f"{dtype}/{name}" if f"{dtype}/{name}" in expected.files else f"keep/{name}"
                want = expected[key]
                if name not in got:
                    continue
                arr = as_array(got[name])
                same = arr.shape == want.shape and arr.dtype.str == want.dtype.str \
                    and np.array_equal(nan_free_bits(arr, got[name][0]), nan_free_bits(want, got[name][0]))
                check(same, f"{fmt} --dtype {dtype}: {name} is {got[name][0]} {arr.shape} {arr.ravel()[:6]}, "
                            f"torch gives {want.dtype} {want.shape} {want.ravel()[:6]}")
    print(f"tricky: {len(names)} tensors x 2 formats x 4 dtypes checked")


def convert_without_torch(converter, *args):
    """Runs the converter in this process with `import torch` (and transformers) failing."""
    import runpy
    for name in ("torch", "transformers", "safetensors"):
        sys.modules[name] = None  # makes `import name` raise ImportError
    sys.argv = [converter, *args]
    try:
        runpy.run_path(converter, run_name="__main__")
    except SystemExit as e:
        check(not e.code, f"the converter exited with {e.code}")


def main(argv):
    cmd, args = argv[1], argv[2:]
    {"convert-without-torch": convert_without_torch, "same-tensors": same_tensors, "side-files": side_files, "refuses": refuses, "tricky": tricky}[cmd](*args)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
