"""The quality benchmark's harness: trains the zoo, runs every merge through `bin/sparkmerge merge`,
reads the merged checkpoints back and evaluates them. Writes WORK/results.json (then report.py turns
it into docs/quality.md). Every finished step is kept under WORK, so a rerun with the same WORK resumes.

Run it with Debian's interpreter (torch): /usr/bin/python3 bench/quality/experiments.py --work DIR
"""
import argparse
import copy
import json
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import activation_stats  # noqa: E402
import data  # noqa: E402
import eval_server  # noqa: E402
import methods_table  # noqa: E402
import sparkmerge_cli  # noqa: E402
import tool_experiments  # noqa: E402
import wsa_experiment  # noqa: E402
import wsm_weights  # noqa: E402
import zoo  # noqa: E402

LR = 0.05
BASE_EPOCHS = 2
FT_LR = 0.02
FT_EPOCHS = 1
CALIBRATION = 512            # images per task for LEWIS's activation statistics (from the val split)
WSM_STEPS = 1600             # constant-LR run length (≈ 3.7 epochs of 55k images, batch 128)
WSM_EVERY = 50               # checkpoint interval
WSM_KS = (2, 4, 8)
QUICK = False
WSM_SCHEDULES = ("linear", "cosine", "1-sqrt")   # merge weights; the decayed runs use cosine and 1-sqrt


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


class Results:
    """results.json, saved after every change so an interrupted run loses nothing."""

    def __init__(self, path):
        self.path = path
        self.data = json.load(open(path)) if os.path.exists(path) else {}

    def get(self, *keys):
        d = self.data
        for k in keys:
            if not isinstance(d, dict) or k not in d:
                return None
            d = d[k]
        return d

    def put(self, value, *keys):
        d = self.data
        for k in keys[:-1]:
            d = d.setdefault(k, {})
        d[keys[-1]] = value
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


def eval_tasks(model, splits, tasks, split):
    return {t: zoo.evaluate(model, *splits[t][split])[0] for t in tasks}


# ---------------------------------------------------------------- Experiment 1: multi-task merging

