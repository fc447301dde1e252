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
RESERVE_6 = 12               # minutes of --budget-minutes kept for Experiment 6's first seed
DEEP_HIDDEN = (256,) * 6     # the LEWIS rows' zoo: enough scored layers that LEWIS's densities differ


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

def build_zoo(seed, work, splits, hidden=zoo.HIDDEN, folder="models"):
    """base (all classes, original images) and one fine-tune per task; returns {name: dir}."""
    dirs = {name: os.path.join(work, folder, name) for name in ["base"] + data.TASKS}
    torch.manual_seed(seed)
    if not os.path.exists(os.path.join(dirs["base"], "config.json")):
        base = zoo.MLP(hidden)
        x, y = splits["original"]["train"]
        t = time.time()
        zoo.train(base, x, y, int(BASE_EPOCHS * (len(x) // zoo.BATCH)), LR, seed)
        zoo.save(base, dirs["base"])
        log(f"seed {seed}: {folder} base trained in {time.time() - t:.0f}s")
    base = zoo.load(dirs["base"])
    for i, task in enumerate(data.TASKS):
        if os.path.exists(os.path.join(dirs[task], "config.json")):
            continue
        model = copy.deepcopy(base)
        x, y = splits[task]["train"]
        t = time.time()
        zoo.train(model, x, y, int(FT_EPOCHS * (len(x) // zoo.BATCH)), FT_LR, seed * 10 + i + 1)
        zoo.save(model, dirs[task])
        log(f"seed {seed}: {folder} fine-tune {task} trained in {time.time() - t:.0f}s")
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


def lewis_matched_density(tables, dirs, low, high):
    """The uniform density that keeps as many scored parameters as LEWIS does over all fine-tunes: Σ_t Σ_l d_tl n_l
    / (T Σ_l n_l), d_tl LEWIS's density of layer l for fine-tune t (methods.md §4, recomputed here from the same
    importance tables), n_l the size of layer l's weight. Biases and lm_head keep density 1 in both rows."""
    sizes = {i: int(np.prod(v.shape)) for i, v in enumerate(layer.weight for layer in zoo.load(dirs["base"]).layers)}
    kept = 0.0
    for task, path in tables.items():
        dens = activation_stats.lewis_densities(path, low, high)
        kept += sum(dens[i] * sizes[i] for i in sizes)
    return kept / (len(tables) * sum(sizes.values()))


def row_job(row, lam, seed, work, dirs, lewis):
    """(config text, config path, output dir) of one row's merge at one λ. dirs: {"mlp": zoo, "deep": 6-layer zoo};
    lewis: {"dense" | "sequential": {task: importance table}, "matched_dense" | "matched_sequential": density}."""
    dirs = dirs["deep" if row.deep else "mlp"]
    tag = row.label.replace(" ", "_").replace("%", "pct").replace("(", "").replace(")", "")
    name = f"{tag}" + (f"-lambda{lam}" if lam is not None else "")
    params = {k: float(v.format(**{k2: v2 for k2, v2 in lewis.items() if k2.startswith("matched")}))
              if isinstance(v, str) and v.startswith("{") else v for k, v in row.params.items()}
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
    rows = methods_table.ROWS + methods_table.DEEP_ROWS
    deep = any(r.deep for r in rows)
    dirs = {"mlp": build_zoo(seed, work, splits)}
    if deep:
        dirs["deep"] = build_zoo(seed, work, splits, DEEP_HIDDEN, "models-deep")
    for zoo_key, suffix in (("mlp", ""), ("deep", "_deep")):
        if zoo_key not in dirs or res.get("exp1", key, "individual" + suffix) is not None:
            continue
        d = dirs[zoo_key]
        res.put(eval_tasks(zoo.load(d["base"]), splits, ["original"] + data.TASKS, "test"), "exp1", key, "base" + suffix)
        if not suffix:
            res.put({t: eval_tasks(zoo.load(d[t]), splits, data.TASKS, "test") for t in data.TASKS}, "exp1", key, "individual_cross")
        res.put({t: eval_tasks(zoo.load(d[t]), splits, [t], "test")[t] for t in data.TASKS}, "exp1", key, "individual" + suffix)
    lewis = {}
    if deep:
        t = time.time()
        lewis = {mode: lewis_tables(seed, work, dirs["deep"], splits, mode) for mode in ("dense", "sequential")}
        for mode in ("dense", "sequential"):
            lewis["matched_" + mode] = lewis_matched_density(lewis[mode], dirs["deep"], methods_table.LEWIS["min_density"],
                                                             methods_table.LEWIS["max_density"])
        res.put({m: lewis["matched_" + m] for m in ("dense", "sequential")}, "exp1", key, "lewis_matched_density")
        log(f"seed {seed}: LEWIS importance tables in {time.time() - t:.0f}s; matched uniform densities "
            f"{lewis['matched_dense']:.4f} (dense), {lewis['matched_sequential']:.4f} (sequential)")

    def runnable(row):
        need = methods_table.ONLY_WITH.get(row.label)
        return row.method in available and not (need and need not in available)

    todo = [row for row in rows if runnable(row) and res.get("exp1", key, "rows", row.label, "status") != "ok"]
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
    for row in rows:
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
                extra = lewis_summary(os.path.join(out, "candidates", best), dirs["deep"]) if row.method == "lewis" else {}
                secs = [ran.get(out, (0, 0.0))[1]]
                res.put({"status": "ok", "method": row.method, "lambda": lam, "edge": edge, "grid": tried, "val": val,
                         "rounds": 1 + max(int(r["round"]) for r in board), "test": test, "merge_seconds": secs, **extra},
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


def lewis_summary(out, dirs):
    """What LEWIS did in a merge, from its manifest: the densities per model and layer sparkmerge resolved, and the
    fraction of the scored weights they keep (Σ d n / Σ n over models and layers) — the check of the harness's own
    lewis_matched_density against sparkmerge's arithmetic."""
    try:
        dens = json.load(open(os.path.join(out, "sparkmerge.json"))).get("method_summary", {}).get("densities")
    except (OSError, ValueError):
        return {}
    if not dens:
        return {}
    sizes = {i: int(np.prod(layer.weight.shape)) for i, layer in enumerate(zoo.load(dirs["base"]).layers)}
    kept = sum(d * sizes[int(key.split("/")[0])] for per_model in dens.values() for key, d in per_model.items())
    return {"densities": dens, "kept_fraction": kept / (len(dens) * sum(sizes.values()))}


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
    # The merges come from `sparkmerge checkpoints --window-steps {every}·k --schedule S` (Experiment 5 runs them all in
    # one `sparkmerge batch`; its stride-1 rows are this experiment's merges): the product's own WSM, not a linear merge
    # with weights computed here. wsm_weights.py stays as selftest.py's independent check of Theorem 3.1.
    tool_experiments.wsm_knobs(seed, work, splits, res, log, WSM_EVERY, WSM_KS)
    merged = {}
    for row in res.get("exp5", key) or []:
        if row["stride"] == 1 and row["window_steps"] % WSM_EVERY == 0:
            merged[f"{row['schedule']}-k{row['window_steps'] // WSM_EVERY}"] = {
                "acc": row["acc"], "loss": row["loss"], "checkpoints": row["checkpoints"]}
    res.put(merged, "exp2", key, "merged")


def run_seed(seed, args, exps, splits, available, res):
    """Every selected experiment of one seed; each finished step is in res, so a rerun skips it."""
    t = time.time()
    work = os.path.join(args.work, f"seed{seed}")
    if "1" in exps:
        experiment1(seed, work, splits, set(available), res)
    if "2" in exps:
        experiment2(seed, work, splits, res)
    if "4" in exps:
        tool_experiments.learned_masks(seed, work, build_zoo(seed, work, splits), splits, res, log, quick=args.quick)
    if "5" in exps and "2" not in exps:
        tool_experiments.wsm_knobs(seed, work, splits, res, log, WSM_EVERY, WSM_KS)
    if "6" in exps:
        tool_experiments.federated_runs(seed, work, splits, res, log, quick=args.quick)
    for exp in wsa_experiment.SETUPS:   # "3": shared init, then different inits
        if "3" in exps and res.get(exp, f"seed{seed}") is None:
            wsa_experiment.run(seed, work, splits, res, log, quick=args.quick, exp=exp)
    log(f"seed {seed}: experiments {','.join(exps)} done in {time.time() - t:.0f}s")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", required=True, help="working directory (models, merges, logs, results.json)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--experiments", default="1,2,3,4,5,6",
                    help="1 multi-task merges, 2 WSM (runs 5 too: its merges are 5's), 3 WSA two clients, 4 learned L&S "
                         "masks, 5 WSM duration/interval, "
                         "6 federated WSA (default %(default)s)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: a fraction of the training steps and a 3-value λ grid refined once (numbers meaningless)")
    ap.add_argument("--budget-minutes", type=float,
                    help="start no further seed once the time spent plus the longest seed so far would exceed this; the "
                         "report then states the seeds that finished")
    ap.add_argument("--rows", help="comma-separated labels of the Experiment 1 rows to run (default: all)")
    args = ap.parse_args()
    if args.quick:
        global BASE_EPOCHS, FT_EPOCHS, WSM_STEPS, WSM_EVERY, QUICK
        BASE_EPOCHS, FT_EPOCHS, WSM_STEPS, WSM_EVERY, QUICK = 0.1, 0.05, 160, 10, True
    if args.rows:
        keep = set(args.rows.split(","))
        methods_table.ROWS = [r for r in methods_table.ROWS if r.label in keep]
        methods_table.DEEP_ROWS = [r for r in methods_table.DEEP_ROWS if r.label in keep]
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
    # one sparkmerge JVM for the whole run (sparkmerge_cli.BatchServer): every merge, sweep, checkpoints and scopes
    # line of every seed goes to it, so the JVM's start-up is paid once, not ~30 times per seed
    with sparkmerge_cli.BatchServer():
        # Experiments 1-5 on every seed first, then the federated runs (6, the slowest per seed) on every seed: when the
        # budget stops the run, the orderings of 1-5 have their seeds and 6 has what fitted
        for phase in (1, 2):
            longest = 0.0
            # phase 1 leaves RESERVE_6 minutes of the budget for at least one seed of Experiment 6
            limit = 60 * ((args.budget_minutes or 0) - (RESERVE_6 if phase == 1 and "6" in exps else 0))
            for seed in range(args.seeds):
                elapsed = time.time() - t0
                if args.budget_minutes and elapsed + longest > limit:
                    log(f"stopping phase {phase} before seed {seed}: {elapsed / 60:.1f} min spent, a seed took up to "
                        f"{longest / 60:.1f} min, budget {args.budget_minutes} min")
                    break
                t = time.time()
                run_seed(seed, args, [e for e in exps if (e == "6") == (phase == 2)], splits, available, res)
                longest = max(longest, time.time() - t)
    res.put(settings(args), "run")
    log(f"done in {time.time() - t0:.0f}s")


def settings(args):
    """What the report states about the run; written at the start, so an interrupted run still has it."""
    return {"seeds": args.seeds, "python": platform.python_version(),
             "torch": torch.__version__, "threads": torch.get_num_threads(),
             "quick": args.quick, "settings": {"hidden": zoo.HIDDEN, "deep_hidden": DEEP_HIDDEN, "batch": zoo.BATCH, "lr": LR, "base_epochs": BASE_EPOCHS,
                          "ft_lr": FT_LR, "ft_epochs": FT_EPOCHS, "wsm_steps": WSM_STEPS, "wsm_every": WSM_EVERY,
                          "tasks": data.TASKS, "validation": data.VALIDATION}}


if __name__ == "__main__":
    main()
