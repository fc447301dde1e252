"""Experiments that exercise the tools/ companions of sparkmerge (each a function callable on its own):

- learned_masks (exp4): Localize-and-Stitch with masks learned by tools/learn_masks.py against the dataless
  mask at the same density (and the 1 % / 5 % dataless rows of Experiment 1), plus each localized model alone.
- wsm_knobs (exp5): WSM's merge duration and merge interval varied separately through `sparkmerge checkpoints
  --window-steps S --stride N`, on Experiment 2's constant-LR run.
- federated (exp6): FedAvg with and without WSA (tools/wsa_federated.py) on label-skewed clients, and on IID
  clients with different learning rates / weight decays (bench/quality/federated.py).
render(res) turns their results into the report's section.
"""
import json
import os
import statistics
import sys

import numpy as np
import torch

import data
import federated
import sparkmerge_cli
import zoo

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools"))
import learn_masks  # noqa: E402
import wsa_federated  # noqa: E402

FLAGS = ["--overwrite", "--master", "local[1]", "--conf", "spark.ui.enabled=false"]
WSM_SCHEDULES = ("linear", "cosine", "1-sqrt")


def _test_acc(model_dir, splits):
    m = zoo.load(model_dir)
    return {t: zoo.evaluate(m, *splits[t]["test"])[0] for t in data.TASKS}


def learned_masks(seed, work, dirs, splits, res, log, quick=False):
    key = f"seed{seed}"
    if res.get("exp4", key) is not None:
        return
    hp = {"epochs": 2} if quick else {}
    shots = 8 if quick else learn_masks.DEFAULTS["shots"]
    masks, info = {}, {}
    base = zoo.load(dirs["base"]).state_dict()
    for task in data.TASKS:
        out = os.path.join(work, "masks", task)
        x, y = splits[task]["train"]
        info[task] = learn_masks.mlp_masks(dirs["base"], dirs[task], x, y, out, shots=shots, seed=seed, log=None, **hp)
        masks[task] = out
    density = statistics.mean(info[t]["density"] for t in data.TASKS)
    dens = ", ".join("%s %.4f%%" % (t, 100 * info[t]["density"]) for t in data.TASKS)
    log(f"seed {seed}: learned masks, densities {dens}")
    # each localized model alone: θ₀ + γ_t ⊙ τ_t on its own task
    alone = {}
    for task in data.TASKS:
        ft = zoo.load(dirs[task]).state_dict()
        m = {n: torch.from_numpy(np.array(v)) for n, v in
             learn_masks.safetensors_lite.read(os.path.join(masks[task], "model.safetensors")).items()}
        model = zoo.MLP()
        model.load_state_dict({n: base[n] + m[zoo.hf_name(n)].float() * (ft[n] - base[n]) for n in base})
        alone[task] = zoo.evaluate(model, *splits[task]["test"])[0]
    rows = {"learned": [(dirs[t], {}, {"masks": masks[t]}) for t in data.TASKS],
            "dataless, same density": [(dirs[t], {"sparsity": max(density, 1e-6)}, {}) for t in data.TASKS]}
    jobs = {label: (sparkmerge_cli.config_yaml("localize_stitch", models, dirs["base"], {"mask_scope": "global"}, seed),
                    os.path.join(work, "configs", f"ls-{i}.yml"), os.path.join(work, "merged", f"ls-{i}"))
            for i, (label, models) in enumerate(rows.items())}
    sparkmerge_cli.run_batch(list(jobs.values()), os.path.join(work, "configs", "ls-batch.txt"), os.path.join(work, "logs", "ls-batch.log"))
    merged = {}
    for label, (text, config, out) in jobs.items():
        sparkmerge_cli.merge(text, config, out, os.path.join(work, "logs", os.path.basename(out) + ".log"))
        merged[label] = _test_acc(out, splits)
        log(f"seed {seed}: localize_stitch {label}: test avg {np.mean(list(merged[label].values())):.4f}")
    res.put({"shots_per_class": shots, "settings": {k: v for k, v in learn_masks.DEFAULTS.items()} | hp,
             "density": {t: info[t]["density"] for t in data.TASKS}, "localized_alone": alone, "merged": merged}, "exp4", key)


