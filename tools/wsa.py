#!/usr/bin/env python3
"""WSA (Weight Scope Alignment, arXiv 2408.12237): the training-time regulariser, against the fused target
scopes that `sparkmerge scopes CONFIG OUT.json` writes (docs/wsa.md).

    from wsa import WeightScopeRegularizer
    reg = WeightScopeRegularizer(model, "scopes_3.json", beta=0.01)
    loss = task_loss + reg()            # beta * sum over 2-D+ parameters of KL(scope || target scope)

With Hugging Face's Trainer: trainer.add_callback(WeightScopeCallback(reg)) (needs transformers; the class is
made on first use, so importing this module does not). tools/wsa_federated.py is the federated loop.
"""
import json

import torch


def scope_kl(mu, var, mu_star, var_star):
    """KL(N(mu, var) || N(mu_star, var_star)) of two scopes; elementwise on tensors."""
    return 0.5 * torch.log(var_star / var) + (var + (mu - mu_star) ** 2) / (2 * var_star) - 0.5


def load_scopes(source):
    """{tensor name: (mean, variance)} from the JSON `sparkmerge scopes` writes (a path or the parsed dict), or a
    {name: (mean, variance)} map given directly."""
    if isinstance(source, str):
        with open(source) as f:
            source = json.load(f)
    if isinstance(source, dict) and "scopes" in source:
        return {n: (float(s["mean"]), float(s["variance"])) for n, s in source["scopes"].items()}
    return {n: (float(m), float(v)) for n, (m, v) in source.items()}


class WeightScopeRegularizer:
    """beta * sum over the model's parameters with >= 2 dimensions that have a target scope of
    KL(N(mean, population variance of the parameter) || N(target mean, target variance)).

    target_scopes: a scopes JSON path, its parsed dict, or {name: (mean, variance)}; names are checkpoint names,
    which are the model's named_parameters() names unless rename(parameter name) -> checkpoint name says otherwise.
    A target of variance 0 (a constant tensor) has no finite KL and is left out, as docs/wsa.md says."""

    def __init__(self, model, target_scopes, beta, rename=None):
        self.model, self.beta, self.rename = model, float(beta), rename or (lambda n: n)
        self.update(target_scopes)

    def update(self, target_scopes):
        """New target scopes (the next round's), same model."""
        targets = load_scopes(target_scopes)
        self.terms, self.unmatched = [], []
        for name, p in self.model.named_parameters():
            if p.dim() < 2:
                continue
            t = targets.get(self.rename(name))
            if t is None:
                self.unmatched.append(name)
            elif t[1] > 0:
                self.terms.append((name, p, torch.tensor(t[0], dtype=torch.float64), torch.tensor(t[1], dtype=torch.float64)))
        if not self.terms:
            raise ValueError("WeightScopeRegularizer: no parameter of the model has a target scope; check the names "
                             f"(first parameters: {self.unmatched[:3]}) against the scopes JSON, or pass rename=")
        return self

    def kl(self):
        """sum of the KL terms (a differentiable tensor), without beta."""
        loss = 0.0
        for _, p, mu_star, var_star in self.terms:
            w = p.double()
            loss = loss + scope_kl(w.mean(), w.var(unbiased=False), mu_star.to(p.device), var_star.to(p.device))
        return loss

    def __call__(self):
        return self.beta * self.kl()

    def total_kl(self):
        """the KL sum as a float, for reports."""
        with torch.no_grad():
            return float(self.kl())


def _callback_class():
    from transformers import TrainerCallback   # only here: the module itself needs no transformers

    class WeightScopeCallback(TrainerCallback):
        """Adds the regulariser's gradient before every optimizer step (after the task loss's backward, gradient
        accumulation and clipping): the step then descends task loss + beta * KL, once per optimizer step."""

        def __init__(self, regularizer):
            self.regularizer = regularizer

        def on_pre_optimizer_step(self, args, state, control, **kwargs):
            self.regularizer().backward()
            return control

    return WeightScopeCallback


def __getattr__(name):
    if name == "WeightScopeCallback":
        return _callback_class()
    raise AttributeError(name)


def main(argv=None):
    """Command line: the KL of a checkpoint's scopes to the targets, per tensor (what the regulariser would add)."""
    import argparse
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import safetensors_lite
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scopes", required=True, help="the JSON `sparkmerge scopes` wrote")
    p.add_argument("--checkpoint", required=True, help="a .safetensors file (F32/F64 tensors) to measure")
    a = p.parse_args(argv)
    targets = load_scopes(a.scopes)
    total = 0.0
    for name, w in sorted(safetensors_lite.read(a.checkpoint).items()):
        if w.ndim < 2 or name not in targets or targets[name][1] <= 0:
            continue
        t = torch.from_numpy(w.astype("float64"))
        kl = float(scope_kl(t.mean(), t.var(unbiased=False), torch.tensor(targets[name][0]), torch.tensor(targets[name][1])))
        total += kl
        print(f"{name}\t{kl:.6g}")
    print(f"total\t{total:.6g}")


if __name__ == "__main__":
    main()
