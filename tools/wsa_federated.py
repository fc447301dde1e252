#!/usr/bin/env python3
"""Federated averaging with and without WSA (arXiv 2408.12237), the paper's setting, with sparkmerge between rounds.

K clients, R rounds. Each round every client starts from its variant's global model and trains locally; `fedavg`
clients on the task loss alone, `wsa` clients on task loss + beta * KL(scope || target scope) (tools/wsa.py)
against the fused scopes of the previous round's clients. Between rounds one `bin/sparkmerge batch` (one JVM)
averages both variants' clients (`merge`, linear, weight = sample count: FedAvg) and exports the `wsa` clients'
fused scopes (`scopes`): the next round's targets. The first targets are the initial model's scopes.

    /usr/bin/python3 tools/wsa_federated.py mlp --work /tmp/fl --clients 4 --rounds 10 --beta 1

`run()` works on any model given save/load/train/evaluate callables; `mlp` is the quality benchmark's
Fashion-MNIST MLP with label-skewed clients (bench/quality).
"""
import argparse
import json
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsa  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = ("fedavg", "wsa")


def config(dirs, counts):
    """The round's YAML: linear (normalize: the FedAvg mean), weight = sample count; `scopes` reads the same."""
    lines = ["merge_method: linear", "parameters: {normalize: true}", "dtype: float32", "models:"]
    for d, n in zip(dirs, counts):
        lines += [f"  - model: {d}", f"    parameters: {{weight: {n}}}"]
    return "\n".join(lines) + "\n"


def sparkmerge_batch(commands, path, sparkmerge, env=None):
    """Runs [[command, arg, ...], ...] in one JVM (`sparkmerge batch FILE`); raises with the log's tail on failure."""
    with open(path, "w") as f:
        f.write("\n".join(" ".join(shlex.quote(w) for w in c) for c in commands) + "\n")
    log = path + ".log"
    with open(log, "w") as out:
        r = subprocess.run([sparkmerge, "batch", path], stdout=out, stderr=subprocess.STDOUT, env=env)
    if r.returncode != 0:
        tail = open(log).read().strip().splitlines()[-3:]
        raise RuntimeError(f"sparkmerge batch {path}: exit {r.returncode}: {' | '.join(tail)}")


def run(work, init_model, counts, save, load, train, evaluate, rounds, beta, sparkmerge=None, env=None, log=print,
        flags=("--master", "local[1]", "--conf", "spark.ui.enabled=false"), rename=None, batch=None):
    """Runs the rounds; returns {variant: [per round {round, acc, loss, client_kl}]} and leaves under work
    <variant>/round-<r>/{global,client-<k>} and wsa/round-<r>/scopes.json.

    train(model, k, r, regularizer or None) -> model: client k's local training in round r (regularizer() is the
    scaled KL term to add to its loss); evaluate(model) -> (accuracy, loss); save(model, dir); load(dir) -> model.
    batch(commands, path): runs a round's sparkmerge command lines, raising on a failure (default sparkmerge_batch: one
    JVM per call; a driver that keeps one JVM for many runs passes its own)."""
    sparkmerge = sparkmerge or os.path.join(REPO, "bin", "sparkmerge")
    if batch is None:
        def batch(commands, path):
            sparkmerge_batch(commands, path, sparkmerge, env)
    flags = ["--overwrite"] + list(flags)
    def d(v, r, what):
        return os.path.join(work, v, f"round-{r}", what)
    for v in VARIANTS:
        save(init_model, d(v, 0, "global"))
    scopes0 = d("wsa", 0, "scopes.json")
    if not os.path.exists(scopes0):
        cfg = os.path.join(work, "init-scopes.yml")
        with open(cfg, "w") as f:
            f.write(config([d("wsa", 0, "global")], [1]))
        batch([["scopes", cfg, scopes0] + flags], os.path.join(work, "init-batch.txt"))
    history = {v: [] for v in VARIANTS}
    for r in range(rounds):
        commands = []
        for v in VARIANTS:
            reg_path = d("wsa", r, "scopes.json") if v == "wsa" else None
            clients = []
            for k in range(len(counts)):
                model = load(d(v, r, "global"))
                reg = wsa.WeightScopeRegularizer(model, reg_path, beta, rename) if reg_path else None
                model = train(model, k, r, reg)
                save(model, d(v, r, f"client-{k}"))
                clients.append(d(v, r, f"client-{k}"))
            cfg = d(v, r, "round.yml")
            with open(cfg, "w") as f:
                f.write(config(clients, counts))
            commands.append(["merge", cfg, d(v, r + 1, "global")] + flags)
            if v == "wsa":
                commands.append(["scopes", cfg, d(v, r + 1, "scopes.json")] + flags)
        batch(commands, os.path.join(work, f"round-{r}-batch.txt"))
        for v in VARIANTS:
            targets = d("wsa", r + 1, "scopes.json")
            kl = [wsa.WeightScopeRegularizer(load(d(v, r, f"client-{k}")), targets, 1.0, rename).total_kl() for k in range(len(counts))]
            acc, loss = evaluate(load(d(v, r + 1, "global")))
            history[v].append({"round": r + 1, "acc": acc, "loss": loss, "client_kl_to_fused": kl})
            log(f"round {r + 1}/{rounds} {v}: global acc {acc:.4f} loss {loss:.4f}, clients' KL to the fused scopes "
                f"{', '.join(f'{x:.3g}' for x in kl)}")
    with open(os.path.join(work, "history.json"), "w") as f:
        json.dump(history, f, indent=1)
    return history


def mlp_main(a):
    sys.path.insert(0, os.path.join(REPO, "bench", "quality"))
    import data
    import federated
    import torch
    torch.set_num_threads(1)
    raw = data.load()
    splits = {s: data.task_split(raw, "original", s) for s in ("train", "test")}
    h = federated.experiment(a.work, splits, clients=a.clients, rounds=a.rounds, beta=a.beta, local_steps=a.local_steps,
                             scenario=a.scenario, seed=a.seed)
    print(json.dumps({v: h["history"][v][-1] for v in VARIANTS}, indent=1))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="entry", required=True)
    m = sub.add_parser("mlp", help="the quality benchmark's Fashion-MNIST MLP (bench/quality/federated.py)")
    m.add_argument("--work", required=True, help="directory for the rounds' models, configs and scopes")
    m.add_argument("--clients", type=int, default=4, help="K (default %(default)s)")
    m.add_argument("--rounds", type=int, default=10, help="R (default %(default)s)")
    m.add_argument("--beta", type=float, default=1.0, help="weight of the scope KL (default %(default)s)")
    m.add_argument("--local-steps", type=int, default=50, help="SGD steps per client and round (default %(default)s)")
    m.add_argument("--scenario", choices=("label-skew", "hyperparameters"), default="label-skew",
                   help="label-skew: each client holds mostly its own classes; hyperparameters: IID clients with "
                        "different learning rates and weight decays (default %(default)s)")
    m.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    mlp_main(a)


if __name__ == "__main__":
    main()
