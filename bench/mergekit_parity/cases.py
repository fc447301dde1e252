"""The configs the parity harness runs through both tools.

Three sources: every jobs/mergekit/*.yml of this repo, mergekit's own examples/*.yml, and one config
per method both tools have (METHODS). Model names are mapped onto a generated family: the base model
to base, the other models to ft-1, ft-2, ... in order of first appearance. Keys about the tokenizer
(tokenizer_source, tokenizer, chat_template) are dropped (the families have no tokenizers): the harness compares tensors. `dtype` is set to the
family's dtype, so mergekit computes in it and both write it.

A new method is one more entry in METHODS (and, until sparkmerge has it, in SPARKMERGE_LACKS).
"""
import glob
import os

import yaml

# Methods whose masks are random draws: bit parity with torch's generator is impossible and not a
# goal (docs/mergekit.md), so the harness compares statistics of the kept task vectors instead.
RANDOM = {"dare_linear", "dare_ties", "della", "della_linear"}

# Methods with sparkmerge's compute_dtype: input (mergekit's 16-bit arithmetic); the others are float32 only.
INPUT_COMPUTE = {"linear", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties", "della",
                 "della_linear", "slerp", "passthrough"}

# mergekit methods sparkmerge does not have yet (issue 20 item 5): listed in the table, not run.
SPARKMERGE_LACKS = set()

_TWO = "models:\n  - model: FT1\n    parameters: {P1}\n  - model: FT2\n    parameters: {P2}\n"
_THREE = _TWO + "  - model: FT3\n    parameters: {P3}\n"

# name -> (YAML with BASE/FT1/FT2/FT3 placeholders, without dtype)
METHODS = {
    "linear": "merge_method: linear\n" + _TWO.replace("{P1}", "{weight: 0.6}").replace("{P2}", "{weight: 0.4}"),
    "task_arithmetic": "merge_method: task_arithmetic\nbase_model: BASE\nparameters: {lambda: 0.9}\n"
    + _TWO.replace("{P1}", "{weight: 0.7}").replace("{P2}", "{weight: 0.5}"),
    "ties": "merge_method: ties\nbase_model: BASE\n"
    + _THREE.replace("{P1}", "{weight: 1.0, density: 0.5}").replace("{P2}", "{weight: 0.6, density: 0.3}")
    .replace("{P3}", "{weight: 0.4, density: 0.7}"),
    "breadcrumbs": "merge_method: breadcrumbs\nbase_model: BASE\n"
    + _TWO.replace("{P1}", "{weight: 0.6, density: 0.8, gamma: 0.05}").replace("{P2}", "{weight: 0.4, density: 0.7, gamma: 0.05}"),
    "breadcrumbs_ties": "merge_method: breadcrumbs_ties\nbase_model: BASE\n"
    + _TWO.replace("{P1}", "{weight: 0.6, density: 0.8, gamma: 0.05}").replace("{P2}", "{weight: 0.4, density: 0.7, gamma: 0.05}"),
    "dare_linear": "merge_method: dare_linear\nbase_model: BASE\n"
    + _TWO.replace("{P1}", "{weight: 0.6, density: 0.5}").replace("{P2}", "{weight: 0.4, density: 0.7}"),
    "dare_ties": "merge_method: dare_ties\nbase_model: BASE\n"
    + _TWO.replace("{P1}", "{weight: 0.6, density: 0.5}").replace("{P2}", "{weight: 0.4, density: 0.7}"),
    "della": "merge_method: della\nbase_model: BASE\n"
    + _TWO.replace("{P1}", "{weight: 0.6, density: 0.5, epsilon: 0.15}").replace("{P2}", "{weight: 0.4, density: 0.7, epsilon: 0.1}"),
    "della_linear": "merge_method: della_linear\nbase_model: BASE\n"
    + _TWO.replace("{P1}", "{weight: 0.6, density: 0.5, epsilon: 0.15}").replace("{P2}", "{weight: 0.4, density: 0.7, epsilon: 0.1}"),
    "slerp": "merge_method: slerp\nbase_model: BASE\nparameters: {t: 0.3}\nmodels:\n  - model: BASE\n  - model: FT1\n",
    "multislerp": "merge_method: multislerp\nbase_model: BASE\n"
    + _THREE.replace("{P1}", "{weight: 0.5}").replace("{P2}", "{weight: 0.3}").replace("{P3}", "{weight: 0.9}"),
    "ram": "merge_method: ram\nbase_model: BASE\nparameters: {epsilon: 0.004}\n"
    + _THREE.replace("{P1}", "{}").replace("{P2}", "{}").replace("{P3}", "{}"),
    "ramplus_tl": "merge_method: ramplus_tl\nbase_model: BASE\nparameters: {epsilon: 0.004, r: 0.5, alpha: 0.8}\n"
    + _THREE.replace("{P1}", "{}").replace("{P2}", "{}").replace("{P3}", "{}"),
    "arcee_fusion": "merge_method: arcee_fusion\nbase_model: BASE\nmodels:\n  - model: BASE\n  - model: FT1\n",
    "nearswap": "merge_method: nearswap\nbase_model: BASE\nparameters: {t: 0.001}\nmodels:\n  - model: BASE\n  - model: FT1\n",
    "nuslerp": "merge_method: nuslerp\n" + _TWO.replace("{P1}", "{weight: 0.6}").replace("{P2}", "{weight: 0.4}"),
    "model_stock": "merge_method: model_stock\nbase_model: BASE\n"
    + _THREE.replace("{P1}", "{}").replace("{P2}", "{}").replace("{P3}", "{}"),
    "karcher": "merge_method: karcher\n" + _THREE.replace("{P1}", "{}").replace("{P2}", "{}").replace("{P3}", "{}"),
    "sce": "merge_method: sce\nbase_model: BASE\nparameters: {select_topk: 0.5}\n"
    + _THREE.replace("{P1}", "{}").replace("{P2}", "{}").replace("{P3}", "{}"),
    "passthrough": "merge_method: passthrough\nslices:\n  - sources:\n      - model: FT1\n        layer_range: [0, 3]\n"
    "  - sources:\n      - model: FT2\n        layer_range: [1, 4]\n",
}


