#!/usr/bin/env python3
"""Writes the golden-run configs and side inputs for one synth family and a batch file of command lines.
usage: gen.py FAMDIR WORKDIR REPO   (FAMDIR has base, ft-1..ft-3; outputs go under WORKDIR/out)"""
import json, os, re, struct, sys, glob
import numpy as np

fam, work, repo = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work + "/cfg", exist_ok=True)
os.makedirs(work + "/side", exist_ok=True)

def headers(d):
    out = {}
    for f in sorted(glob.glob(d + "/*.safetensors")):
        with open(f, "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            h = json.loads(fh.read(n))
        h.pop("__metadata__", None)
        out.update(h)
    return out

def write_st(path, tensors):  # tensors: name -> (dtype str, shape, bytes)
    hdr, off, blobs = {}, 0, []
    for name in sorted(tensors):
        dt, shape, b = tensors[name]
        hdr[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(b)]}
        off += len(b); blobs.append(b)
    hj = json.dumps(hdr, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(hj))); fh.write(hj)
        for b in blobs: fh.write(b)

H = headers(fam + "/base")
rng = np.random.default_rng(7)
# given masks for ft-1 (U8, ~5% ones)
md = work + "/side/masks-ft1"; os.makedirs(md, exist_ok=True)
mt = {}
for n, h in H.items():
    if h["dtype"] in ("F32", "BF16", "F16", "F64"):
        numel = int(np.prod(h["shape"])) if h["shape"] else 1
        mt[n] = ("U8", h["shape"], (rng.random(numel) < 0.05).astype(np.uint8).tobytes())
write_st(md + "/model.safetensors", mt)
# activation statistics for ft-2 (F32 per Linear module input width)
ad = work + "/side/act-ft2"; os.makedirs(ad, exist_ok=True)
for which in ("base", "finetuned"):
    at = {}
    for n, h in H.items():
        m = re.search(r"layers\.\d+\..+\.weight$", n)
        if m and len(h["shape"]) == 2:
            at[n[:-7]] = ("F32", [h["shape"][1]], (rng.random(h["shape"][1]).astype(np.float32) + 0.1).tobytes())
    write_st(ad + "/" + which + ".safetensors", at)
# importance table for ft-1
layers = sorted({int(m.group(1)) for n in H for m in [re.search(r"layers\.(\d+)\.", n)] if m})
comps = sorted({m.group(1) for n in H for m in [re.search(r"layers\.\d+\.(.+)\.weight$", n)] if m})
with open(work + "/side/imp-ft1.csv", "w") as fh:
    fh.write("layer,component,base,finetuned\n")
    for l in layers:
        for c in comps:
            fh.write("%d,%s,%.6f,%.6f\n" % (l, c, rng.random(), rng.random()))

B, F1, F2, F3 = fam + "/base", fam + "/ft-1", fam + "/ft-2", fam + "/ft-3"
mapping = {"/data/models/base": B, "/data/models/model-a": F1, "/data/models/model-b": F2,
           "/data/models/ft-math": F1, "/data/models/ft-code": F2, "/data/models/ft-chat": F3,
           "/data/models/ft-1": F1, "/data/models/ft-2": F2, "/data/models/ft-3": F3,
           "/data/clients/client-a": F1, "/data/clients/client-b": F2, "/data/clients/client-c": F3,
           "/data/importance/ft-math.csv": work + "/side/imp-ft1.csv",
           "/data/activations/ft-code": ad}
cfgs = {}
for f in sorted(glob.glob(repo + "/jobs/*.yml")) + sorted(glob.glob(repo + "/jobs/mergekit/*.yml")):
    name = ("mk-" if "/mergekit/" in f else "") + os.path.basename(f)[:-4]
    t = open(f).read()
    for k in sorted(mapping, key=len, reverse=True):
        t = t.replace(k, mapping[k])
    t = re.sub(r"out_shard_size: .*", "out_shard_size: 8MB", t)
    cfgs[name] = t
