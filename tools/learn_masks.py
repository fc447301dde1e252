#!/usr/bin/env python3
"""Localize-and-Stitch learned masks (arXiv 2408.13656) for sparkmerge's `masks:` input.

For one fine-tune: a real-valued score S per weight, gamma = sigmoid(S), trained so that the model
theta_base + gamma * tau (tau = theta_ft - theta_base) does the fine-tune's task on a few labelled
examples, with an L1 penalty on gamma; then gamma is rounded to a 0/1 mask. The result is a model-sized
checkpoint of BOOL tensors (DIR/model.safetensors), which a `localize_stitch` merge reads as `masks: DIR`
on that model's entry (docs/methods.md, localize_stitch). Run it once per fine-tune.

    /usr/bin/python3 tools/learn_masks.py mlp --base models/base --model models/rot90 --task rot90 --out masks/rot90
    /usr/bin/python3 tools/learn_masks.py hf --base /m/base --model /m/ft-math --text math.txt --out /masks/ft-math

`learn_mask()` works on any torch.nn.Module given a loss function; `mlp` is the quality benchmark's
Fashion-MNIST MLP (bench/quality/zoo.py), `hf` a Hugging Face causal LM (needs transformers).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_lite  # noqa: E402

# The authors' settings (yifei-he/Localize-and-Stitch, vision/src/main_localize_stitch.py and localize_utils.py
# Localizer): docs/methods.md lists each and where it comes from.
DEFAULTS = {"sparsity": 1e-5, "sigmoid_bias": 5.0, "lr": 1e7, "l1": 1.0, "epochs": 10, "shots": 64, "batch_size": 128}


def initial_scores(tau, sparsity, c):
    """S = +c on the top-k of |tau| over all trained tensors together (k = int(sparsity * N); equal magnitudes at
    the k-th are all included, and no zero of tau), -c elsewhere. k = 0 starts every score at -c."""
    flat = torch.cat([t.abs().reshape(-1) for t in tau.values()])
    k = int(sparsity * flat.numel())
    threshold = torch.topk(flat, k).values.min() if k > 0 else float("inf")
    return {n: torch.where((t.abs() >= threshold) & (t != 0), torch.tensor(c), torch.tensor(-c)).to(torch.float32)
            for n, t in tau.items()}


def learn_mask(model, base, finetuned, batches, loss_fn, trainable=None, sparsity=DEFAULTS["sparsity"],
               sigmoid_bias=DEFAULTS["sigmoid_bias"], lr=DEFAULTS["lr"], l1=DEFAULTS["l1"], epochs=DEFAULTS["epochs"],
               regulariser="paper", log=print):
    """Learns a binary mask of the fine-tune's task vector; returns ({parameter name: bool tensor}, info).

    model: the network (its parameters are overwritten while training and restored afterwards);
    base, finetuned: {parameter name: tensor} (state dicts); batches: a list of inputs for loss_fn;
    loss_fn(model, batch) -> scalar loss; trainable(name) -> whether a parameter gets a mask (default: every
    floating parameter); the others keep the base (mask 0).

    Each epoch (as the authors' train_graft): theta = base + sigmoid(S) * tau, the gradient of the loss averaged
    over all batches, dL/dgamma = dL/dtheta * tau, then S -= lr * dL/dgamma * sigmoid'(S) + l1 * sigmoid'(S) (the
    gradient of l1 * sum(gamma), not scaled by lr, as theirs). regulariser="authors" uses their code's term instead,
    S += l1 * sign(S) * sigmoid'(S), which pushes positive scores up rather than shrinking gamma.
    """
    params = dict(model.named_parameters())
    names = [n for n, p in params.items() if p.is_floating_point() and (trainable is None or trainable(n))]
    if not names:
        raise ValueError("learn_mask: no parameter to mask (check the trainable filter)")
    for n in names:
        if n not in base or n not in finetuned:
            raise ValueError(f"learn_mask: parameter {n} is missing from the base or the fine-tuned state")
    saved = {n: p.detach().clone() for n, p in params.items()}
    tau = {n: (finetuned[n].detach().float() - base[n].detach().float()).to(params[n].device) for n in names}
    scores = initial_scores(tau, sparsity, sigmoid_bias)
    scores = {n: s.to(params[n].device) for n, s in scores.items()}
    was_training = model.training
    model.eval()   # as the authors: no dropout while the mask is trained
    try:
        with torch.no_grad():
            for n, p in params.items():
                if n in base:
                    p.copy_(base[n].to(p.dtype))
        for epoch in range(epochs):
            with torch.no_grad():
                for n in names:
                    params[n].copy_((base[n].to(tau[n].device).float() + torch.sigmoid(scores[n]) * tau[n]).to(params[n].dtype))
            grads = {n: torch.zeros_like(tau[n]) for n in names}
            total = 0.0
            for batch in batches:
                model.zero_grad(set_to_none=True)
                loss = loss_fn(model, batch)
                loss.backward()
                total += float(loss)
                for n in names:
                    if params[n].grad is not None:
                        grads[n] += params[n].grad.float()
            with torch.no_grad():
                for n in names:
                    s = torch.sigmoid(scores[n])
                    d = s * (1 - s)
                    step = lr * grads[n] / max(1, len(batches)) * tau[n] * d
                    if regulariser == "authors":
                        scores[n] -= step - l1 * torch.where(scores[n] > 0, d, -d)
                    else:
                        scores[n] -= step + l1 * d
            kept = sum(int((scores[n] > 0).sum()) for n in names)
            if log:
                log(f"epoch {epoch + 1}/{epochs}: loss {total / max(1, len(batches)):.4f}, mask keeps {kept} entries")
    finally:
        model.zero_grad(set_to_none=True)
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(saved[n])
        model.train(was_training)
    # round(sigmoid(S)) is 1 exactly where S > 0 (sigmoid(0) = 0.5 rounds to 0); a zero of tau is never kept
    masks = {n: (scores[n] > 0) & (tau[n] != 0) for n in names}
    numel = sum(t.numel() for t in tau.values())
    kept = sum(int(m.sum()) for m in masks.values())
    return {n: m.cpu() for n, m in masks.items()}, {"kept": kept, "numel": numel, "density": kept / numel}


def write_masks(directory, masks, tensor_names=None, rename=None):
    """Writes DIR/model.safetensors: a BOOL tensor per checkpoint tensor. masks: {parameter name: bool tensor};
    rename(parameter name) -> checkpoint name; tensor_names: {checkpoint name: shape} of every floating tensor of
    the model (those without a learned mask get all zeros: they keep the base), default the masks' own."""
    rename = rename or (lambda n: n)
    out = {rename(n): m.to(torch.bool) for n, m in masks.items()}
    for name, shape in (tensor_names or {}).items():
        if name not in out:
            out[name] = torch.zeros(tuple(shape), dtype=torch.bool)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, ".model.safetensors.tmp")
    safetensors_lite.write(tmp, out, {"format": "pt", "content": "Localize-and-Stitch mask (tools/learn_masks.py)"})
    os.replace(tmp, os.path.join(directory, "model.safetensors"))
    return os.path.join(directory, "model.safetensors")


