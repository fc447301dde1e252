"""Experiment 3 (WSA, arXiv 2408.12237): two federated-style clients on non-IID splits, trained with and
without the scope KL regulariser against the fused scopes `bin/sparkmerge scopes` exports, then merged
through `bin/sparkmerge merge` (linear and wsa).

One round, kept small: both clients start from the same random init and train WARMUP steps on their
own split (no regulariser); `sparkmerge scopes` fuses the two warm-up checkpoints' scopes (weights =
sample counts); each client then trains LOCAL more steps from its warm-up checkpoint, once with β = 0 and
once with loss += β Σ_l KL(scope_l ‖ fused scope_l) (the docs/wsa.md snippet). Each pair is merged with
`linear` (weights = sample counts) and with `wsa`, and the loss/accuracy barrier along the straight line
between the two clients is measured on the test split.
"""
import copy
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

import data
import sparkmerge_cli
import zoo

CLIENT_CLASSES = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9))   # client k holds all of its classes ...
MINORITY = 0.1                                          # ... and this fraction of the other client's
WARMUP = 200
LOCAL = 300
BETA = 1.0
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def scope_kl(mu, var, mu_star, var_star):
    """KL(N(mu, var) || N(mu_star, var_star)); as in docs/wsa.md."""
    return 0.5 * torch.log(var_star / var) + (var + (mu - mu_star) ** 2) / (2 * var_star) - 0.5


def load_scopes(path):
    with open(path) as f:
        scopes = json.load(f)["scopes"]
    return {name: (torch.tensor(s["mean"], dtype=torch.float64), torch.tensor(s["variance"], dtype=torch.float64))
            for name, s in scopes.items()}


def regulariser(model, targets, beta):
    """beta · Σ over 2-D parameters of KL(current scope ‖ target scope); checkpoint names via zoo.hf_name."""
    loss = 0.0
    for name, p in model.named_parameters():
        t = targets.get(zoo.hf_name(name))
        if t is None or p.dim() < 2:
            continue
        w = p.double()
        loss = loss + scope_kl(w.mean(), w.var(unbiased=False), *t)
    return beta * loss


def total_kl(model, targets):
    with torch.no_grad():
        return float(regulariser(model, targets, 1.0))


def client_splits(x, y, seed):
    """Non-IID label skew: client k gets its own classes and MINORITY of the other client's."""
    rng = np.random.default_rng(5000 + seed)
    out = []
    for own in CLIENT_CLASSES:
        mine = np.isin(y, own)
        keep = mine | (rng.random(len(y)) < MINORITY)
        out.append((x[keep], y[keep]))
    return out


def train_client(model, x, y, steps, start_step, seed, targets=None, beta=0.0):
    """zoo.train's SGD + batches, plus the scope regulariser when targets are given."""
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    per_epoch = len(xs) // zoo.BATCH
    model.train()
    for step in range(start_step, start_step + steps):
        epoch, pos = divmod(step, per_epoch)
        perm = torch.randperm(len(xs), generator=torch.Generator().manual_seed(seed * 100003 + epoch))
        idx = perm[pos * zoo.BATCH:(pos + 1) * zoo.BATCH]
        opt.zero_grad()
        loss = F.cross_entropy(model(xs[idx]), ys[idx])
        if targets is not None and beta > 0:
            loss = loss + regulariser(model, targets, beta)
        loss.backward()
        opt.step()
    return model


def interpolate(a, b, alpha):
    m = copy.deepcopy(a)
    sa, sb = a.state_dict(), b.state_dict()
    m.load_state_dict({k: (1 - alpha) * sa[k] + alpha * sb[k] for k in sa})
    return m


def barrier(a, b, xt, yt):
    """Loss and accuracy along (1 − α)·a + α·b; barrier = worst gap to the endpoints' straight line."""
    path = [zoo.evaluate(interpolate(a, b, al), xt, yt) for al in ALPHAS]
    (acc0, loss0), (acc1, loss1) = path[0], path[-1]
    loss_b = max(l - ((1 - al) * loss0 + al * loss1) for al, (_, l) in zip(ALPHAS, path))
    acc_b = max(((1 - al) * acc0 + al * acc1) - acc for al, (acc, _) in zip(ALPHAS, path))
    return {"alphas": list(ALPHAS), "acc": [p[0] for p in path], "loss": [p[1] for p in path],
            "loss_barrier": loss_b, "acc_barrier": acc_b}


