"""LEWIS inputs (methods.md §4): per (layer, component) Wanda importances of the base and a fine-tune.

Forward hooks on every hidden Linear record the mean squared input activation per input channel, a,
on a small calibration set of the fine-tune's task; the importance of a module is ‖ |W| ⊙ √a ‖_F
(a broadcast over W's rows). Writes the table sparkmerge's `lewis` method reads: columns
layer, component, base, finetuned (component "mlp.fc", the module path inside the block, as in
the checkpoint's tensor names model.layers.<layer>.mlp.fc.weight). The classifier (lm_head) is not
inside a block, so LEWIS leaves it at density 1.
"""
import csv
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools"))
import collect_activation_stats  # noqa: E402

SEQUENTIAL_RATIO = 0.5   # the LEWIS authors' configs (sparsity_ratio: 0.5)


@torch.no_grad()
def mean_squared_inputs(model, x):
    """{layer index: mean over samples of x_in² per input channel} for model.layers[i]."""
    sums, hooks = {}, []
    for i, layer in enumerate(model.layers):
        def hook(_module, inputs, _output, i=i):
            sums[i] = sums.get(i, 0) + inputs[0].pow(2).sum(0)
        hooks.append(layer.register_forward_hook(hook))
    model.eval()
    xs = torch.from_numpy(x)
    for s in range(0, len(xs), 1000):
        model(xs[s:s + 1000])
    for h in hooks:
        h.remove()
    return {i: v / len(xs) for i, v in sums.items()}


@torch.no_grad()
def importances(model, x, mode="dense"):
    """{layer index: ‖ |W| ⊙ √a ‖_F}; mode "sequential" takes a from tools/collect_activation_stats.py's
    sequential pass (each block Wanda-pruned before the next one's inputs, the LEWIS authors' procedure)."""
    if mode == "sequential":
        xs = torch.from_numpy(x)
        stats = collect_activation_stats.collect(model, [xs[s:s + 1000] for s in range(0, len(xs), 1000)], "sequential",
                                                 SEQUENTIAL_RATIO)
        a = {i: stats[f"layers.{i}"].float() for i in range(len(model.layers))}
    else:
        a = mean_squared_inputs(model, x)
    return {i: float((layer.weight.abs() * a[i].sqrt()[None, :]).norm()) for i, layer in enumerate(model.layers)}


def write_table(path, base_model, finetuned_model, calibration_x, mode="dense"):
    base, ft = importances(base_model, calibration_x, mode), importances(finetuned_model, calibration_x, mode)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["layer", "component", "base", "finetuned"])
        for i in sorted(base):
            w.writerow([i, "mlp.fc", repr(base[i]), repr(ft[i])])
    return path


def lewis_densities(path, low, high):
    """{layer: density} LEWIS gives one fine-tune from its table (methods.md §4, one component "mlp.fc"):
    δ = |I_ft − I_base| normalised over the layers, rounded to 5 decimals, mapped from [min δ̂, max δ̂] to
    [low, high] (all equal → the midpoint). The harness uses it only to size the density-matched uniform row."""
    with open(path, newline="") as f:
        rows = [(int(r["layer"]), abs(float(r["finetuned"]) - float(r["base"]))) for r in csv.DictReader(f)]
    total = sum(d for _, d in rows)
    norm = {i: (round(d / total, 5) if total else 0.0) for i, d in rows}
    lo, hi = min(norm.values()), max(norm.values())
    return {i: (low + high) / 2 if hi == lo else low + (v - lo) / (hi - lo) * (high - low) for i, v in norm.items()}