def few_shot(labels, shots, seed):
    """Indices of `shots` examples of every class (fewer where a class has fewer), drawn with a fixed seed."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.as_tensor(labels)
    picked = []
    for c in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == c).reshape(-1)
        picked.append(idx[torch.randperm(len(idx), generator=g)[:shots]])
    return torch.cat(picked).sort().values


def hyper(a):
    return {"sparsity": a.sparsity, "sigmoid_bias": a.sigmoid_bias, "lr": a.lr, "l1": a.l1, "epochs": a.epochs,
            "regulariser": a.regulariser}


def mlp_masks(base_dir, model_dir, x, y, out, shots=DEFAULTS["shots"], seed=0, batch_size=DEFAULTS["batch_size"], log=print,
              **hp):
    """The quality benchmark's MLP (bench/quality/zoo.py): masks of model_dir against base_dir from `shots` examples
    per class of (x, y) (the task's training inputs, standardised as zoo expects); writes out/model.safetensors."""
    import torch.nn.functional as F
    zoo = _bench("zoo")
    idx = few_shot(y, shots, seed)
    xs, ys = torch.as_tensor(x)[idx], torch.as_tensor(y)[idx]
    batches = [(xs[i:i + batch_size], ys[i:i + batch_size]) for i in range(0, len(xs), batch_size)]
    base, ft = zoo.load(base_dir), zoo.load(model_dir)
    masks, info = learn_mask(zoo.load(base_dir), base.state_dict(), ft.state_dict(), batches,
                             lambda m, b: F.cross_entropy(m(b[0]), b[1]), log=log, **hp)
    write_masks(out, masks, rename=zoo.hf_name)
    return info


def _bench(module):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(os.path.dirname(here), "bench", "quality"))
    return __import__(module)


