#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Convert a PyTorch BERT checkpoint (pytorch_model.bin) into the folder bertpp reads.

    python3 tools/convert_checkpoint.py INPUT OUTPUT_DIR [--dtype keep|f32|f16|bf16]

INPUT is a checkpoint file or a folder holding `pytorch_model.bin` (or a sharded
`pytorch_model.bin.index.json`). OUTPUT_DIR receives `model.safetensors` and copies of
`config.json` and the tokenizer files found next to the checkpoint. Tensor names are kept.

No PyTorch needed: numpy is the only dependency. Both of PyTorch's formats are read: the
zip format (torch >= 1.6) and the legacy one (a sequence of pickles). A pickle can run code,
so the unpickler accepts only the few names a state dict is made of (tensor rebuild
functions, storage types, OrderedDict) and maps them to local functions; a file that asks
for anything else is refused before anything is built.
"""
import argparse
import collections
import json
import os
import pickle
import shutil
import struct
import sys
import zipfile

try:
    import numpy as np
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("convert_checkpoint.py needs numpy (pip install numpy, or apt install python3-numpy)")


class ConversionError(Exception):
    """A checkpoint that cannot (or must not) be converted; the message says why."""


# torch storage type -> (numpy dtype, safetensors dtype). BF16 has no numpy dtype: its bits
# are carried as uint16 and only ever copied or converted bit-wise.
STORAGE_TYPES = {
    "DoubleStorage": ("<f8", "F64"),
    "FloatStorage": ("<f4", "F32"),
    "HalfStorage": ("<f2", "F16"),
    "BFloat16Storage": ("<u2", "BF16"),
    "LongStorage": ("<i8", "I64"),
    "IntStorage": ("<i4", "I32"),
    "ShortStorage": ("<i2", "I16"),
    "CharStorage": ("i1", "I8"),
    "ByteStorage": ("u1", "U8"),
    "BoolStorage": ("?", "BOOL"),
}
FLOAT_DTYPES = ("F64", "F32", "F16", "BF16")


class StorageType:
    """Stands in for torch.FloatStorage & co.: only carries the element type."""

    def __init__(self, name):
        self.name = name
        self.np_dtype, self.st_dtype = STORAGE_TYPES[name]


class Storage:
    """A storage (or, in legacy files, a view of one): its data may arrive after the pickle."""

    def __init__(self, stype, root=None, offset=0, size=None):
        self.stype, self.root, self.offset, self.size = stype, root, offset, size
        self.data = None  # numpy array of the storage's elements, for a root storage
        self.numel = 0  # elements the pickle says the storage holds

    def array(self):
        if self.root is None:
            return self.data
        return self.root.data[self.offset:self.offset + self.size]


class Tensor:
    """A tensor rebuilt from a storage: a strided view, made a contiguous numpy array by
    materialize(). `dtype` is the safetensors dtype name (BF16 data is held as uint16)."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride
        self.dtype = storage.stype.st_dtype
        self.array = None

    def materialize(self, path, name):
        data, size, stride, offset = self.storage.array(), self.size, self.stride, self.offset
        if 0 in size:
            self.array = np.zeros(size, dtype=data.dtype)
            return
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= data.size:
            raise ConversionError(f"{path}: tensor {name} of size {size}, stride {stride}, offset "
                                  f"{offset} reads past its storage of {data.size} elements")
        view = np.lib.stride_tricks.as_strided(data[offset:], shape=size, writeable=False,
                                               strides=tuple(s * data.itemsize for s in stride))
        self.array = np.array(view, order="C")  # (ascontiguousarray would make 0-d 1-d)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    """torch._utils._rebuild_tensor(_v2): a strided view of a storage."""
    if not isinstance(storage, Storage):
        raise ConversionError("a tensor is rebuilt from something that is not a storage")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    offset = int(storage_offset)
    if len(size) != len(stride) or any(s < 0 for s in size + stride) or offset < 0:
        raise ConversionError(f"bad tensor layout: size {size}, stride {stride}, offset {offset}")
    return Tensor(storage, offset, size, stride)


def _rebuild_parameter(data, *_ignored):
    """torch._utils._rebuild_parameter(_with_state): a Parameter is its tensor."""
    return data


