#!/usr/bin/env python3
"""Compares what bench/gpu/check.sh's CPU and GPU runs wrote.

  compare.py svd CPU_DIR GPU_DIR            one line per s-MxN.f64: "MxN max|s_cpu - s_gpu|/s_cpu[0]"
  compare.py merge CPU_OUT GPU_OUT BASE     one line: "tensors worst_rel worst_tensor worst_update_rel update_tensor"

For a merge, rel = ||gpu - cpu||_F / ||cpu||_F per tensor (the check's criterion, <= 1e-4), and
update_rel = ||gpu - cpu||_F / ||cpu - base||_F, the same difference measured against what the merge
changed (informative: the base dominates ||cpu||). Reads safetensors with bench/quality/st_io.py.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quality"))
import st_io  # noqa: E402


def svd(cpu_dir, gpu_dir):
    for name in sorted(os.listdir(cpu_dir)):
        if not name.startswith("s-") or not name.endswith(".f64"):
            continue
        a = np.fromfile(os.path.join(cpu_dir, name), dtype="<f8")
        b = np.fromfile(os.path.join(gpu_dir, name), dtype="<f8")
        if a.shape != b.shape:
            raise SystemExit(f"{name}: {a.size} singular values on the CPU, {b.size} on the GPU")
        scale = a[0] if a.size and a[0] > 0 else 1.0
        print(f"{name[2:-4]} {np.max(np.abs(a - b)) / scale:.3e}")


def merge(cpu_out, gpu_out, base_dir):
    cpu = st_io.read_model(cpu_out)
    gpu = st_io.read_model(gpu_out)
    base = st_io.read_model(base_dir)
    if set(cpu) != set(gpu):
        raise SystemExit(f"the outputs hold different tensors: {sorted(set(cpu) ^ set(gpu))[:3]}")
    worst, worst_name, worst_upd, upd_name = 0.0, "-", 0.0, "-"
    for name in sorted(cpu):
        c = cpu[name].astype(np.float64)
        g = gpu[name].astype(np.float64)
        diff = np.linalg.norm(g - c)
        norm = np.linalg.norm(c)
        rel = diff / norm if norm > 0 else diff
        if rel > worst or worst_name == "-":
            worst, worst_name = rel, name
        if name in base and base[name].shape == c.shape:
            change = np.linalg.norm(c - base[name].astype(np.float64))
            upd = diff / change if change > 0 else diff
            if upd > worst_upd or upd_name == "-":
                worst_upd, upd_name = upd, name
    print(f"{len(cpu)} {worst:.3e} {worst_name} {worst_upd:.3e} {upd_name}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "svd":
        svd(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "merge":
        merge(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(__doc__)
