#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the fixtures of tools/convert_checkpoint.py's tests into tests/fixtures/converter/.

    python3 tools/make_converter_fixtures.py [--out tests/fixtures/converter]

Needs torch and transformers (tools/requirements.txt). Writes:
  tiny-bin/          a tiny BertModel (fixed seed, odd sizes) saved by torch.save(state_dict())
                     in the zip format, with its config.json and a small vocab.txt
  tiny-safetensors/  the same model saved by HF save_pretrained (model.safetensors)
  tricky/            zip.bin and legacy.bin: one state dict of awkward tensors (tied weights,
                     views with a storage offset, transposed, every dtype, 0-d, empty, a
                     Parameter), and expected.npz with what each must become (bf16 as uint16
                     bits, plus torch's own f16 and bf16 casts of the float tensors)
  malicious/         pytorch_model.bin (zip) whose pickle calls os.system, and
                     eval_legacy.bin (plain pickle) calling builtins.eval; each payload would
                     create a file named pwned_* in the working directory.
"""
import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np
import torch

TINY = dict(vocab_size=99, hidden_size=36, num_hidden_layers=2, num_attention_heads=6,
            intermediate_size=37, max_position_embeddings=40, type_vocab_size=2,
            hidden_act="gelu", layer_norm_eps=1e-12)


def tiny_model(out):
    from transformers import BertConfig, BertModel
    torch.manual_seed(1234)
    model = BertModel(BertConfig(**TINY), add_pooling_layer=True).eval()
    with torch.no_grad():  # LayerNorms away from (1, 0), so that a mix-up would show
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    sf_dir, bin_dir = os.path.join(out, "tiny-safetensors"), os.path.join(out, "tiny-bin")
    for d in (sf_dir, bin_dir):
        shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(sf_dir, safe_serialization=True)
    os.makedirs(bin_dir)
    torch.save(model.state_dict(), os.path.join(bin_dir, "pytorch_model.bin"))
    shutil.copyfile(os.path.join(sf_dir, "config.json"), os.path.join(bin_dir, "config.json"))
    vocab = ["[PAD]"] + [f"[unused{i}]" for i in range(94)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    with open(os.path.join(bin_dir, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(bin_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": 40}, f, indent=2)
    # The safetensors folder gets the same side files, so both load the same way.
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(bin_dir, name), os.path.join(sf_dir, name))


def tricky_state_dict():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(5, 7, generator=g)
    sd = OrderedDict()
    sd["matrix"] = base
    sd["tied"] = base                          # the same tensor twice (tied weights)
    sd["row_view"] = base[3]                   # storage offset 21
    sd["col_view"] = base[:, 2]                # offset 2, stride 7
    sd["transposed"] = base.t()                # non-contiguous
    sd["block"] = base[1:4, 2:6]               # offset and strides both
    sd["half"] = torch.randn(3, 4, generator=g).half()
    sd["half_t"] = sd["half"].t()
    sd["bf16"] = torch.randn(6, generator=g).bfloat16()
    sd["double"] = torch.randn(2, 3, generator=g).double()
    sd["long"] = torch.arange(-3, 9).reshape(3, 4)
    sd["int"] = torch.arange(5, dtype=torch.int32)
    sd["short"] = torch.arange(4, dtype=torch.int16)
    sd["int8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["uint8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    # bf16 rounding cases: ties both ways, NaN, infinities, overflow to inf, subnormals
    sd["rounding"] = torch.tensor(np.array([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, -(1 + 2**-8),
                                            float("nan"), float("inf"), -float("inf"), 3.4028235e38,
                                            1e-40, -0.0, 65504.0, 65520.0, 1e-8], dtype=np.float32))
    sd["param"] = torch.nn.Parameter(torch.randn(2, 2, generator=g))
    sd._metadata = OrderedDict({"": {"version": 1}})
    return sd


def np_of(t):
    t = t.detach().contiguous()
    return t.view(torch.int16).numpy().view(np.uint16) if t.dtype == torch.bfloat16 else t.numpy()


def tricky(out):
    d = os.path.join(out, "tricky")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    sd = tricky_state_dict()
    torch.save(sd, os.path.join(d, "zip.bin"))
    torch.save(sd, os.path.join(d, "legacy.bin"), _use_new_zipfile_serialization=False)
    expected = {}
    for name, t in sd.items():
        expected["keep/" + name] = np_of(t)
        if t.is_floating_point():
            expected["f16/" + name] = np_of(t.half())
            expected["bf16/" + name] = np_of(t.bfloat16())
            expected["f32/" + name] = np_of(t.float())
    np.savez_compressed(os.path.join(d, "expected.npz"), **expected)
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write("Generated by tools/make_converter_fixtures.py; see its docstring.\n")


class _Payload:
    """Pickles as a call to func(arg): what a malicious checkpoint does."""

    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return self.func, (self.arg,)


def malicious(out):
    d = os.path.join(out, "malicious")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    # os.system in a torch-style zip, inside an otherwise plausible state dict
    data = pickle.dumps(OrderedDict(weight=_Payload(os.system, "touch pwned_os_system")), protocol=2)
    data = data.replace(b"c" + os.system.__module__.encode() + b"\nsystem\n", b"cos\nsystem\n")  # as written
    with zipfile.ZipFile(os.path.join(d, "pytorch_model.bin"), "w") as z:
        z.writestr("archive/data.pkl", data)
        z.writestr("archive/version", "3\n")
        z.writestr("archive/byteorder", "little")
    # builtins.eval as a bare pickle (the legacy path reads its first object)
    code = "open('pwned_eval', 'w').close()"
    with open(os.path.join(d, "eval_legacy.bin"), "wb") as f:
        pickle.dump(_Payload(eval, code), f, protocol=4)
    # Prove the payloads are real: plain pickle runs them (in a scratch folder).
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(os.path.join(d, "pytorch_model.bin")) as z:
            pkl = z.read("archive/data.pkl")
        with open(os.path.join(d, "eval_legacy.bin"), "rb") as f:
            raw = f.read()
        for blob in (pkl, raw):
            path = os.path.join(tmp, "p.pkl")
            with open(path, "wb") as f:
                f.write(blob)
            subprocess.run([sys.executable, "-c", "import pickle; pickle.load(open('p.pkl', 'rb'))"],
                           cwd=tmp, check=True)
        assert sorted(n for n in os.listdir(tmp) if n.startswith("pwned")) == ["pwned_eval", "pwned_os_system"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures", "converter"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tiny_model(args.out)
    tricky(args.out)
    malicious(args.out)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(args.out) for f in fs)
    print(f"wrote {args.out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