def wsm_knobs(seed, work, splits, res, log, every, durations=(2, 4, 8)):
    """Durations 2, 4, 8 intervals (stride 1; Experiment 2's merges), then intervals 1, 2, 4 checkpoints over the
    longest duration."""
    key = f"seed{seed}"
    root = os.path.join(work, "wsm", "constant")
    if res.get("exp5", key) is not None or not os.path.isdir(root):
        return
    longest = max(durations)
    settings = [(every * d, 1) for d in durations] + [(every * longest, s) for s in (2, 4)]
    jobs = {}
    for sched in WSM_SCHEDULES:
        for steps, stride in settings:
            out = os.path.join(work, "merged", f"wsm-{sched}-S{steps}-N{stride}")
            jobs[sched, steps, stride] = out
    commands = [["checkpoints", root, out, "--window-steps", str(s), "--stride", str(n), "--schedule", sched] + FLAGS
                for (sched, s, n), out in jobs.items() if not os.path.exists(os.path.join(out, "_SUCCESS"))]
    if commands:
        sparkmerge_cli.run_checked(commands, os.path.join(work, "configs", "wsm-knobs-batch.txt"))
    xt, yt = splits["original"]["test"]
    out_res = []
    for (sched, s, n), out in jobs.items():
        acc, loss = zoo.evaluate(zoo.load(out), xt, yt)
        wsm = json.load(open(os.path.join(out, "sparkmerge.json")))["wsm"]
        out_res.append({"schedule": sched, "window_steps": s, "stride": n, "interval_steps": every * n, "acc": acc, "loss": loss,
                        "checkpoints": [[c["step"], c["weight"]] for c in wsm["checkpoints"]]})
        log(f"seed {seed}: WSM {sched} duration {s} interval {every * n}: acc {acc:.4f} loss {loss:.4f}")
    res.put(out_res, "exp5", key)


def federated_runs(seed, work, splits, res, log, quick=False):
    size = dict(clients=2, rounds=2, local_steps=5) if quick else dict(clients=4, rounds=10, local_steps=25)
    for scenario in ("label-skew", "hyperparameters"):
        if res.get("exp6", scenario, f"seed{seed}") is not None:
            continue
        h = federated.experiment(os.path.join(work, "fl-" + scenario), splits["original"], scenario=scenario, seed=seed, log=log,
                                 **size)
        res.put(h, "exp6", scenario, f"seed{seed}")


def _mean(values):
    return statistics.mean(values) if values else float("nan")