def build_zoo(seed, work, splits):
    """base (all classes, original images) and one fine-tune per task; returns {name: dir}."""
    dirs = {name: os.path.join(work, "models", name) for name in ["base"] + data.TASKS}
    torch.manual_seed(seed)
    if not os.path.exists(os.path.join(dirs["base"], "config.json")):
        base = zoo.MLP()
        x, y = splits["original"]["train"]
        t = time.time()
        zoo.train(base, x, y, int(BASE_EPOCHS * (len(x) // zoo.BATCH)), LR, seed)
        zoo.save(base, dirs["base"])
        log(f"seed {seed}: base trained in {time.time() - t:.0f}s")
    base = zoo.load(dirs["base"])
    for i, task in enumerate(data.TASKS):
        if os.path.exists(os.path.join(dirs[task], "config.json")):
            continue
        model = copy.deepcopy(base)
        x, y = splits[task]["train"]
        t = time.time()
        zoo.train(model, x, y, int(FT_EPOCHS * (len(x) // zoo.BATCH)), FT_LR, seed * 10 + i + 1)
        zoo.save(model, dirs[task])
        log(f"seed {seed}: fine-tune {task} trained in {time.time() - t:.0f}s")
    return dirs


def lewis_tables(seed, work, dirs, splits, mode="dense"):
    out = {}
    base = zoo.load(dirs["base"])
    for task in data.TASKS:
        path = os.path.join(work, "lewis", f"{task}.csv" if mode == "dense" else f"{task}-{mode}.csv")
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            x = splits[task]["val"][0][:CALIBRATION]
            activation_stats.write_table(path, base, zoo.load(dirs[task]), x, mode)
        out[task] = path
    return out


def row_job(row, lam, seed, work, dirs, lewis):
    """lewis: {"dense" | "sequential": {task: importance table}}."""
    """(config text, config path, output dir) of one row's merge at one λ."""
    tag = row.label.replace(" ", "_").replace("%", "pct").replace("(", "").replace(")", "")
    name = f"{tag}" + (f"-lambda{lam}" if lam is not None else "")
    params = dict(row.params)
    if lam is not None:
        params["lambda"] = lam
    models = [(dirs[t], row.model_params,
               {k: v.format(importance=lewis["dense"][t], importance_sequential=lewis["sequential"][t])
                for k, v in row.model_keys.items()}) for t in data.TASKS]
    text = sparkmerge_cli.config_yaml(row.method, models, dirs["base"] if row.uses_base else None, params, seed)
    return text, os.path.join(work, "configs", name + ".yml"), os.path.join(work, "merged", name)


def merge_row(row, lam, seed, work, dirs, lewis):
    text, config, out = row_job(row, lam, seed, work, dirs, lewis)
    name = os.path.basename(out)
    secs = sparkmerge_cli.merge(text, config, out, os.path.join(work, "logs", name + ".log"))
    return out, secs


def sweep_job(row, seed, work, dirs, lewis, eval_cmd):
    """(config text, config path, OUT, sweep arguments) of one row's λ sweep: the grid's λ overrides the config's."""
    text, config, out = row_job(row, None, seed, work, dirs, lewis)
    grid, refine = (methods_table.QUICK_GRID, methods_table.QUICK_REFINE) if QUICK else (row.lambdas, methods_table.REFINE)
    args = ["--grid", grid, "--refine", str(refine), "--eval", eval_cmd, "--eval-timeout", "600", "--keep", "best"]
    return text, config, out + "-sweep", args


def experiment1(seed, work, splits, available, res):
    key = f"seed{seed}"
    dirs = build_zoo(seed, work, splits)
    if res.get("exp1", key, "individual") is None:
        base = zoo.load(dirs["base"])
        res.put(eval_tasks(base, splits, ["original"] + data.TASKS, "test"), "exp1", key, "base")
        res.put({t: eval_tasks(zoo.load(dirs[t]), splits, [t], "test")[t] for t in data.TASKS}, "exp1", key, "individual")
        res.put({t: eval_tasks(zoo.load(dirs[t]), splits, data.TASKS, "test") for t in data.TASKS},
                "exp1", key, "individual_cross")
    lewis = {mode: lewis_tables(seed, work, dirs, splits, mode) for mode in ("dense", "sequential")}

    def runnable(row):
        need = methods_table.ONLY_WITH.get(row.label)
        return row.method in available and not (need and need not in available)

    todo = [row for row in methods_table.ROWS if runnable(row) and res.get("exp1", key, "rows", row.label, "status") != "ok"]
    # rows without λ: plain merges in one `sparkmerge batch`; rows with λ: one `sparkmerge sweep` each (one pass per
    # round, validation scores from eval_server), all in a second batch — two JVMs per seed
    plain = [row_job(row, None, seed, work, dirs, lewis) for row in todo if not row.lambdas]
    sparkmerge_cli.run_batch(plain, os.path.join(work, "configs", "exp1-batch.txt"), os.path.join(work, "logs", "exp1-batch.log"))
    with eval_server.ValidationServer(splits, data.TASKS) as server:
        sweeps = {row.label: sweep_job(row, seed, work, dirs, lewis, server.command()) for row in todo if row.lambdas}
        t = time.time()
        ran = sparkmerge_cli.run_sweeps(list(sweeps.values()), os.path.join(work, "configs", "exp1-sweeps.txt"),
                                        os.path.join(work, "logs", "exp1-sweeps.log"))
        if ran:
            log(f"seed {seed}: {len(ran)} Experiment 1 sweeps in one sparkmerge batch in {time.time() - t:.0f}s")
    for row in methods_table.ROWS:
        if not runnable(row):
            res.put({"status": "not yet available", "method": row.method}, "exp1", key, "rows", row.label)
            continue
        if res.get("exp1", key, "rows", row.label, "status") == "ok":
            continue
        try:
            if row.lambdas:
                out = sweeps[row.label][2]
                if not os.path.exists(os.path.join(out, "_SUCCESS")):
                    code, secs = ran.get(out, ("?", 0))
                    raise sparkmerge_cli.MergeFailed(f"sweep exit {code} (log {os.path.join(work, 'logs', 'exp1-sweeps.log')})")
                board, best = sparkmerge_cli.leaderboard(out)
                ok = [r for r in board if r["status"] == "ok"]
                if best is None:
                    raise sparkmerge_cli.MergeFailed(f"sweep scored no candidate ({len(board)} rows, see {out}/leaderboard.csv)")
                val = {r["lambda"]: {k: v for k, v in json.loads(r["metrics"]).items()} for r in ok}
                tried = sorted(float(r["lambda"]) for r in ok)
                lam = float(next(r["lambda"] for r in board if r["id"] == best))
                edge = lam in (tried[0], tried[-1])
                test = eval_tasks(zoo.load(os.path.join(out, "candidates", best)), splits, data.TASKS, "test")
                secs = [ran.get(out, (0, 0.0))[1]]
                res.put({"status": "ok", "method": row.method, "lambda": lam, "edge": edge, "grid": tried, "val": val,
                         "rounds": 1 + max(int(r["round"]) for r in board), "test": test, "merge_seconds": secs},
                        "exp1", key, "rows", row.label)
            else:
                out, s = merge_row(row, None, seed, work, dirs, lewis)
                secs, lam, edge = [s], None, False
                test = eval_tasks(zoo.load(out), splits, data.TASKS, "test")
                res.put({"status": "ok", "method": row.method, "lambda": None, "val": {}, "test": test, "merge_seconds": secs},
                        "exp1", key, "rows", row.label)
        except sparkmerge_cli.MergeFailed as e:
            res.put({"status": "failed", "method": row.method, "error": str(e)}, "exp1", key, "rows", row.label)
            log(f"seed {seed}: {row.label} FAILED {e}")
            continue
        log(f"seed {seed}: {row.label} λ={lam}{' (at the edge of the values tried)' if edge else ''} "
            f"test avg {np.mean(list(test.values())):.4f} ({secs[0]:.0f}s)")


# ---------------------------------------------------------------- Experiment 2: WSM

def experiment2(seed, work, splits, res):
    key = f"seed{seed}"
    root = os.path.join(work, "wsm", "constant")
    x, y = splits["original"]["train"]
    xt, yt = splits["original"]["test"]
    first_kept = WSM_STEPS - WSM_EVERY * max(WSM_KS)
    done = os.path.join(root, f"checkpoint-{WSM_STEPS}", "config.json")
    if not os.path.exists(done) or res.get("exp2", key, "decayed") is None:
        torch.manual_seed(1000 + seed)
        model = zoo.MLP()
        branch = {}

        def on_step(step, m, opt):
            if step >= first_kept and step % WSM_EVERY == 0:
                zoo.save(m, os.path.join(root, f"checkpoint-{step}"))
            if step in {WSM_STEPS - WSM_EVERY * k for k in WSM_KS}:
                branch[step] = (copy.deepcopy(m.state_dict()), copy.deepcopy(opt.state_dict()))

        t = time.time()
        zoo.train(model, x, y, WSM_STEPS, LR, 1000 + seed, on_step=on_step)
        log(f"seed {seed}: WSM constant-LR run ({WSM_STEPS} steps) in {time.time() - t:.0f}s")
        decayed = {}
        for sched in ("cosine", "1-sqrt"):
            f = wsm_weights.SCHEDULES[sched]
            for k in WSM_KS:
                start = WSM_STEPS - WSM_EVERY * k
                state, opt_state = branch[start]
                m = zoo.MLP()
                m.load_state_dict(state)
                span = WSM_EVERY * k
                zoo.train(m, x, y, span, LR, 1000 + seed, lr_at=lambda s, start=start, span=span: f((s - start) / span),
                          start_step=start, momentum_state=opt_state)
                acc, loss = zoo.evaluate(m, xt, yt)
                decayed[f"{sched}-k{k}"] = {"acc": acc, "loss": loss}
        res.put(decayed, "exp2", key, "decayed")
    final = zoo.load(os.path.join(root, f"checkpoint-{WSM_STEPS}"))
    acc, loss = zoo.evaluate(final, xt, yt)
    res.put({"acc": acc, "loss": loss}, "exp2", key, "constant_final")
    def wsm_merge(k, sched):
        c = wsm_weights.weights(sched, k)
        steps = [WSM_STEPS - WSM_EVERY * (k - j) for j in range(k + 1)]   # anchor, then oldest..newest
        pairs = [(os.path.join(root, f"checkpoint-{s}"), w) for s, w in zip(steps, c) if w > 0]
        text = sparkmerge_cli.config_yaml("linear", [(p, {"weight": w}, {}) for p, w in pairs],
                                          None, {"normalize": False}, seed)
        name = f"wsm-{sched}-k{k}"
        return c, pairs, (text, os.path.join(work, "configs", name + ".yml"), os.path.join(work, "merged", name))

    def signature(pairs):
        return tuple((p, round(w, 12)) for p, w in pairs)

    # all schedules' merges in one `sparkmerge batch` (one JVM), each distinct weighting once (e.g. cosine
    # and linear give the same weights for k = 2); the loop below evaluates them
    jobs, sigs = [], set()
    for k in WSM_KS:
        for sched in WSM_SCHEDULES:
            _, pairs, job = wsm_merge(k, sched)
            if res.get("exp2", key, "merged", f"{sched}-k{k}") is None and signature(pairs) not in sigs:
                sigs.add(signature(pairs))
                jobs.append(job)
    sparkmerge_cli.run_batch(jobs, os.path.join(work, "configs", "wsm-batch.txt"), os.path.join(work, "logs", "wsm-batch.log"))
    seen = {}
    for k in WSM_KS:
        for sched in WSM_SCHEDULES:
            label = f"{sched}-k{k}"
            if res.get("exp2", key, "merged", label) is not None:
                continue
            c, pairs, (text, config, out) = wsm_merge(k, sched)
            sig = signature(pairs)
            if sig in seen:   # e.g. cosine and linear give the same weights for k = 2
                res.put(dict(res.get("exp2", key, "merged", seen[sig]), same_as=seen[sig]), "exp2", key, "merged", label)
                continue
            name = os.path.basename(out)
            secs = sparkmerge_cli.merge(text, config, out, os.path.join(work, "logs", name + ".log"))
            acc, loss = zoo.evaluate(zoo.load(out), xt, yt)
            res.put({"acc": acc, "loss": loss, "weights": c, "merge_seconds": secs}, "exp2", key, "merged", label)
            seen[sig] = label
            log(f"seed {seed}: WSM {label} acc {acc:.4f} loss {loss:.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", required=True, help="working directory (models, merges, logs, results.json)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--experiments", default="1,2,3,4,5,6",
                    help="1 multi-task merges, 2 WSM, 3 WSA two clients, 4 learned L&S masks, 5 WSM duration/interval, "
                         "6 federated WSA (default %(default)s)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: a fraction of the training steps and a 3-value λ grid refined once (numbers meaningless)")
    ap.add_argument("--rows", help="comma-separated labels of the Experiment 1 rows to run (default: all)")
    args = ap.parse_args()
    if args.quick:
        global BASE_EPOCHS, FT_EPOCHS, WSM_STEPS, WSM_EVERY, QUICK
        BASE_EPOCHS, FT_EPOCHS, WSM_STEPS, WSM_EVERY, QUICK = 0.1, 0.05, 160, 10, True
    if args.rows:
        keep = set(args.rows.split(","))
        methods_table.ROWS = [r for r in methods_table.ROWS if r.label in keep]
    torch.set_num_threads(1)
    os.makedirs(args.work, exist_ok=True)
    res = Results(os.path.join(args.work, "results.json"))
    t0 = time.time()
    available = sorted(sparkmerge_cli.available_methods())
    res.put(available, "available_methods")
    res.put(settings(args), "run")
    log(f"sparkmerge accepts: {', '.join(available)}")
    raw = data.load()
    splits = {t: {s: data.task_split(raw, t, s) for s in ("train", "val", "test")} for t in ["original"] + data.TASKS}
    log("data ready")
    exps = args.experiments.split(",")
    for seed in range(args.seeds):
        work = os.path.join(args.work, f"seed{seed}")
        if "1" in exps:
            experiment1(seed, work, splits, set(available), res)
        if "2" in exps:
            experiment2(seed, work, splits, res)
        if "4" in exps:
            tool_experiments.learned_masks(seed, work, build_zoo(seed, work, splits), splits, res, log, quick=args.quick)
        if "5" in exps:
            tool_experiments.wsm_knobs(seed, work, splits, res, log, WSM_EVERY)
        if "6" in exps:
            tool_experiments.federated_runs(seed, work, splits, res, log, quick=args.quick)
        for exp in wsa_experiment.SETUPS:   # "3": shared init, then different inits
            if "3" in exps and res.get(exp, f"seed{seed}") is None:
                wsa_experiment.run(seed, work, splits, res, log, quick=args.quick, exp=exp)
        res.put(seed + 1, "seeds_done")
    res.put(settings(args), "run")
    log(f"done in {time.time() - t0:.0f}s")


def settings(args):
    """What the report states about the run; written at the start, so an interrupted run still has it."""
    return {"seeds": args.seeds, "python": platform.python_version(),
             "torch": torch.__version__, "threads": torch.get_num_threads(),
             "quick": args.quick, "settings": {"hidden": zoo.HIDDEN, "batch": zoo.BATCH, "lr": LR, "base_epochs": BASE_EPOCHS,
                          "ft_lr": FT_LR, "ft_epochs": FT_EPOCHS, "wsm_steps": WSM_STEPS, "wsm_every": WSM_EVERY,
                          "tasks": data.TASKS, "validation": data.VALIDATION}}


if __name__ == "__main__":
    main()