def checkpoint_tensors(directory):
    """{name: shape} of every floating tensor of a model directory (model.safetensors or a sharded index)."""
    import json
    index = os.path.join(directory, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    out = {}
    for f in files:
        for name, t in safetensors_lite.read_header(os.path.join(directory, f)).items():
            if t["dtype"] in ("F32", "F16", "BF16", "F64"):
                out[name] = t["shape"]
    return out


def hf_masks(base_dir, model_dir, text, out, seq_len=512, shots=DEFAULTS["shots"], batch_size=8, device="cpu",
             trainable=r"\.layers\.", log=print, **hp):
    """A Hugging Face causal LM: the few shots are `shots` sequences of seq_len tokens of `text`, the loss the
    model's next-token loss; masks on the parameters matching `trainable` (the transformer blocks, as the
    authors train masks on RoBERTa's encoder layers only), all zeros elsewhere."""
    import re
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        sys.exit("learn_masks hf: loading a checkpoint needs the transformers package, or call learn_mask() on your "
                 "own torch module")
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, torch_dtype=torch.float32).to(device)
    base = {n: p.detach().clone() for n, p in model.named_parameters()}
    ft = dict(AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32).named_parameters())
    ids = tok(text, return_tensors="pt").input_ids[0]
    seqs = [ids[i:i + seq_len] for i in range(0, len(ids) - seq_len + 1, seq_len)][:shots]
    if not seqs:
        sys.exit(f"learn_masks hf: the text has {len(ids)} tokens, fewer than one sequence of --seq-len {seq_len}")
    batches = [torch.stack(seqs[i:i + batch_size]).to(device) for i in range(0, len(seqs), batch_size)]
    pattern = re.compile(trainable)
    masks, info = learn_mask(model, base, ft, batches, lambda m, b: m(input_ids=b, labels=b).loss,
                             trainable=lambda n: pattern.search(n) is not None, log=log, **hp)
    write_masks(out, masks, tensor_names=checkpoint_tensors(model_dir))
    return info


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="entry", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base", required=True, help="the base model's directory")
    common.add_argument("--model", required=True, help="the fine-tune's directory")
    common.add_argument("--out", required=True, help="mask directory to write (DIR/model.safetensors, BOOL tensors)")
    common.add_argument("--shots", type=int, default=DEFAULTS["shots"],
                        help="examples per class (mlp) or sequences (hf) (default %(default)s, the authors' n_shot)")
    common.add_argument("--sparsity", type=float, default=DEFAULTS["sparsity"],
                        help="fraction of the largest |tau| whose scores start at +c (default %(default)s)")
    common.add_argument("--sigmoid-bias", type=float, default=DEFAULTS["sigmoid_bias"], help="c (default %(default)s)")
    common.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="score learning rate (default %(default)s)")
    common.add_argument("--l1", type=float, default=DEFAULTS["l1"], help="L1 strength on gamma (default %(default)s)")
    common.add_argument("--epochs", type=int, default=DEFAULTS["epochs"], help="passes over the shots (default %(default)s)")
    common.add_argument("--regulariser", choices=("paper", "authors"), default="paper",
                        help="the L1 gradient (paper) or the authors' code's sign(S) term (default %(default)s)")
    common.add_argument("--seed", type=int, default=0, help="which shots are drawn (default %(default)s)")
    m = sub.add_parser("mlp", parents=[common], help="the quality benchmark's Fashion-MNIST MLP (bench/quality/zoo.py)")
    m.add_argument("--task", required=True, help="the fine-tune's task: " + ", ".join(["original", "rot90", "invert", "blur", "permute"]))
    m.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="(default %(default)s)")
    h = sub.add_parser("hf", parents=[common], help="a Hugging Face causal LM (needs transformers)")
    h.add_argument("--text", required=True, help="the fine-tune's task text (UTF-8); the shots are sequences of it")
    h.add_argument("--seq-len", type=int, default=512, help="(default %(default)s)")
    h.add_argument("--batch-size", type=int, default=8, help="(default %(default)s, the authors' for RoBERTa)")
    h.add_argument("--trainable", default=r"\.layers\.", help="regex of the parameters that get a mask (default %(default)s)")
    h.add_argument("--device", default="cpu")
    a = p.parse_args(argv)
    if a.entry == "mlp":
        data = _bench("data")
        x, y = data.task_split(data.load(), a.task, "train")
        info = mlp_masks(a.base, a.model, x, y, a.out, a.shots, a.seed, a.batch_size, **hyper(a))
    else:
        with open(a.text, encoding="utf-8") as f:
            text = f.read()
        info = hf_masks(a.base, a.model, text, a.out, a.seq_len, a.shots, a.batch_size, a.device, a.trainable, **hyper(a))
    print(f"wrote {a.out}/model.safetensors: {info['kept']} of {info['numel']} entries kept (density {info['density']:.6f})")


if __name__ == "__main__":
    main()