def render(res, check):
    """The report's section for exp4-exp6 (empty when none ran). check(experiment, source, ordering, per-seed diffs,
    scale, unit) is report.check: a paired verdict sentence, recorded for the report's verdict table."""
    out = []
    e4 = res.get("exp4") or {}
    if e4:
        out += ["### Localize-and-Stitch: learned masks (tools/learn_masks.py) vs dataless", "",
                "| mask | mean density | " + " | ".join(data.TASKS) + " | avg |", "|---|---|" + "---|" * (len(data.TASKS) + 1)]
        dens = _mean([_mean(list(v["density"].values())) for v in e4.values()])
        for label in ("learned", "dataless, same density"):
            accs = {t: _mean([v["merged"][label][t] for v in e4.values()]) for t in data.TASKS}
            out.append(f"| {label} | {100 * dens:.3f} % | " + " | ".join(f"{100 * accs[t]:.1f}" for t in data.TASKS)
                       + f" | {100 * _mean(list(accs.values())):.1f} |")
        alone = {t: _mean([v["localized_alone"][t] for v in e4.values()]) for t in data.TASKS}
        out.append("| (each localized model alone, its own task) | | " + " | ".join(f"{100 * alone[t]:.1f}" for t in data.TASKS)
                   + f" | {100 * _mean(list(alone.values())):.1f} |")
        diffs = [_mean([v["merged"]["learned"][t] for t in data.TASKS]) - _mean([v["merged"]["dataless, same density"][t]
                                                                                for t in data.TASKS]) for v in e4.values()]
        out += ["", "- Localize-and-Stitch's headline, learned masks > dataless masks at the same density (avg test acc): "
                + check("4", "Localize-and-Stitch (arXiv 2408.13656)", "learned > dataless mask, same density (avg test acc)",
                        diffs) + "."]
        out.append("")
    e5 = res.get("exp5") or {}
    if e5:
        out += ["### WSM: merge duration and interval separately (`sparkmerge checkpoints --window-steps S --stride N`)", "",
                "| schedule | duration (steps) | interval (steps) | acc % | loss |", "|---|---|---|---|---|"]
        first = next(iter(e5.values()))
        for i, row in enumerate(first):
            acc = _mean([v[i]["acc"] for v in e5.values()])
            loss = _mean([v[i]["loss"] for v in e5.values()])
            out.append(f"| {row['schedule']} | {row['window_steps']} | {row['interval_steps']} | {100 * acc:.2f} | {loss:.4f} |")
        out.append("")

        def loss_of(v, sched, steps, stride):
            return next(x["loss"] for x in v if x["schedule"] == sched and x["window_steps"] == steps and x["stride"] == stride)
        durations = sorted({x["window_steps"] for x in first if x["stride"] == 1})
        strides = sorted({x["stride"] for x in first if x["window_steps"] == durations[-1]})
        for sched in sorted({x["schedule"] for x in first}):
            longer = [loss_of(v, sched, durations[0], 1) - loss_of(v, sched, durations[-1], 1) for v in e5.values()]
            finer = [loss_of(v, sched, durations[-1], strides[-1]) - loss_of(v, sched, durations[-1], 1) for v in e5.values()]
            out.append(f"- {sched}: duration {durations[-1]} steps beats {durations[0]} (test loss) "
                       + check("5", "WSM (arXiv 2507.17634)", f"longer duration, lower loss ({sched}, {durations[0]} → {durations[-1]} steps)",
                               longer, 1.0, "loss")
                       + f"; at duration {durations[-1]}, every checkpoint beats every {strides[-1]}th (test loss) "
                       + check("5", "WSM (arXiv 2507.17634)",
                               f"stride 1 < stride {strides[-1]}, loss ({sched}, {durations[-1]} steps)", finer, 1.0, "loss") + ".")
        out.append("")
    e6 = res.get("exp6") or {}
    for scenario, seeds in e6.items():
        first = next(iter(seeds.values()))
        out += [f"### WSA, federated ({scenario}): {first['clients']} clients, {first['rounds']} rounds, "
                f"{first['local_steps']} local steps, beta {first['beta']}", "",
                "| variant | final acc % | final loss | loss barrier (clients 0–1, last round) | acc barrier |", "|---|---|---|---|---|"]
        for v in wsa_federated.VARIANTS:
            acc = _mean([s["history"][v][-1]["acc"] for s in seeds.values()])
            loss = _mean([s["history"][v][-1]["loss"] for s in seeds.values()])
            lb = _mean([s["barrier"][v]["loss_barrier"] for s in seeds.values()])
            ab = _mean([s["barrier"][v]["acc_barrier"] for s in seeds.values()])
            out.append(f"| {v} | {100 * acc:.2f} | {loss:.4f} | {lb:.4f} | {100 * ab:.2f} |")
        out.append("")
        exp = f"6 ({scenario})"
        runs = list(seeds.values())

        def diff(f, lower_better=False):
            d = [f(x, "wsa") - f(x, "fedavg") for x in runs]
            return [-y for y in d] if lower_better else d
        parts = [("accuracy", "WSA raises the final accuracy", diff(lambda x, v: x["history"][v][-1]["acc"]), 100.0, "points"),
                 ("loss", "WSA lowers the final loss", diff(lambda x, v: x["history"][v][-1]["loss"], True), 1.0, "loss"),
                 ("loss barrier", "WSA lowers the clients' loss barrier", diff(lambda x, v: x["barrier"][v]["loss_barrier"], True),
                  1.0, "loss")]
        sentences = [name + " " + check(exp, "WSA (arXiv 2408.12237)", text, d, scale, unit) for name, text, d, scale, unit in parts]
        out += [f"- WSA vs FedAvg ({scenario}): " + "; ".join(sentences) + ".", ""]
    return "\n".join(out)
