"""Minimal safetensors reader/writer (numpy only) for the quality benchmark.

Written here on purpose instead of using the `safetensors` package: the benchmark must run with
Debian's python3 + numpy + torch and nothing else, and it doubles as an independent check that
sparkmerge's output is a plain, spec-conforming safetensors checkpoint in the Hugging Face layout.
"""
import json
import os
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32,
           "U8": np.uint8, "BOOL": np.bool_}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}
SINGLE = "model.safetensors"
INDEX = "model.safetensors.index.json"


def write_file(path, tensors, metadata=None):
    """Writes {name: np.ndarray} to one .safetensors file (tensors in name order, header padded to 8 bytes)."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        dtype = _NAMES.get(arr.dtype)
        if dtype is None:
            raise ValueError(f"{name}: dtype {arr.dtype} has no safetensors name here")
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_file(path):
    """Reads every tensor of one .safetensors file, validating offsets against the file size."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    base, out = 8 + n, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        begin, end = info["data_offsets"]
        if dtype == "BF16":
            raw = np.frombuffer(buf, dtype="<u2", count=(end - begin) // 2, offset=base + begin)
            arr = (raw.astype(np.uint32) << 16).view(np.float32)
        elif dtype in _DTYPES:
            dt = np.dtype(_DTYPES[dtype]).newbyteorder("<")
            arr = np.frombuffer(buf, dtype=dt, count=(end - begin) // dt.itemsize, offset=base + begin)
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {dtype}")
        if base + end > len(buf) or arr.size != int(np.prod(info["shape"], dtype=np.int64)):
            raise ValueError(f"{path}: tensor {name} offsets do not match its shape")
        out[name] = arr.reshape(info["shape"]).copy()
    return out


def write_model(directory, tensors, config):
    """A model directory in the HF layout: model.safetensors + config.json."""
    os.makedirs(directory, exist_ok=True)
    write_file(os.path.join(directory, SINGLE), tensors, {"format": "pt"})
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


def read_model(directory):
    """Reads a model directory: model.safetensors, or the shards listed by model.safetensors.index.json."""
    single = os.path.join(directory, SINGLE)
    if os.path.exists(single):
        return read_file(single)
    with open(os.path.join(directory, INDEX)) as f:
        weight_map = json.load(f)["weight_map"]
    out = {}
    for shard in sorted(set(weight_map.values())):
        out.update(read_file(os.path.join(directory, shard)))
    missing = set(weight_map) - set(out)
    if missing:
        raise ValueError(f"{directory}: index lists tensors missing from the shards: {sorted(missing)[:3]}")
    return out
