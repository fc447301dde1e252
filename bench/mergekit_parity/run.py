"""mergekit ↔ sparkmerge parity: runs both tools on the same configs and families and tabulates agreement.

Run it with the venv made by setup.sh (it needs mergekit, torch and safetensors):
    bench/mergekit_parity/run.sh [--dtypes float32,bfloat16,float16] [--modes float32,input] [--only REGEX]

For every case (cases.py) and every family dtype it merges with mergekit (its Python API, one process)
and with sparkmerge (bin/sparkmerge batch, one JVM), then compares the outputs tensor by tensor (LoRA
extraction and MODEL+ADAPTER references: lora.py, rows matched by --only lora). The
unit of disagreement is the ulp of the output dtype at the tensor's scale: the spacing of that dtype at
the largest |value| of mergekit's tensor (2^-23·2^e for float32, 2^-7·2^e for bfloat16, 2^-10·2^e
for float16). Random methods (DARE, DELLA) draw different masks by design; for them the table gives
the fraction of entries kept (output ≠ base) and the ratio of the merged task vectors' L2 norms.
Differences of at most 1 ulp are rounding (another order of float operations); more than 1 ulp means
another selection (an exact magnitude tie broken differently) or other arithmetic.
"""
import argparse
import datetime
import math
import os
import re
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mergekit_shim  # noqa: E402,F401  (before mergekit)
import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

import cases as C  # noqa: E402
import chat_templates  # noqa: E402
import family as F  # noqa: E402
import lora  # noqa: E402

MANTISSA = {"float32": 23, "bfloat16": 7, "float16": 10}


def load_dir(d):
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"):
            out.update(load_file(os.path.join(d, f)))
    return out


def run_mergekit(cfg_path, out):
    from mergekit.config import MergeConfiguration
    from mergekit.merge import MergeOptions, run_merge

    with open(cfg_path) as f:
        conf = MergeConfiguration.model_validate(yaml.safe_load(f))
    run_merge(conf, out, options=MergeOptions(copy_tokenizer=False, quiet=True, write_model_card=False, random_seed=0))


def compare(ours, ref, dtype):
    """(tensors, identical tensors, elements differing, elements differing by more than 1 ulp at scale, total, max ulps)."""
    names = sorted(set(ours) & set(ref))
    if set(ours) != set(ref):
        raise SystemExit(f"tensor sets differ: only ours {sorted(set(ours) - set(ref))[:3]}, only mergekit {sorted(set(ref) - set(ours))[:3]}")
    same = diff = far = total = 0
    worst = 0.0
    for n in names:
        a = ours[n].double()
        b = ref[n].double()
        if a.shape != b.shape:
            raise SystemExit(f"{n}: shapes differ, ours {tuple(a.shape)} mergekit {tuple(b.shape)}")
        ne = int((a != b).sum())
        same += ne == 0
        diff += ne
        total += b.numel()
        scale = float(b.abs().max())
        if ne and scale > 0:
            ulp = 2.0 ** (math.floor(math.log2(scale)) - MANTISSA[dtype])
            d = (a - b).abs() / ulp
            worst = max(worst, float(d.max()))
            far += int((d > 1).sum())
    return len(names), same, diff, far, total, worst


