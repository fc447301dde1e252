#!/usr/bin/env python3
"""Activation statistics for LEWIS importances in sparkmerge (docs/methods.md, `lewis`).

For every torch.nn.Linear of a model, the mean squared input activation per input channel over a
calibration text: a[c] = mean over tokens of x[..., c]^2. Written as a safetensors file of F32
vectors named by module path (e.g. model.layers.3.self_attn.q_proj), which `activations: DIR` on a
lewis model entry reads as DIR/base.safetensors (the base model) and DIR/finetuned.safetensors
(the fine-tune, usually on its task's calibration text).

    /usr/bin/python3 tools/collect_activation_stats.py --model /models/ft-math \
        --text calib-math.txt --out /act/ft-math/finetuned.safetensors
    /usr/bin/python3 tools/collect_activation_stats.py --model /models/base \
        --text calib-math.txt --out /act/ft-math/base.safetensors

Loading a checkpoint needs transformers; `collect` and `write_safetensors` work on any torch module.
"""
import argparse
import json
import struct
import sys
from array import array

import torch


def collect(model, batches):
    """Runs the batches (inputs for model(...)) through the model with a forward hook on every Linear
    layer; returns {module path: float64 tensor of the mean squared input per input channel}."""
    sums, counts, hooks = {}, {}, []

    def hook_for(name):
        def hook(module, inputs, output):
            x = inputs[0].detach().to(torch.float64)
            x = x.reshape(-1, x.shape[-1])
            sums[name] = sums.get(name, 0) + (x * x).sum(dim=0)
            counts[name] = counts.get(name, 0) + x.shape[0]
        return hook

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            hooks.append(module.register_forward_hook(hook_for(name)))
    try:
        model.eval()
        with torch.no_grad():
            for batch in batches:
                if isinstance(batch, dict):
                    model(**batch)
                else:
                    model(batch)
    finally:
        for h in hooks:
            h.remove()
    return {name: sums[name] / counts[name] for name in sums}


def write_safetensors(path, tensors):
    """Writes {name: 1-D tensor} as F32 safetensors (no dependency on the safetensors package)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = array("f", [float(v) for v in tensors[name].reshape(-1).tolist()])
        if sys.byteorder != "little":
            data.byteswap()
        raw = data.tobytes()
        header[name] = {"dtype": "F32", "shape": [len(data)], "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt", "content": "mean squared input activation per input channel"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def text_batches(tokenizer, text, seq_len, max_tokens, device):
    ids = tokenizer(text, return_tensors="pt").input_ids[0][:max_tokens]
    for start in range(0, len(ids), seq_len):
        chunk = ids[start:start + seq_len]
        if len(chunk) > 1:
            yield {"input_ids": chunk.unsqueeze(0).to(device)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="Hugging Face model directory")
    p.add_argument("--text", required=True, help="calibration text file (UTF-8)")
    p.add_argument("--out", required=True, help="output .safetensors file")
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--max-tokens", type=int, default=65536)
    p.add_argument("--device", default="cpu")
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
    stats = collect(model, text_batches(tok, text, a.seq_len, a.max_tokens, a.device))
    write_safetensors(a.out, stats)
    print(f"wrote statistics of {len(stats)} Linear modules to {a.out}")


if __name__ == "__main__":
    main()