# results key -> whether each client starts from its own random init (else one shared init)
SETUPS = {"exp3": False, "exp3b": True}


def run(seed, work, splits, res, log, quick=False, exp="exp3"):
    different_inits = SETUPS[exp]
    key = f"seed{seed}"
    warmup, local = (WARMUP // 10, LOCAL // 10) if quick else (WARMUP, LOCAL)
    x, y = splits["original"]["train"]
    xt, yt = splits["original"]["test"]
    clients = client_splits(x, y, seed)
    counts = [len(c[1]) for c in clients]
    prefix = "wsa-diffinit" if different_inits else "wsa"
    root = os.path.join(work, prefix)
    inits = []
    for k in range(len(clients)):
        torch.manual_seed(3000 + seed + (7 * k if different_inits else 0))
        inits.append(zoo.MLP())
    warm = []
    for k, (cx, cy) in enumerate(clients):
        d = os.path.join(root, f"client{k}-warmup")
        if not os.path.exists(os.path.join(d, "config.json")):
            zoo.save(train_client(inits[k], cx, cy, warmup, 0, 3000 + 10 * seed + k), d)
        warm.append(d)
    text = sparkmerge_cli.config_yaml("linear", [(d, {"weight": n}, {}) for d, n in zip(warm, counts)], None, None, seed)
    scopes_json = os.path.join(root, "scopes.json")
    secs = sparkmerge_cli.scopes(text, os.path.join(work, "configs", prefix + "-scopes.yml"), scopes_json,
                                 os.path.join(work, "logs", prefix + "-scopes.log"))
    log(f"seed {seed}: WSA ({'different' if different_inits else 'shared'} init) fused scopes exported by sparkmerge scopes ({secs:.0f}s)")
    targets = load_scopes(scopes_json)
    out = {"different_inits": different_inits, "clients": [{"classes": list(c), "samples": n} for c, n in zip(CLIENT_CLASSES, counts)],
           "warmup_steps": warmup, "local_steps": local, "beta": BETA, "minority": MINORITY, "variants": {}}
    variants = (("no regulariser", 0.0), (f"scope KL, beta {BETA:g}", BETA))
    client_dirs, jobs = {}, {}
    for variant, beta in variants:   # train both variants' clients, then merge all four in one JVM
        tag = "plain" if beta == 0 else "reg"
        dirs = []
        for k, (cx, cy) in enumerate(clients):
            d = os.path.join(root, f"client{k}-{tag}")
            if not os.path.exists(os.path.join(d, "config.json")):
                m = train_client(zoo.load(warm[k]), cx, cy, local, warmup, 3000 + 10 * seed + k, targets, beta)
                zoo.save(m, d)
            dirs.append(d)
        client_dirs[variant] = dirs
        for method in ("linear", "wsa"):
            params = {"normalize": True} if method == "linear" else None
            text = sparkmerge_cli.config_yaml(method, [(d, {"weight": n}, {}) for d, n in zip(dirs, counts)],
                                              None, params, seed)
            name = f"{prefix}-{tag}-{method}"
            jobs[variant, method] = (text, os.path.join(work, "configs", name + ".yml"), os.path.join(work, "merged", name))
    sparkmerge_cli.run_batch(list(jobs.values()), os.path.join(work, "configs", prefix + "-batch.txt"),
                             os.path.join(work, "logs", prefix + "-batch.log"))
    for variant, beta in variants:
        dirs = client_dirs[variant]
        models = [zoo.load(d) for d in dirs]
        v = {"client_acc": [zoo.evaluate(m, xt, yt)[0] for m in models],
             "client_kl": [total_kl(m, targets) for m in models],
             "barrier": barrier(models[0], models[1], xt, yt), "merged": {}}
        for method in ("linear", "wsa"):
            text, config, merged = jobs[variant, method]
            s = sparkmerge_cli.merge(text, config, merged, os.path.join(work, "logs", os.path.basename(merged) + ".log"))
            acc, loss = zoo.evaluate(zoo.load(merged), xt, yt)
            v["merged"][method] = {"acc": acc, "loss": loss, "merge_seconds": s}
            log(f"seed {seed}: {prefix} {variant}, {method} merge: acc {acc:.4f} loss {loss:.4f}")
        out["variants"][variant] = v
        log(f"seed {seed}: {prefix} {variant}: clients {v['client_acc']}, loss barrier {v['barrier']['loss_barrier']:.4f}")
    res.put(out, exp, key)