def _models_in(doc):
    """Model names in order of first appearance (base_model first)."""
    names = []

    def add(n):
        if isinstance(n, str) and n not in names:
            names.append(n)

    add(doc.get("base_model"))
    for m in doc.get("models") or []:
        add(m if isinstance(m, str) else m.get("model"))
    for s in doc.get("slices") or []:
        for src in s.get("sources", []):
            add(src.get("model"))
    return names


def layers_needed(doc):
    """The largest layer_range end of the config's slices (0 without slices)."""
    ends = [src["layer_range"][1] for s in doc.get("slices") or [] for src in s.get("sources", []) if "layer_range" in src]
    return max(ends, default=0)


def _mapped(doc, family):
    """The config with model names replaced by the family's directories; None if it needs more models."""
    names = _models_in(doc)
    base = doc.get("base_model")
    fts = [n for n in names if n != base]
    if len(fts) > len(family) - 1:
        return None
    paths = {n: family[i + 1] for i, n in enumerate(fts)}
    if base:
        paths[base] = family[0]

    def walk(o):
        if isinstance(o, dict):
            return {k: (paths.get(v, v) if k in ("model", "base_model") else walk(v)) for k, v in o.items()}
        if isinstance(o, list):
            return [paths.get(x, x) if isinstance(x, str) else walk(x) for x in o]
        return o

    return walk(doc)


def cases(repo, mergekit_src):
    """[(case name, parsed YAML with placeholders resolved later)]: (name, doc, method)."""
    out = []
    for f in sorted(glob.glob(os.path.join(repo, "jobs", "mergekit", "*.yml"))):
        out.append(("jobs/mergekit/" + os.path.basename(f), yaml.safe_load(open(f))))
    if mergekit_src:
        for f in sorted(glob.glob(os.path.join(mergekit_src, "examples", "*.yml"))):
            out.append(("mergekit examples/" + os.path.basename(f), yaml.safe_load(open(f))))
    for name, text in METHODS.items():
        out.append(("method " + name, yaml.safe_load(text)))
    return out


def resolve(doc, family, dtype):
    """The case's config on a family: paths mapped, file keys dropped, dtype set. None if it does not fit."""
    d = _mapped(doc, family)
    if d is None:
        return None
    for k in ("tokenizer_source", "tokenizer", "chat_template", "out_dtype"):
        d.pop(k, None)
    d["dtype"] = dtype
    return d
