"""A small safetensors writer and header reader for the tools (no dependency on the safetensors package).

Writes F32, F64, BOOL and U8 tensors from torch tensors or numpy arrays, sorted by name, with the
header padded to 8 bytes as the format asks.
"""
import json
import struct

import numpy as np

_DTYPES = {np.float32: "F32", np.float64: "F64", np.bool_: "BOOL", np.uint8: "U8"}


def _array(value):
    if hasattr(value, "detach"):   # a torch tensor
        value = value.detach().cpu().numpy()
    a = np.ascontiguousarray(value)
    if a.dtype.type not in _DTYPES:
        raise ValueError(f"safetensors_lite: dtype {a.dtype} is not one of float32, float64, bool, uint8")
    return a.astype(a.dtype.newbyteorder("<"), copy=False)


def write(path, tensors, metadata=None):
    """Writes {name: tensor} to path; metadata is a {str: str} map for __metadata__."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = _array(tensors[name])
        raw = a.tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype.type], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_header(path):
    """{name: {"dtype", "shape", "data_offsets"}} of a safetensors file (without __metadata__)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header


def read(path):
    """{name: numpy array} of a safetensors file's F32, F64, BOOL and U8 tensors (others are skipped)."""
    codes = {v: k for k, v in _DTYPES.items()}
    header = read_header(path)
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        body = f.read()[n:]
    out = {}
    for name, t in header.items():
        if t["dtype"] in codes:
            start, end = t["data_offsets"]
            out[name] = np.frombuffer(body[start:end], dtype=np.dtype(codes[t["dtype"]]).newbyteorder("<")).reshape(t["shape"])
    return out
