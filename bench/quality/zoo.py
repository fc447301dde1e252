"""The model zoo: an MLP, its checkpoint names, training, evaluation and export.

Tensor names follow the LLaMA-style layout sparkmerge's planner parses ("model.layers.<i>.mlp.fc.weight"),
so layer positions, per-layer parameters and LEWIS's (layer, component) keys work as on a real LLM;
the classifier is "lm_head".
"""
import numpy as np
import torch
import torch.nn.functional as F

import st_io

HIDDEN = (512, 512)
BATCH = 128


class MLP(torch.nn.Module):
    def __init__(self, hidden=HIDDEN):
        super().__init__()
        sizes = (784,) + tuple(hidden)
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.head = torch.nn.Linear(sizes[-1], 10)

    def forward(self, x):
        for layer in self.layers:
            x = F.relu(layer(x))
        return self.head(x)


def hf_name(torch_name):
    """layers.0.weight -> model.layers.0.mlp.fc.weight; head.bias -> lm_head.bias."""
    parts = torch_name.split(".")
    if parts[0] == "layers":
        return f"model.layers.{parts[1]}.mlp.fc.{parts[2]}"
    return "lm_head." + parts[1]


def to_tensors(model):
    return {hf_name(k): v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}


def hidden_of(tensors):
    """The hidden sizes of a checkpoint's MLP, read from its layer weights (the zoo has 2- and 6-layer MLPs)."""
    sizes, i = [], 0
    while f"model.layers.{i}.mlp.fc.weight" in tensors:
        sizes.append(int(tensors[f"model.layers.{i}.mlp.fc.weight"].shape[0]))
        i += 1
    return tuple(sizes)


def from_tensors(tensors, hidden=None):
    model = MLP(hidden or hidden_of(tensors))
    names = {hf_name(k): k for k in model.state_dict()}
    missing = set(names) - set(tensors)
    if missing:
        raise ValueError(f"checkpoint lacks tensors {sorted(missing)}")
    model.load_state_dict({names[n]: torch.from_numpy(np.asarray(tensors[n], dtype=np.float32)) for n in names})
    return model


def config(hidden=HIDDEN):
    return {"architectures": ["FashionMLP"], "model_type": "sparkmerge-quality-mlp", "input_size": 784,
            "hidden_sizes": list(hidden), "num_labels": 10, "num_hidden_layers": len(hidden), "torch_dtype": "float32"}


def save(model, directory):
    st_io.write_model(directory, to_tensors(model), config(tuple(layer.out_features for layer in model.layers)))


def load(directory):
    return from_tensors(st_io.read_model(directory))


def train(model, x, y, steps, lr, seed, lr_at=None, on_step=None, start_step=0, momentum_state=None):
    """SGD with momentum 0.9 on minibatches drawn by a generator seeded by (seed, step), so a run can be
    branched at any step and continue on exactly the same batches. lr_at(step) multiplies lr."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    if momentum_state is not None:
        opt.load_state_dict(momentum_state)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    n = len(xs)
    per_epoch = n // BATCH
    perm = None
    model.train()
    for step in range(start_step, start_step + steps):
        epoch, pos = divmod(step, per_epoch)
        if perm is None or pos == 0:
            perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100003 + epoch))
        idx = perm[pos * BATCH:(pos + 1) * BATCH]
        for group in opt.param_groups:
            group["lr"] = lr * (lr_at(step) if lr_at else 1.0)
        opt.zero_grad()
        F.cross_entropy(model(xs[idx]), ys[idx]).backward()
        opt.step()
        if on_step:
            on_step(step + 1, model, opt)
    return opt


@torch.no_grad()
def evaluate(model, x, y):
    """(accuracy, mean cross-entropy) on a split."""
    model.eval()
    logits = torch.cat([model(torch.from_numpy(x[i:i + 2000])) for i in range(0, len(x), 2000)])
    target = torch.from_numpy(y)
    return float((logits.argmax(1) == target).float().mean()), float(F.cross_entropy(logits, target))