# The whole allow-list: (module, name) -> what the pickle gets instead of the real object.
SAFE_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
}
SAFE_GLOBALS.update({("torch", name): StorageType(name) for name in STORAGE_TYPES})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles a state dict; refuses every global outside SAFE_GLOBALS."""

    def __init__(self, file, path, storages):
        super().__init__(file)
        self.path = path
        self.storages = storages  # key -> Storage, shared by every tensor that uses it

    def find_class(self, module, name):
        try:
            return SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise ConversionError(f"refusing to load {self.path}: the pickle asks for {module}.{name}; "
                                  "only tensor data is accepted") from None

    def persistent_load(self, pid):
        # zip: ('storage', type, key, location, numel); legacy adds view_metadata.
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], StorageType)):
            raise ConversionError(f"refusing to load {self.path}: unknown persistent id {pid!r:.80}")
        stype, key = pid[1], str(pid[2])
        root = self.storages.setdefault(key, Storage(stype))
        if root.stype.st_dtype != stype.st_dtype:
            raise ConversionError(f"{self.path}: storage {key} is used as two element types")
        root.numel = max(root.numel, int(pid[4]))
        if len(pid) == 6 and pid[5] is not None:  # legacy: (view key, offset, size)
            _view_key, offset, size = pid[5]
            return Storage(stype, root, int(offset), int(size))
        return root


def _storage_array(raw, stype, numel, path, key, big_endian=False):
    dtype = np.dtype(stype.np_dtype)
    if len(raw) < numel * dtype.itemsize:
        raise ConversionError(f"{path}: storage {key} holds {len(raw)} bytes, "
                              f"{numel} x {dtype.itemsize} expected")
    data = np.frombuffer(raw, dtype=dtype, count=numel)
    return data.byteswap() if big_endian and dtype.itemsize > 1 else data


def _state_dict(obj, path):
    """{name: Tensor} with every tensor materialised; refuses anything but tensors."""
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]  # a training checkpoint wrapping the state dict
    if not isinstance(obj, dict):
        raise ConversionError(f"{path}: expected a state dict, found {type(obj).__name__}")
    out = {}
    for name, value in obj.items():
        if not isinstance(value, Tensor):
            raise ConversionError(f"{path}: entry {name!r} is a {type(value).__name__}, not a tensor")
        value.materialize(path, name)
        out[str(name)] = value
    return out


def load_zip(path):
    """PyTorch's zip format: <root>/data.pkl and one <root>/data/<key> file per storage."""
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise ConversionError(f"{path}: not a PyTorch checkpoint (no <root>/data.pkl in the zip)")
        root = pkl[0][: -len("data.pkl")]
        big = root + "byteorder" in names and archive.read(root + "byteorder").strip() == b"big"
        storages = {}
        with archive.open(pkl[0]) as f:
            state = RestrictedUnpickler(f, path, storages).load()
        for key, storage in storages.items():
            member = root + "data/" + key
            if member not in names:
                raise ConversionError(f"{path}: storage {key} is missing from the zip")
            storage.data = _storage_array(archive.read(member), storage.stype, storage.numel,
                                          path, key, big)
    return _state_dict(state, path)


LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def load_legacy(path):
    """The pre-1.6 format: magic, protocol, sys info, the state dict, the storage keys, then
    each storage as an int64 element count followed by its bytes."""
    storages = {}
    with open(path, "rb") as f:
        def restricted_load():
            return RestrictedUnpickler(f, path, storages).load()

        try:
            magic = restricted_load()
        except (pickle.UnpicklingError, EOFError, ValueError, struct.error) as e:
            raise ConversionError(f"{path}: neither a zip nor a pickle ({e})") from None
        if magic != LEGACY_MAGIC:
            raise ConversionError(f"{path}: a pickle, but not a PyTorch checkpoint (bad magic number)")
        restricted_load()  # protocol version
        sys_info = restricted_load()
        if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
            raise ConversionError(f"{path}: big-endian legacy checkpoints are not supported")
        state = restricted_load()
        keys = restricted_load()
        if not isinstance(keys, list):
            raise ConversionError(f"{path}: malformed legacy checkpoint (no storage key list)")
        for key in keys:
            storage = storages.get(str(key))
            if storage is None:
                raise ConversionError(f"{path}: storage {key} is listed but never used")
            head = f.read(8)
            if len(head) != 8:
                raise ConversionError(f"{path}: truncated at storage {key}")
            (count,) = struct.unpack("<q", head)
            nbytes = count * np.dtype(storage.stype.np_dtype).itemsize
            storage.data = _storage_array(f.read(nbytes), storage.stype, count, path, key)
    missing = [k for k, s in storages.items() if s.data is None]
    if missing:
        raise ConversionError(f"{path}: storages {missing[:5]} are used but not stored")
    return _state_dict(state, path)


def load_checkpoint(path):
    """{name: Tensor} of a .bin file in either PyTorch format."""
    try:
        return load_zip(path) if zipfile.is_zipfile(path) else load_legacy(path)
    except (ConversionError, OSError):
        raise
    except Exception as e:  # a malformed pickle can raise about anything: report, never crash
        raise ConversionError(f"{path}: malformed checkpoint ({type(e).__name__}: {e})") from None


# ---------------------------------------------------------------------------- dtype conversion

