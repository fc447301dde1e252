"""Small LLaMA-shaped model families for the parity harness: a base and fine-tunes of it.

A fine-tune is the base plus a rank-2 delta plus noise on every 2-D tensor, and noise on the norms
(the shape of sparkmerge's `synth`, written here so the layer count can be set: mergekit's examples
slice up to 40 layers). Values are drawn in float64 from numpy's PCG64 with a fixed seed, rounded to
float32, and the BF16/F16 families are the float32 family rounded to nearest even by torch.
"""
import json
import os

import numpy as np
import torch
from safetensors.torch import save_file

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def tensor_shapes(vocab, hidden, inter, layers):
    t = {"model.embed_tokens.weight": (vocab, hidden)}
    for i in range(layers):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = (hidden,)
        for m in ("q_proj", "k_proj", "v_proj", "o_proj"):
            t[p + f"self_attn.{m}.weight"] = (hidden, hidden)
        t[p + "post_attention_layernorm.weight"] = (hidden,)
        t[p + "mlp.gate_proj.weight"] = (inter, hidden)
        t[p + "mlp.up_proj.weight"] = (inter, hidden)
        t[p + "mlp.down_proj.weight"] = (hidden, inter)
    t["model.norm.weight"] = (hidden,)
    t["lm_head.weight"] = (vocab, hidden)
    return t


def models_f32(fine_tunes, vocab, hidden, inter, layers, seed):
    """[base, ft-1, ...] as dicts of float32 torch tensors."""
    rng = np.random.default_rng(seed)
    shapes = tensor_shapes(vocab, hidden, inter, layers)
    base = {}
    for n, s in shapes.items():
        base[n] = (1.0 + 0.05 * rng.standard_normal(s)) if len(s) == 1 else 0.02 * rng.standard_normal(s)
    out = [{n: torch.from_numpy(v.astype(np.float32)) for n, v in base.items()}]
    for _ in range(fine_tunes):
        ft = {}
        for n, s in shapes.items():
            noise = 0.002 * rng.standard_normal(s)
            if len(s) == 1:
                ft[n] = base[n] + noise
            else:
                u = rng.standard_normal((s[0], 2))
                v = rng.standard_normal((2, s[1]))
                ft[n] = base[n] + 0.01 * (u @ v) / 2 + noise
        out.append({n: torch.from_numpy(v.astype(np.float32)) for n, v in ft.items()})
    return out


def write_family(root, dtype, fine_tunes=3, vocab=256, hidden=64, inter=128, layers=4, seed=20):
    """Writes root/base, root/ft-1..N in `dtype`; returns their paths (skips a family already written)."""
    names = ["base"] + [f"ft-{i}" for i in range(1, fine_tunes + 1)]
    dirs = [os.path.join(root, n) for n in names]
    if os.path.exists(os.path.join(root, ".complete")):
        return dirs
    models = models_f32(fine_tunes, vocab, hidden, inter, layers, seed)
    for d, m in zip(dirs, models):
        os.makedirs(d, exist_ok=True)
        save_file({n: t.to(DTYPES[dtype]).contiguous() for n, t in m.items()}, os.path.join(d, "model.safetensors"),
                  metadata={"format": "pt"})
        cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden,
               "intermediate_size": inter, "num_hidden_layers": layers, "num_attention_heads": 1,
               "num_key_value_heads": 1, "vocab_size": vocab, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5,
               "hidden_act": "silu", "tie_word_embeddings": False, "torch_dtype": dtype}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
    open(os.path.join(root, ".complete"), "w").close()
    return dirs