# variants that reach the side inputs and other paths
cfgs["ls-tensor"] = cfgs["localize_stitch"].replace("mask_scope: global", "mask_scope: tensor")
cfgs["ls-given"] = cfgs["localize_stitch"].replace("parameters: {sparsity: 0.01}\n", "parameters: {sparsity: 0.02}\n    masks: %s\n" % md, 1)
cfgs["ls-3"] = cfgs["localize_stitch"].replace("  # - model: %s\n  #   masks: /data/masks/ft-chat" % F3, "  - model: %s\n    parameters: {sparsity: 0.05}" % F3)
cfgs["lewis-tvn"] = cfgs["lewis"].replace("importance: " + work + "/side/imp-ft1.csv", "importance: task_vector_norm")
cfgs["lewis-dare"] = cfgs["lewis"].replace("base_method: ties", "base_method: dare_ties").replace("lewis_weights: false", "lewis_weights: true")
cfgs["lewis-bc"] = cfgs["lewis"].replace("base_method: ties", "base_method: breadcrumbs_ties")
cfgs["ties-f64"] = cfgs["ties"].replace("seed: 42", "seed: 42\ncompute_dtype: float64")
cfgs["ties-nocut"] = cfgs["ties"].replace("tensors:\n  - filter: \"lm_head|embed_tokens\"\n    merge_method: linear\n", "")
cfgs["dare_ties-inv"] = cfgs["dare_ties"].replace("rescale: true", "rescale: inverse")
cfgs["dare_linear-norescale"] = cfgs["dare_linear"].replace("seed: 42", "parameters: {rescale: false}\nseed: 42")
cfgs["della-f64"] = cfgs["della"].replace("seed: 42", "seed: 42\ncompute_dtype: float64")
cfgs["breadcrumbs-f64"] = cfgs["breadcrumbs"] + "compute_dtype: float64\n"
cfgs["dare_ties-3"] = cfgs["dare_ties"].replace("models:\n", "models:\n  - model: %s\n    parameters: {weight: 0.3, density: 0.5}\n" % F3, 1)
cfgs["ta-override"] = cfgs["task_arithmetic"] + "tensors:\n  - filter: mlp\n    merge_method: ties\n    parameters: {density: 0.4}\n"
lines = []
for name, t in sorted(cfgs.items()):
    p = work + "/cfg/" + name + ".yml"
    open(p, "w").write(t)
    lines.append("merge %s %s/out/merge-%s --overwrite" % (p, work, name))
for name in ("localize_stitch", "ls-tensor", "ls-given", "ties-nocut", "lewis", "lewis-tvn", "dare_ties"):
    lines.append("masks %s/cfg/%s.yml %s/out/masks-%s --overwrite" % (work, name, work, name))
lines.append("task-vectors --base %s --model %s %s/out/tv-dense --overwrite" % (B, F1, work))
lines.append("task-vectors --base %s --model %s %s/out/tv-sparse --density 0.05 --overwrite" % (B, F1, work))
lines.append("task-vectors --base %s --model %s %s/out/tv-sparse-t --density 0.05 --mask-scope tensor --overwrite" % (B, F2, work))
tvcfg = cfgs["localize_stitch"].replace("- model: %s\n" % F1, "- model: %s/out/tv-sparse\n    task_vector: true\n" % work, 1)
open(work + "/cfg/ls-tv.yml", "w").write(tvcfg)
lines.append("merge %s/cfg/ls-tv.yml %s/out/merge-ls-tv --overwrite" % (work, work))
open(work + "/lines.txt", "w").write("\n".join(lines) + "\n")
print(len(lines), "lines")
# a checkpoint series (copies of the family) for the WSM merge
import shutil
root = work + "/ckpts"
if not os.path.isdir(root):
    for i, src in enumerate((B, F1, F2, F3)):
        shutil.copytree(src, "%s/checkpoint-%d" % (root, 100 * (i + 1)))
with open(work + "/lines.txt", "a") as fh:
    fh.write("checkpoints %s %s/out/wsm-cos --window 3 --schedule cosine --overwrite\n" % (root, work))
    fh.write("checkpoints %s %s/out/wsm-lin --window 4 --overwrite\n" % (root, work))
