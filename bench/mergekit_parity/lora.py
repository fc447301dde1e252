"""LoRA extraction and model+lora references: sparkmerge against mergekit-extract-lora and PEFT.

On the float32 family (base, ft-1): `sparkmerge extract-lora` and `mergekit-extract-lora` at the same rank;
their factors may differ in sign per singular vector, so the products B·A are compared, module by module (and
the whole modules, and adapter_config.json's r / lora_alpha / target_modules / modules_to_save). Then PEFT loads
sparkmerge's adapter onto the base (PeftModel.from_pretrained, the loaded lora_A/lora_B must be the file's) and
merges it (merge_and_unload); sparkmerge merges the same `base+adapter` reference (passthrough), and the two
models are compared. Rows for the parity table.
"""
import json
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file

RANK = 8
HERE = os.path.dirname(os.path.abspath(__file__))
# mergekit's console script, with mergekit_shim.py imported first (see there)
MERGEKIT_EXTRACT = ("import sys, mergekit_shim; from mergekit.scripts.extract_lora import main; "
                    "sys.argv[0] = 'mergekit-extract-lora'; main()")


def _run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + " failed:\n" + r.stdout[-2000:] + r.stderr[-2000:])


def _products(adapter):
    """module -> B·A (as PEFT adds it, before the scale), and the whole modules, from an adapter directory."""
    t = load_file(os.path.join(adapter, "adapter_model.safetensors"))
    out = {}
    for k, v in t.items():
        k = k.removeprefix("base_model.model.")
        if k.endswith(".lora_A.weight"):
            m = k.removesuffix(".lora_A.weight")
            out[m + ".weight"] = t["base_model.model." + m + ".lora_B.weight"].double() @ v.double()
        elif "lora_" not in k:
            out[k] = v.double()
    return out


def rows(repo, work, family):
    base, ft = family[0], family[1]
    ours = os.path.join(work, "lora", "sparkmerge")
    mk = os.path.join(work, "lora", "mergekit")
    sm = os.path.join(repo, "bin", "sparkmerge")
    _run([sm, "extract-lora", "--base", base, "--model", ft, ours, "--rank", str(RANK), "--overwrite", "--master", "local[2]"])
    if not os.path.exists(os.path.join(mk, "adapter_config.json")):
        _run([sys.executable, "-c", MERGEKIT_EXTRACT, "--model", ft, "--base-model", base, "--out-path", mk,
              "--max-rank", str(RANK)])
    a, b = _products(ours), _products(mk)
    scale = max(v.abs().max().item() for v in b.values())
    worst = max((a[k] - b[k]).abs().max().item() for k in b) if set(a) == set(b) else float("nan")
    ca = json.load(open(os.path.join(ours, "adapter_config.json")))
    cb = json.load(open(os.path.join(mk, "adapter_config.json")))
    same_cfg = [k for k in ("r", "lora_alpha") if ca[k] == cb[k]] + [
        k for k in ("target_modules", "modules_to_save") if sorted(ca[k]) == sorted(cb[k])]
    out = [("extract-lora rank %d vs mergekit-extract-lora" % RANK, "float32", "float32",
            f"{len(b)} modules (mergekit) / {len(a)} (ours), same names: {set(a) == set(b)}; max |ΔB·A| = "
            f"{worst:.2e} ({worst / scale:.2e} of max |B·A|); adapter_config keys equal: {', '.join(same_cfg)}")]

    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(base, torch_dtype=torch.float32)
    peft = PeftModel.from_pretrained(model, ours)
    saved = load_file(os.path.join(ours, "adapter_model.safetensors"))
    state = peft.state_dict()
    loaded = sum(1 for k, v in saved.items() if "lora_" in k
                 and torch.equal(state[k.replace(".weight", ".default.weight")], v))
    merged = {k: v.double() for k, v in peft.merge_and_unload().state_dict().items()}
    back = os.path.join(work, "lora", "merged")
    cfg = os.path.join(work, "lora", "back.yml")
    with open(cfg, "w") as f:
        f.write(f"merge_method: passthrough\nmodels:\n  - model: {base}+{ours}\n")
    _run([sm, "merge", cfg, back, "--overwrite", "--master", "local[2]"])
    smm = {}
    for f in sorted(os.listdir(back)):
        if f.endswith(".safetensors"):
            smm.update(load_file(os.path.join(back, f)))
    diff = max((smm[k].double() - merged[k]).abs().max().item() for k in smm)
    n_lora = sum(1 for k in saved if "lora_A" in k)
    out.append(("model+lora (sparkmerge's adapter) vs PEFT merge_and_unload", "float32", "float32",
                f"PEFT loaded {loaded} of {2 * n_lora} lora_A/lora_B tensors as written; {len(smm)} tensors, max |Δ| = "
                f"{diff:.2e}"))
    return out
