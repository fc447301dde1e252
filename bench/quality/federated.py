"""WSA in its own setting (arXiv 2408.12237): FedAvg over K clients for R rounds, with and without the scope
regulariser, through tools/wsa_federated.py (sparkmerge averages the clients and exports the fused scopes
between rounds). Two scenarios: label-skewed clients (each holds mostly its own classes), and IID clients
whose scopes drift apart because they train with different learning rates and weight decays. Reports the
global model's accuracy and loss per round and the loss/accuracy barrier between two clients of the last round.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import sparkmerge_cli
import wsa_experiment
import zoo

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools"))
import wsa_federated  # noqa: E402

OWN = 0.9                       # label skew: a sample of class c goes to client c mod K with this probability
LRS = (0.1, 0.02)               # hyper-parameter scenario: client k uses LRS[k % 2] and WEIGHT_DECAYS[k // 2 % 2]
WEIGHT_DECAYS = (0.0, 1e-2)
LR = 0.05


def partition(y, clients, scenario, seed):
    """Client index of every sample: label skew, or IID for the hyper-parameter scenario."""
    rng = np.random.default_rng(7000 + seed)
    if scenario == "hyperparameters":
        return rng.integers(0, clients, len(y))
    owner = y % clients
    other = (owner + rng.integers(1, clients, len(y))) % clients
    return np.where(rng.random(len(y)) < OWN, owner, other)


def hyper(k, scenario):
    if scenario == "hyperparameters":
        return LRS[k % 2], WEIGHT_DECAYS[(k // 2) % 2]
    return LR, 0.0


def experiment(work, splits, clients=4, rounds=10, beta=1.0, local_steps=50, scenario="label-skew", seed=0, log=print):
    x, y = splits["train"]
    xt, yt = splits["test"]
    part = partition(y, clients, scenario, seed)
    data = [(torch.from_numpy(x[part == k]), torch.from_numpy(y[part == k])) for k in range(clients)]
    counts = [len(d[1]) for d in data]

    def train(model, k, r, reg):
        lr, wd = hyper(k, scenario)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
        xs, ys = data[k]
        g = torch.Generator().manual_seed(seed * 1_000_003 + r * 1000 + k)
        model.train()
        for _ in range(local_steps):
            idx = torch.randint(0, len(xs), (zoo.BATCH,), generator=g)
            opt.zero_grad()
            loss = F.cross_entropy(model(xs[idx]), ys[idx])
            if reg is not None:
                loss = loss + reg()
            loss.backward()
            opt.step()
        return model

    torch.manual_seed(9000 + seed)
    history = wsa_federated.run(work, zoo.MLP(), counts, zoo.save, zoo.load, train, lambda m: zoo.evaluate(m, xt, yt),
                                rounds, beta, env=sparkmerge_cli._env(), log=log, rename=zoo.hf_name,
                                batch=sparkmerge_cli.run_checked)
    last = rounds - 1
    barrier = {v: wsa_experiment.barrier(zoo.load(os.path.join(work, v, f"round-{last}", "client-0")),
                                         zoo.load(os.path.join(work, v, f"round-{last}", "client-1")), xt, yt)
               for v in wsa_federated.VARIANTS}
    return {"scenario": scenario, "clients": clients, "rounds": rounds, "beta": beta, "local_steps": local_steps,
            "samples": counts, "hyperparameters": [hyper(k, scenario) for k in range(clients)],
            "history": history, "barrier": barrier}