def f32_to_bf16_bits(x):
    """float32 array -> bfloat16 bits (uint16), rounding to nearest even; NaN stays NaN."""
    u = np.ascontiguousarray(x, dtype="<f4").view("<u4")
    rounded = ((u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16))
    nan = np.isnan(x)
    quiet_nan = (u >> np.uint32(16)) | np.uint32(0x0040)
    return np.where(nan, quiet_nan, rounded).astype("<u2").reshape(np.shape(x))


def to_f32(t):
    if t.dtype == "BF16":
        return (t.array.astype("<u4") << np.uint32(16)).view("<f4")
    return t.array.astype("<f4")


def convert_dtype(t, target):
    """(array, safetensors dtype) of tensor t in the target dtype; non-float tensors are kept."""
    if target == "keep" or t.dtype not in FLOAT_DTYPES or t.dtype == {"f32": "F32", "f16": "F16",
                                                                      "bf16": "BF16"}[target]:
        return t.array, t.dtype
    if target == "f32":
        return to_f32(t), "F32"
    if target == "f16":
        return to_f32(t).astype("<f2") if t.dtype == "BF16" else t.array.astype("<f2"), "F16"
    # bf16 from F16/F32 exactly; from F64 through float32 (double rounding, as torch's own path)
    return f32_to_bf16_bits(to_f32(t)), "BF16"


# ---------------------------------------------------------------------------- writing

def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: (contiguous little-endian array, safetensors dtype)}. Laid out as the
    safetensors library does: by element size (largest first), then by name."""
    order = sorted(tensors, key=lambda n: (-tensors[n][0].dtype.itemsize, n))
    header, offset = {"__metadata__": metadata or {"format": "pt"}}, 0
    for name in order:
        array, dtype = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name in order:
            f.write(np.ascontiguousarray(tensors[name][0]).tobytes())
    os.replace(tmp, path)


WEIGHT_SUFFIXES = (".bin", ".safetensors", ".h5", ".msgpack", ".onnx", ".ckpt", ".pt", ".pth")


def copy_side_files(src_dir, out_dir):
    """Copies config.json, tokenizer and sentence-transformers files; never weights."""
    copied = []
    for entry in sorted(os.listdir(src_dir)):
        src = os.path.join(src_dir, entry)
        dst = os.path.join(out_dir, entry)
        if os.path.isfile(src):
            if (not entry.endswith((".json", ".txt", ".model", ".md")) or entry.endswith(".index.json")
                    or os.path.exists(dst) and os.path.samefile(src, dst)):
                continue
            shutil.copyfile(src, dst)
            copied.append(entry)
        elif os.path.isdir(src) and entry.split("_", 1)[0].isdigit():  # e.g. 1_Pooling
            shutil.copytree(src, dst, dirs_exist_ok=True,
                            ignore=lambda _d, names: [n for n in names if n.endswith(WEIGHT_SUFFIXES)])
            copied.append(entry + "/")
    return copied


def find_checkpoints(path):
    """The .bin file(s) that make up the checkpoint at path (a file or a folder)."""
    if os.path.isfile(path):
        return [path]
    index = os.path.join(path, "pytorch_model.bin.index.json")
    if os.path.isfile(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        return [os.path.join(path, s) for s in shards]
    single = os.path.join(path, "pytorch_model.bin")
    if os.path.isfile(single):
        return [single]
    raise ConversionError(f"{path}: no pytorch_model.bin or pytorch_model.bin.index.json in this folder")


def convert(src, out_dir, dtype="keep"):
    """Converts the checkpoint at src into out_dir; returns {name: (array, dtype)} written."""
    tensors = {}
    for ckpt in find_checkpoints(src):
        for name, t in load_checkpoint(ckpt).items():
            if name in tensors:
                raise ConversionError(f"{ckpt}: tensor {name} appears in two shards")
            tensors[name] = convert_dtype(t, dtype)
    if not tensors:
        raise ConversionError(f"{src}: the checkpoint holds no tensors")
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    src_dir = src if os.path.isdir(src) else os.path.dirname(os.path.abspath(src))
    return tensors, copy_side_files(src_dir, out_dir)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="pytorch_model.bin, or a folder holding it")
    parser.add_argument("output", help="output folder (model.safetensors, config.json, tokenizer files)")
    parser.add_argument("--dtype", choices=("keep", "f32", "f16", "bf16"), default="keep",
                        help="dtype of the floating-point tensors written (default: keep)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    try:
        tensors, copied = convert(args.input, args.output, args.dtype)
    except ConversionError as e:
        print(f"convert_checkpoint.py: {e}", file=sys.stderr)
        return 1
    except (OSError, zipfile.BadZipFile) as e:
        print(f"convert_checkpoint.py: {e}", file=sys.stderr)
        return 1
    if not args.quiet:
        nbytes = sum(a.nbytes for a, _ in tensors.values())
        print(f"wrote {os.path.join(args.output, 'model.safetensors')}: {len(tensors)} tensors, "
              f"{nbytes / 2**20:.1f} MiB; copied {', '.join(copied) or 'nothing else'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
