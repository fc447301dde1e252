#!/usr/bin/env python3
"""The peer for bench/run.sh: a single-process, per-tensor numpy merge of the same math as sparkmerge
(docs/methods.md §1: linear, task_arithmetic, ties, dare_ties), the way single-machine merge tools
work today. It reads the safetensors files through memory maps (its own reader of the format: an
8-byte little-endian header length, a JSON header, then the raw tensor bytes), computes in float32
and writes one safetensors file in the inputs' dtype (BF16/F16/F32; other dtypes copied from the
first input that has them).

  peer_numpy.py merge METHOD OUT.safetensors --base DIR --models DIR... [--weight W] [--density D]
                [--lambda L] [--seed S]
  peer_numpy.py compare A B [--ulps N]   # A, B: a .safetensors file or a model directory

DARE's random masks come from numpy's generator seeded per (seed, tensor, model): the same math as
sparkmerge's, not the same draws, so only linear/task_arithmetic/ties outputs are comparable element
by element.
"""
import argparse
import glob
import json
import mmap
import os
import struct
import sys
import zlib

import numpy as np

FLOAT_DTYPES = {"BF16": 2, "F16": 2, "F32": 4}
NP_RAW = {"BF16": np.uint16, "F16": np.float16, "F32": np.float32, "F64": np.float64, "I64": np.int64,
          "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


class SafetensorsFile:
    """One .safetensors file, memory-mapped; tensors are zero-copy numpy views of the map."""

    def __init__(self, path):
        self.path = path
        self._f = open(path, "rb")
        self._mm = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ)
        (n,) = struct.unpack("<Q", self._mm[:8])
        header = json.loads(self._mm[8:8 + n])
        header.pop("__metadata__", None)
        self.data_start = 8 + n
        self.tensors = header  # name -> {dtype, shape, data_offsets}
        self.buf = np.frombuffer(self._mm, dtype=np.uint8)

    def raw(self, name):
        info = self.tensors[name]
        a, b = info["data_offsets"]
        return self.buf[self.data_start + a:self.data_start + b]

    def as_float32(self, name):
        info = self.tensors[name]
        raw = self.raw(name)
        shape = info["shape"]
        if info["dtype"] == "BF16":
            return (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(shape)
        if info["dtype"] in ("F16", "F32", "F64"):
            return raw.view(NP_RAW[info["dtype"]]).astype(np.float32).reshape(shape)
        raise ValueError(f"{self.path}: tensor {name} has dtype {info['dtype']}, not floating point")


class Model:
    """A model directory (or one file): tensor name -> the file holding it."""

    def __init__(self, path):
        files = [path] if path.endswith(".safetensors") else sorted(glob.glob(os.path.join(path, "*.safetensors")))
        if not files:
            sys.exit(f"{path}: no .safetensors files")
        self.where = {}
        for f in files:
            st = SafetensorsFile(f)
            for name in st.tensors:
                self.where[name] = st

    def info(self, name):
        return self.where[name].tensors[name]


def encode(values, dtype):
    """float32 -> the output dtype's bytes: BF16 rounds to nearest even and keeps NaN quiet."""
    if dtype == "BF16":
        bits = values.astype(np.float32, copy=False).view(np.uint32)
        rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
        nan = np.isnan(values)
        if nan.any():
            rounded[nan] = ((bits[nan] >> 16) | 0x0040).astype(np.uint16)
        return rounded.tobytes()
    if dtype == "F16":
        return values.astype(np.float16).tobytes()
    return values.astype(np.float32).tobytes()


def stream_seed(seed, name, t):
    return [seed, zlib.crc32(name.encode()), t]


def top_k_mask(mag, k):
    """The k largest of mag, equal magnitudes broken by lower flat index (methods.md §1)."""
    flat = mag.reshape(-1)
    n = flat.size
    if k >= n:
        return np.ones(n, dtype=bool)
    thr = np.partition(flat, n - k)[n - k]
    mask = flat > thr
    need = k - int(np.count_nonzero(mask))
    if need > 0:
        mask[np.flatnonzero(flat == thr)[:need]] = True
    return mask


def merge_tensor(method, name, base, xs, w, density, lam, seed):
    shape = xs[0].shape
    if method == "linear":  # Σ (w_t / Σw)·θ_t, normalised weights first (as sparkmerge does)
        wn = [np.float32(wt / sum(w)) for wt in w]
        acc = wn[0] * xs[0]
        for t in range(1, len(xs)):
            acc += wn[t] * xs[t]
        return acc
    tau = [x - base for x in xs]
    if method == "task_arithmetic":
        acc = np.float32(w[0]) * tau[0]
        for t in range(1, len(xs)):
            acc += np.float32(w[t]) * tau[t]
        return base + np.float32(lam) * acc
    d = np.empty((len(xs),) + shape, dtype=np.float32)
    for t, tt in enumerate(tau):
        flat = tt.reshape(-1)
        if method == "ties":
            keep = top_k_mask(np.abs(flat), int(np.floor(density[t] * flat.size))) if density[t] < 1 else None
            scale = 1.0
        else:  # dare_ties: Bernoulli(d) mask, L1 rescale (rescale: true)
            keep = np.random.default_rng(stream_seed(seed, name, t)).random(flat.size) < density[t] if density[t] < 1 else None
            scale = 1.0
            if keep is not None:
                l1_all = float(np.abs(flat).sum(dtype=np.float64))
                l1_kept = float(np.abs(flat[keep]).sum(dtype=np.float64))
                scale = 1.0 if l1_all < 1e-7 or l1_kept < 1e-7 else l1_all / l1_kept
        dt = d[t].reshape(-1)
        np.multiply(flat, np.float32(w[t] * scale), out=dt)
        if keep is not None:
            dt[~keep] = 0
    elected = d.sum(axis=0) >= 0
    kept = (d != 0) & ((d > 0) == elected)
    mixed = np.where(kept, d, 0).sum(axis=0)
    if method == "ties":  # normalize: true
        divisor = (kept * np.asarray(w, dtype=np.float32).reshape((-1,) + (1,) * len(shape))).sum(axis=0)
        divisor[divisor == 0] = 1
        mixed /= divisor
    return base + np.float32(lam) * mixed


def cmd_merge(a):
    models = [Model(p) for p in a.models]
    base = Model(a.base) if a.base else None
    ref = base or models[0]
    names = sorted(ref.where)
    w = [a.weight] * len(models)
    dens = [a.density] * len(models)
    header, offset = {}, 0
    for n in names:
        info = ref.info(n)
        size = int(np.prod(info["shape"], dtype=np.int64)) * (FLOAT_DTYPES.get(info["dtype"]) or
                                                              np.dtype(NP_RAW[info["dtype"]]).itemsize)
        header[n] = {"dtype": info["dtype"], "shape": info["shape"], "data_offsets": [offset, offset + size]}
        offset += size
    header["__metadata__"] = {"format": "pt"}
    hbytes = json.dumps(header, separators=(",", ":")).encode()
    hbytes += b" " * (-len(hbytes) % 8)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as out:
        out.write(struct.pack("<Q", len(hbytes)))
        out.write(hbytes)
        for n in names:
            info = ref.info(n)
            if info["dtype"] not in FLOAT_DTYPES:
                out.write(ref.where[n].raw(n).tobytes())
                continue
            xs = [m.where[n].as_float32(n) for m in models]
            b = base.where[n].as_float32(n) if base else None
            merged = merge_tensor(a.method, n, b, xs, w, dens, a.lam, a.seed)
            out.write(encode(merged, info["dtype"]))
    os.replace(tmp, a.out)


def cmd_compare(a):
    """Every float tensor of A within N units in the last place of its dtype of B's."""
    x, y = Model(a.a), Model(a.b)
    if set(x.where) != set(y.where):
        sys.exit(f"tensor names differ: {sorted(set(x.where) ^ set(y.where))[:5]}")
    worst, worst_name, exact = 0.0, None, 0
    mantissa_gap = {"BF16": 16, "F16": 13, "F32": 0}  # float32 mantissa bits the dtype lacks
    for n in sorted(x.where):
        dtype = x.info(n)["dtype"]
        if dtype not in FLOAT_DTYPES:
            continue
        va, vb = x.where[n].as_float32(n).reshape(-1), y.where[n].as_float32(n).reshape(-1)
        # one unit in the last place of the output dtype at the larger magnitude of the pair
        ulp = np.spacing(np.maximum(np.abs(va), np.abs(vb))) * np.float32(2 ** mantissa_gap[dtype])
        ulps = float((np.abs(va - vb) / ulp).max()) if va.size else 0.0
        exact += ulps == 0
        if ulps > worst:
            worst, worst_name = ulps, n
    print(f"compare: {exact} tensors identical, largest difference {worst:.2f} ulp(s) of the output dtype"
          + (f" in {worst_name}" if worst_name else ""))
    if worst > a.ulps:
        sys.exit(f"compare: {a.a} and {a.b} differ by more than {a.ulps} ulp(s)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge")
    m.add_argument("method", choices=["linear", "task_arithmetic", "ties", "dare_ties"])
    m.add_argument("out")
    m.add_argument("--base")
    m.add_argument("--models", nargs="+", required=True)
    m.add_argument("--weight", type=float, default=1.0)
    m.add_argument("--density", type=float, default=1.0)
    m.add_argument("--lambda", dest="lam", type=float, default=1.0)
    m.add_argument("--seed", type=int, default=1)
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--ulps", type=int, default=1)
    a = p.parse_args()
    if a.cmd == "merge":
        if a.method != "linear" and not a.base:
            p.error(f"{a.method} needs --base")
        cmd_merge(a)
    else:
        cmd_compare(a)


if __name__ == "__main__":
    main()