def random_stats(ours, ref, base):
    """Kept fraction (merged ≠ base) of both, and ‖merged − base‖₂ ratio ours / mergekit, over all tensors."""
    kept_o = kept_r = total = 0
    n_o = n_r = 0.0
    for n in sorted(set(ours) & set(ref) & set(base)):
        b = base[n].double()
        do = ours[n].double() - b
        dr = ref[n].double() - b
        kept_o += int((do != 0).sum())
        kept_r += int((dr != 0).sum())
        total += b.numel()
        n_o += float((do * do).sum())
        n_r += float((dr * dr).sum())
    return kept_o / total, kept_r / total, math.sqrt(n_o / n_r) if n_r else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtypes", default="float32,bfloat16,float16")
    ap.add_argument("--modes", default="float32,input", help="sparkmerge compute_dtype values to run")
    ap.add_argument("--only", default="", help="regular expression on case names")
    ap.add_argument("--dir", default=os.path.join(HERE, "..", "..", "target", "mergekit_parity"))
    ap.add_argument("--mergekit-src", default=os.environ.get("MERGEKIT_SRC", ""))
    ap.add_argument("--out", default="", help="also write the table (markdown) to this file")
    ap.add_argument("--compare-only", action="store_true", help="compare the outputs of an earlier run, run nothing")
    args = ap.parse_args()
    repo = os.path.abspath(os.path.join(HERE, "..", ".."))
    work = os.path.abspath(args.dir)
    os.makedirs(work, exist_ok=True)
    all_cases = [c for c in C.cases(repo, args.mergekit_src) if re.search(args.only, c[0])]
    rows = [r for r in chat_templates.rows(repo) if re.search(args.only, r[0])]
    lines = []
    jobs = []
    for dtype in args.dtypes.split(","):
        tiny = F.write_family(os.path.join(work, "family-" + dtype), dtype, layers=4)
        deep = None
        for name, doc in all_cases:
            method = doc.get("merge_method")
            fam = tiny
            if C.layers_needed(doc) > 4:
                deep = deep or F.write_family(os.path.join(work, "family40-" + dtype), dtype, layers=40)
                fam = deep
            slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") + "-" + dtype
            if method in C.SPARKMERGE_LACKS:
                rows.append((name, dtype, "-", f"not run: sparkmerge has no {method} yet (issue 20 item 5)"))
                continue
            cfg = C.resolve(doc, fam, dtype)
            if cfg is None:
                rows.append((name, dtype, "-", "not run: needs more models than the family has"))
                continue
            mk_cfg = os.path.join(work, slug + ".mergekit.yml")
            with open(mk_cfg, "w") as f:
                yaml.safe_dump(cfg, f, sort_keys=False)
            mk_out = os.path.join(work, "out", slug, "mergekit")
            t0 = time.time()
            if not args.compare_only and not os.path.exists(os.path.join(mk_out, "model.safetensors")) and not os.path.exists(
                    os.path.join(mk_out, "model.safetensors.index.json")):
                run_mergekit(mk_cfg, mk_out)
            print(f"[mergekit] {name} {dtype}: {time.time() - t0:.1f} s", file=sys.stderr)
            for mode in args.modes.split(","):
                if mode == "input" and dtype == "float32":
                    continue
                if mode == "input" and method not in C.INPUT_COMPUTE:
                    rows.append((name, dtype, mode, "not run: compute_dtype: input is float32-only for this method"))
                    continue
                sm_cfg = os.path.join(work, f"{slug}.sparkmerge-{mode}.yml")
                with open(sm_cfg, "w") as f:
                    yaml.safe_dump(dict(cfg, compute_dtype=mode), f, sort_keys=False)
                sm_out = os.path.join(work, "out", slug, "sparkmerge-" + mode)
                lines.append(f"merge {sm_cfg} {sm_out} --overwrite --master local[2]")
                jobs.append((name, dtype, mode, method, fam, mk_out, sm_out))
    batch = os.path.join(work, "batch.txt")
    with open(batch, "w") as f:
        f.write("\n".join(lines) + "\n")
    t0 = time.time()
    if lines and not args.compare_only:
        subprocess.run([os.path.join(repo, "bin", "sparkmerge"), "batch", batch, "--keep-going"], check=False,
                       stdout=subprocess.DEVNULL)
    print(f"[sparkmerge] {len(lines)} merges: {time.time() - t0:.1f} s", file=sys.stderr)
    for name, dtype, mode, method, fam, mk_out, sm_out in jobs:
        if not os.path.exists(os.path.join(sm_out, "_SUCCESS")):
            rows.append((name, dtype, mode, "sparkmerge failed: see the batch log"))
            continue
        ours, ref = load_dir(sm_out), load_dir(mk_out)
        n, same, diff, far, total, worst = compare(ours, ref, dtype)
        if method in C.RANDOM:
            ko, kr, ratio = random_stats(ours, ref, load_dir(fam[0]))
            rows.append((name, dtype, mode, f"{n} tensors; random masks: kept {ko:.3f} (mergekit {kr:.3f}), "
                         f"‖τ‖₂ ratio {ratio:.4f}"))
        else:
            rows.append((name, dtype, mode, f"{n} tensors, {same} identical; {100.0 * diff / max(1, total):.3f} % of "
                         f"{total} elements differ, {100.0 * far / max(1, total):.3f} % by > 1 ulp; max {worst:.2f} ulp"))
    if not args.compare_only and re.search(args.only, "lora") and "float32" in args.dtypes.split(","):
        rows += lora.rows(repo, work, F.write_family(os.path.join(work, "family-float32"), "float32", layers=4))
    head = ("| case | dtype | sparkmerge compute | agreement with mergekit |\n|---|---|---|---|\n")
    table = head + "".join(f"| {a} | {b} | {c} | {d} |\n" for a, b, c, d in rows)
    info = (f"{datetime.date.today().isoformat()}, `bench/mergekit_parity/run.sh {' '.join(sys.argv[1:])}`; "
            f"mergekit {mergekit_version(args.mergekit_src)}, torch {torch.__version__}\n\n")
    print(info + table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(info + table)


def mergekit_version(src):
    try:
        import importlib.metadata as md
        v = md.version("mergekit")
    except Exception:
        v = "?"
    if src and os.path.isdir(os.path.join(src, ".git")):
        c = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        v += f" ({c})"
    return v


if __name__ == "__main__":
    main()
