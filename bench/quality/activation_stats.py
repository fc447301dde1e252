"""LEWIS inputs (methods.md §4): per (layer, component) Wanda importances of the base and a fine-tune.

Forward hooks on every hidden Linear record the mean squared input activation per input channel, a,
on a small calibration set of the fine-tune's task; the importance of a module is ‖ |W| ⊙ √a ‖_F
(a broadcast over W's rows). Writes the table sparkmerge's `lewis` method reads: columns
layer, component, base, finetuned (component "mlp.fc", the module path inside the block, as in
the checkpoint's tensor names model.layers.<layer>.mlp.fc.weight). The classifier (lm_head) is not
inside a block, so LEWIS leaves it at density 1.
"""
import csv

import torch


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
def importances(model, x):
    """{layer index: ‖ |W| ⊙ √a ‖_F}."""
    a = mean_squared_inputs(model, x)
    return {i: float((layer.weight.abs() * a[i].sqrt()[None, :]).norm()) for i, layer in enumerate(model.layers)}


def write_table(path, base_model, finetuned_model, calibration_x):
    base, ft = importances(base_model, calibration_x), importances(finetuned_model, calibration_x)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["layer", "component", "base", "finetuned"])
        for i in sorted(base):
            w.writerow([i, "mlp.fc", repr(base[i]), repr(ft[i])])
    return path
