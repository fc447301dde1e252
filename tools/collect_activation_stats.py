#!/usr/bin/env python3
"""Activation statistics for LEWIS importances in sparkmerge (docs/methods.md, `lewis`).

For every torch.nn.Linear of a model, the mean squared input activation per input channel over a
calibration text: a[c] = mean over tokens of x[..., c]^2. Written as a safetensors file of F32
vectors named by module path (e.g. model.layers.3.self_attn.q_proj), which `activations: DIR` on a
lewis model entry reads as DIR/base.safetensors (the base model) and DIR/finetuned.safetensors
(the fine-tune, usually on its task's calibration text).

Two modes. `dense` (default) runs the model as it is. `sequential` is the LEWIS authors' pass
(VidhiRambhia/LEWIS, lewis_importance.py get_activation_norm, Wanda's): the blocks (the children of the
model's first ModuleList, e.g. model.layers) are taken in order; each block's Linear inputs are recorded
with every earlier block already Wanda-pruned, then the block's Linears are pruned at --sparsity-ratio
(per output row, the smallest |W| * sqrt(a) entries set to 0) before the next block's inputs are computed.
Linears outside the blocks (lm_head) see the fully pruned blocks and are not pruned. The model's weights
are restored afterwards. The authors' configs use --sparsity-ratio 0.5.

    /usr/bin/python3 tools/collect_activation_stats.py --model /models/ft-math --text calib-math.txt --out /act/ft-math/finetuned.safetensors
    /usr/bin/python3 tools/collect_activation_stats.py --model /models/base --text calib-math.txt --out /act/ft-math/base.safetensors

Loading a checkpoint needs transformers; `collect` and `write_safetensors` work on any torch module.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_lite  # noqa: E402


class _Stop(Exception):
    """Raised by a forward hook to end a pass once the block whose inputs are wanted has run."""


def collect(model, batches, mode="dense", sparsity_ratio=0.5, blocks=None):
    """Runs the batches (inputs for model(...)) through the model with a forward hook on every Linear
    layer; returns {module path: float64 tensor of the mean squared input per input channel}.
    mode "sequential" prunes block by block first (see the module's doc); blocks: the module path of the
    ModuleList whose children are the blocks (default: the first ModuleList of the model)."""
    if mode == "sequential":
        return collect_sequential(model, list(batches), sparsity_ratio, blocks)
    if mode != "dense":
        raise ValueError(f"collect: mode {mode!r} is not dense or sequential")
    return _collect(model, batches, {n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)})


def _run(model, batches):
    model.eval()
    with torch.no_grad():
        for batch in batches:
            try:
                if isinstance(batch, dict):
                    model(**batch)
                else:
                    model(batch)
            except _Stop:
                pass


def _collect(model, batches, names, stop_after=None):
    """The statistics of the Linears named; with stop_after (a module), each pass ends once it has run."""
    sums, counts, hooks = {}, {}, []

    def hook_for(name):
        def hook(module, inputs, output):
            x = inputs[0].detach().to(torch.float64)
            x = x.reshape(-1, x.shape[-1])
            sums[name] = sums.get(name, 0) + (x * x).sum(dim=0)
            counts[name] = counts.get(name, 0) + x.shape[0]
        return hook

    def stop(module, inputs, output):
        raise _Stop()

    for name, module in model.named_modules():
        if name in names:
            hooks.append(module.register_forward_hook(hook_for(name)))
    if stop_after is not None:
        hooks.append(stop_after.register_forward_hook(stop))
    try:
        _run(model, batches)
    finally:
        for h in hooks:
            h.remove()
    return {name: sums[name] / counts[name] for name in sums}


def wanda_prune(linear, mean_sq, ratio):
    """Zeroes, in every output row, the int(in_features * ratio) entries of smallest |W| * sqrt(a) (a stable
    sort, so equal scores go lowest index first), as the LEWIS authors' and Wanda's code."""
    w = linear.weight.data
    metric = w.abs().double() * torch.sqrt(mean_sq.to(w.device)).reshape(1, -1)
    drop = torch.sort(metric, dim=-1, stable=True)[1][:, :int(w.shape[1] * ratio)]
    mask = torch.zeros_like(w, dtype=torch.bool).scatter_(1, drop, True)
    w[mask] = 0


def collect_sequential(model, batches, sparsity_ratio, blocks=None):
    linears = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    container = dict(model.named_modules())[blocks] if blocks else next(
        (m for m in model.modules() if isinstance(m, torch.nn.ModuleList) and len(m) > 0), None)
    if container is None:
        raise ValueError("collect (sequential): the model has no ModuleList of blocks; name one with blocks=")
    prefix = {id(m): n for n, m in model.named_modules()}
    saved = {n: m.weight.data.clone() for n, m in linears.items()}
    stats = {}
    try:
        for block in container:
            path = prefix[id(block)]
            inside = {n for n in linears if n == path or n.startswith(path + ".")}
            block_stats = _collect(model, batches, inside, stop_after=block)
            stats.update(block_stats)
            for n in inside:
                if n in block_stats:
                    wanda_prune(linears[n], block_stats[n], sparsity_ratio)
        rest = set(linears) - set(stats)
        if rest:
            stats.update(_collect(model, batches, rest))
    finally:
        with torch.no_grad():
            for n, m in linears.items():
                m.weight.data.copy_(saved[n])
    return stats


def write_safetensors(path, tensors):
    """Writes {name: 1-D tensor} as F32 safetensors (no dependency on the safetensors package)."""
    safetensors_lite.write(path, {n: t.detach().reshape(-1).to(torch.float32) for n, t in tensors.items()},
                           {"format": "pt", "content": "mean squared input activation per input channel"})


def text_batches(tokenizer, text, seq_len, max_tokens, device):
    ids = tokenizer(text, return_tensors="pt").input_ids[0][:max_tokens]
    for start in range(0, len(ids), seq_len):
        chunk = ids[start:start + seq_len]
        if len(chunk) > 1:
            yield {"input_ids": chunk.unsqueeze(0).to(device)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="Hugging Face model directory")
    p.add_argument("--text", required=True, help="calibration text file (UTF-8)")
    p.add_argument("--out", required=True, help="output .safetensors file")
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--max-tokens", type=int, default=65536)
    p.add_argument("--device", default="cpu")
    p.add_argument("--mode", choices=("dense", "sequential"), default="dense",
                   help="dense: the model as it is; sequential: block by block with earlier blocks Wanda-pruned, the "
                        "LEWIS authors' pass (default %(default)s)")
    p.add_argument("--sparsity-ratio", type=float, default=0.5,
                   help="sequential: fraction of each output row pruned (default %(default)s, the authors' configs)")
    p.add_argument("--blocks", help="sequential: module path of the ModuleList of blocks (default: the first ModuleList)")
    a = p.parse_args(argv)
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        sys.exit("collect_activation_stats: loading a checkpoint needs the transformers package "
                 "(pip install transformers), or call collect() on your own torch module")
    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32).to(a.device)
    with open(a.text, encoding="utf-8") as f:
        text = f.read()
    stats = collect(model, list(text_batches(tok, text, a.seq_len, a.max_tokens, a.device)), a.mode, a.sparsity_ratio, a.blocks)
    write_safetensors(a.out, stats)
    print(f"wrote statistics of {len(stats)} Linear modules to {a.out}")


if __name__ == "__main__":
    main()
