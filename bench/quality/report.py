"""Turns WORK/results.json into docs/quality.md: tables (mean ± sample std over seeds), the command,
machine and date, and plain statements of where the papers' orderings hold here."""
import argparse
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import methods_table  # noqa: E402
import tool_experiments  # noqa: E402

TASKS = ["rot90", "invert", "blur", "permute"]


def ms(values, scale=100.0, digits=1):
    """'mean ± std' (sample std over seeds; '± –' for one seed)."""
    v = [x * scale for x in values]
    if not v:
        return "–"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{statistics.mean(v):.{digits}f} ± {statistics.stdev(v):.{digits}f}"


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1048576:.0f} GiB"
    except OSError:
        pass
    return f"{os.cpu_count()} × {cpu}, {mem} RAM, {platform.system()} {platform.release()}"


def finished_seeds(res, exp):
    """Seeds whose step of `exp` finished: every value in results.json is written only once its computation is
    complete (an Experiment 1 row once all its merges ran), so an interrupted run reports what it finished."""
    complete = {"exp1": lambda r: "individual" in r, "exp2": lambda r: "merged" in r and "decayed" in r,
                "exp3": lambda r: "variants" in r, "exp3b": lambda r: "variants" in r}[exp]
    return sorted((s for s, r in res.get(exp, {}).items() if complete(r)), key=lambda s: int(s[len("seed"):]))


def exp1_summary(res):
    """{label: {'test': {task: [per seed]}, 'avg': [...], 'norm': [...], 'lambda': [...], 'status': str}}."""
    seeds = finished_seeds(res, "exp1")
    indiv = {s: res["exp1"][s]["individual"] for s in seeds}
    out = {}

    def add(label, per_seed, status="ok", lambdas=None, note=""):
        e = {"status": status, "test": {t: [] for t in TASKS}, "avg": [], "norm": [], "lambda": lambdas or [], "note": note}
        for s, acc in per_seed.items():
            for t in TASKS:
                e["test"][t].append(acc[t])
            e["avg"].append(sum(acc[t] for t in TASKS) / len(TASKS))
            e.setdefault("avg_by_seed", {})[s] = e["avg"][-1]
            e["norm"].append(sum(acc[t] / indiv[s][t] for t in TASKS) / len(TASKS))
        out[label] = e

    add("base (no merge)", {s: res["exp1"][s]["base"] for s in seeds}, note="the base model on each task")
    add("individual fine-tunes", indiv, note="each task's own fine-tune (the normalisation reference)")
    for row in methods_table.ROWS:
        rows = {s: res["exp1"][s].get("rows", {}).get(row.label) for s in seeds}
        ok = {s: r for s, r in rows.items() if r and r.get("status") == "ok"}
        if ok:
            note = row.note
            if len(ok) < len(seeds):
                note = (note + "; " if note else "") + f"{len(ok)} of {len(seeds)} seeds ({', '.join(ok)}): run stopped"
            if row.lambdas:
                tried = [len(r.get("grid", r["val"])) for r in ok.values()]
                note = (note + "; " if note else "") + f"λ from {min(tried)}–{max(tried)} values tried (sweep --refine)"
            add(row.label, {s: r["test"] for s, r in ok.items()}, lambdas=[r["lambda"] for r in ok.values()], note=note)
            out[row.label]["seeds"] = list(ok)
            # an optimum at the edge of the values a seed tried (after refinement): the row says nothing there
            out[row.label]["edge"] = [bool(r.get("edge")) for r in ok.values()]
        else:
            bad = [r for r in rows.values() if r and r.get("status") != "ok"]
            status = bad[0]["status"] if bad else "not run"
            if bad and bad[0].get("error"):
                status += ": " + bad[0]["error"]
            out[row.label] = {"status": status, "note": row.note, "method": row.method}
    return out, len(seeds)


def exp1_table(summary):
    lines = ["| method | " + " | ".join(TASKS) + " | avg abs | avg normalised | λ (per seed) | notes |",
             "|---|" + "---|" * (len(TASKS) + 4)]
    for label, e in summary.items():
        if e["status"] != "ok":
            lines.append(f"| {label} | " + " | ".join("–" for _ in TASKS) + f" | – | – | – | {e['status']}"
                         + (f"; {e['note']}" if e.get("note") else "") + " |")
            continue
        edge = e.get("edge") or [False] * len(e["lambda"])
        lam = ", ".join("–" if x is None else f"{x:.3g}" + ("*" if at else "") for x, at in zip(e["lambda"], edge)) or "–"
        lines.append(f"| {label} | " + " | ".join(ms(e["test"][t]) for t in TASKS)
                     + f" | **{ms(e['avg'])}** | {ms(e['norm'])} | {lam} | {e['note']} |")
    return "\n".join(lines)


def paired_interval(diffs, level=0.95):
    """Mean of paired differences and its t interval over seeds (None when fewer than 2 seeds)."""
    n = len(diffs)
    m = statistics.mean(diffs)
    if n < 2:
        return m, None
    from scipy import stats
    half = stats.t.ppf(0.5 + level / 2, n - 1) * statistics.stdev(diffs) / n ** 0.5
    return m, (m - half, m + half)


def verdict(diffs):
    """held / reversed / inconclusive: whether the paired 95 % interval of better − worse excludes 0."""
    m, ci = paired_interval(diffs)
    if ci is None:
        return "inconclusive", m, ci
    return ("held" if ci[0] > 0 else "reversed" if ci[1] < 0 else "inconclusive"), m, ci


def claims(summary):
    out = []
    for better, worse, source in methods_table.CLAIMS:
        a, b = summary.get(better), summary.get(worse)
        if not a or not b or a["status"] != "ok" or b["status"] != "ok":
            missing = [f"{x}: {e['status'] if e else 'not in the table'}" for x, e in ((better, a), (worse, b))
                       if not e or e["status"] != "ok"]
            out.append(f"- {source}: {better} > {worse} — **not checked** ({'; '.join(missing)}).")
            continue
        common = [s for s in a["avg_by_seed"] if s in b["avg_by_seed"]]   # paired: the seeds both rows have
        diffs = [a["avg_by_seed"][s] - b["avg_by_seed"][s] for s in common]
        v, m, ci = verdict(diffs)
        edges = [x for x, e in ((better, a), (worse, b)) if any(e.get("edge") or [])]
        interval = f"95 % interval [{100 * ci[0]:+.2f}, {100 * ci[1]:+.2f}]" if ci else "no interval (one seed)"
        out.append(f"- {source}: {better} > {worse} **{v}**: paired difference of the average test accuracy "
                   f"{100 * m:+.2f} points, {interval} over {len(common)} seeds"
                   + (f"; λ optimum at the edge of the values tried for {', '.join(edges)} on some seed" if edges else "")
                   + ".")
    return "\n".join(out)


def exp2_tables(res):
    seeds = finished_seeds(res, "exp2")
    if not seeds:
        return "(not run)", ""
    r = {s: res["exp2"][s] for s in seeds}
    ks = sorted({int(k.split("-k")[1]) for s in seeds for k in r[s].get("merged", {})})
    lines = ["| model | k | test accuracy (%) | test loss |", "|---|---|---|---|"]
    const = [r[s]["constant_final"] for s in seeds]
    lines.append(f"| constant LR, last checkpoint | – | {ms([c['acc'] for c in const], digits=2)} | "
                 f"{ms([c['loss'] for c in const], 1, 4)} |")
    statements = []
    for k in ks:
        for kind, key in (("decayed run, cosine", "cosine"), ("decayed run, 1-sqrt", "1-sqrt")):
            v = [r[s]["decayed"][f"{key}-k{k}"] for s in seeds]
            lines.append(f"| {kind} over the last {k} intervals | {k} | {ms([x['acc'] for x in v], digits=2)} | "
                         f"{ms([x['loss'] for x in v], 1, 4)} |")
        for sched in ("linear", "cosine", "1-sqrt"):
            v = [r[s]["merged"].get(f"{sched}-k{k}") for s in seeds]
            if any(x is None for x in v):
                continue
            w = ", ".join(f"{x:.3f}" for x in v[0]["weights"][1:])
            same = f" (= {v[0]['same_as']})" if v[0].get("same_as") else ""
            lines.append(f"| WSM merge, {sched} weights [{w}]{same} | {k} | {ms([x['acc'] for x in v], digits=2)} | "
                         f"{ms([x['loss'] for x in v], 1, 4)} |")
        for sched in ("cosine", "1-sqrt"):
            m = [r[s]["merged"][f"{sched}-k{k}"]["loss"] for s in seeds]
            d = [r[s]["decayed"][f"{sched}-k{k}"]["loss"] for s in seeds]
            c = [x["loss"] for x in const]
            mm, dm, cm = statistics.mean(m), statistics.mean(d), statistics.mean(c)
            wins = sum(x <= y for x, y in zip(m, d))
            statements.append(
                f"- k = {k}, {sched}: the merge's test loss is {mm:.4f} vs {dm:.4f} for the run decayed the same way "
                f"({mm - dm:+.4f}; merge lower or equal on {wins} of {len(m)} seeds), and "
                f"{'below' if mm < cm else 'not below'} the constant-LR last checkpoint's {cm:.4f} ({mm - cm:+.4f}).")
    return "\n".join(lines), "\n".join(statements)


def exp3_table(res, exp="exp3"):
    """Experiment 3 (WSA): per variant, the clients, their merges (linear, wsa) and the barrier."""
    seeds = finished_seeds(res, exp)
    if not seeds:
        return "(not run)"
    r = [res[exp][s] for s in seeds]
    first = r[0]
    c = first["clients"]
    intro = (f"Seeds: {len(seeds)}{' (one seed: no spread, read the numbers as indicative)' if len(seeds) == 1 else ''}. "
             f"Original task, two clients with label skew: client 0 holds classes {c[0]['classes']} and "
             f"{100 * first['minority']:.0f} % of the others ({c[0]['samples']} images), client 1 the reverse "
             f"({c[1]['samples']} images). "
             + ("Each client starts from its own random init (seeded differently)."
                if first.get("different_inits") else "Both start from one random init.") + f" Each client trains {first['warmup_steps']} steps "
             f"on its own split; `bin/sparkmerge scopes` fuses the two warm-up checkpoints' scopes (weights = sample "
             f"counts, `--fusion moment`); each client then trains {first['local_steps']} more local steps, with "
             f"β = 0 or with loss += β Σ_l KL(scope_l ‖ fused scope_l) (β = {first['beta']:g}, the docs/wsa.md "
             f"regulariser over the three 2-D weights). Each pair is merged by `bin/sparkmerge merge` with `linear` "
             f"(weights = sample counts, normalised) and with `wsa` (our post-hoc analogue). Barrier: the largest "
             f"gap between the test loss (accuracy) on the line (1 − α)·client0 + α·client1, α ∈ "
             f"{{{', '.join(f'{a:g}' for a in first['variants'][next(iter(first['variants']))]['barrier']['alphas'])}}}, "
             f"and the straight line between the endpoints (0 = no barrier). Test split of the original task (all classes).")
    lines = [intro, "", "| training | client 0 acc | client 1 acc | Σ KL to fused scope (c0, c1) | linear merge acc | "
             "linear merge loss | wsa merge acc | wsa merge loss | loss barrier | acc barrier (points) |",
             "|---|" + "---|" * 9]
    for variant in first["variants"]:
        v = [x["variants"][variant] for x in r]
        kl = ", ".join(f"{statistics.mean(x['client_kl'][k] for x in v):.4f}" for k in (0, 1))
        lines.append(f"| {variant} | {ms([x['client_acc'][0] for x in v])} | {ms([x['client_acc'][1] for x in v])} | {kl} | "
                     f"{ms([x['merged']['linear']['acc'] for x in v])} | {ms([x['merged']['linear']['loss'] for x in v], 1, 4)} | "
                     f"{ms([x['merged']['wsa']['acc'] for x in v])} | {ms([x['merged']['wsa']['loss'] for x in v], 1, 4)} | "
                     f"{ms([x['barrier']['loss_barrier'] for x in v], 1, 4)} | {ms([x['barrier']['acc_barrier'] for x in v])} |")
    plain, reg = list(first["variants"])[:2]
    lines.append("")

    def mean_of(variant, f):
        return statistics.mean(f(x["variants"][variant]) for x in r)

    for method in ("linear", "wsa"):
        a, b = (mean_of(v, lambda x: x["merged"][method]["acc"]) for v in (reg, plain))
        wins = sum(x["variants"][reg]["merged"][method]["acc"] > x["variants"][plain]["merged"][method]["acc"] for x in r)
        lines.append(f"- {method} merge: {100 * a:.1f} % with the regulariser vs {100 * b:.1f} % without "
                     f"({100 * (a - b):+.1f} points, regulariser ahead on {wins} of {len(r)} seeds; WSA's claim, a better merge with aligned scopes, "
                     f"{'holds' if a > b else 'does not hold'} here).")
    for v in (plain, reg):
        m = mean_of(v, lambda x: x["merged"]["linear"]["acc"])
        c = mean_of(v, lambda x: statistics.mean(x["client_acc"]))
        lines.append(f"- {v}: the linear merge's accuracy is {100 * m:.1f} % vs the clients' mean {100 * c:.1f} % "
                     f"({100 * (m - c):+.1f} points); loss barrier {mean_of(v, lambda x: x['barrier']['loss_barrier']):.4f}.")
    return "\n".join(lines)


def harness_settings():
    """For results.json files from runs stopped before they recorded their settings: the harness's constants."""
    import experiments
    return {"python": platform.python_version(), "torch": experiments.torch.__version__,
            "settings": {"hidden": experiments.zoo.HIDDEN, "lr": experiments.LR, "base_epochs": experiments.BASE_EPOCHS,
                         "ft_lr": experiments.FT_LR, "ft_epochs": experiments.FT_EPOCHS,
                         "wsm_steps": experiments.WSM_STEPS, "wsm_every": experiments.WSM_EVERY,
                         "validation": experiments.data.VALIDATION}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("out")
    ap.add_argument("--command", default="bench/quality/run.sh")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--sparkmerge-version", default="?")
    ap.add_argument("--resumed", action="store_true", help="the run kept an earlier run's work (run.sh --resume)")
    ap.add_argument("--runtime-text", help="states the runtime instead (e.g. the sum of several resumed invocations)")
    args = ap.parse_args()
    res = json.load(open(args.results))
    run = res.get("run") or harness_settings()
    summary, n = exp1_summary(res)
    t2, s2 = exp2_tables(res)
    st = run.get("settings", {})
    runtime = f"{args.seconds / 60:.1f} min wall-clock" if args.seconds else "?"
    if args.resumed:
        runtime += " for this invocation, which resumed an earlier run's work directory (earlier invocations not counted)"
    if args.runtime_text:
        runtime = args.runtime_text
    missing = [l for l, e in summary.items() if e["status"] != "ok" or len(e["avg"]) < n]
    text = TEMPLATE.format(
        command=args.command, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=machine(),
        load=", ".join(f"{x:.2f}" for x in os.getloadavg()),
        runtime=runtime, seeds=n, torch=run.get("torch", "?"), python=run.get("python", "?"),
        version=args.sparkmerge_version.replace("sparkmerge ", ""), hidden="-".join(["784"] + [str(h) for h in st.get("hidden", [])] + ["10"]),
        lr=st.get("lr"), ft_lr=st.get("ft_lr"), base_epochs=st.get("base_epochs"), ft_epochs=st.get("ft_epochs"),
        wsm_steps=st.get("wsm_steps"), wsm_every=st.get("wsm_every"), validation=st.get("validation"),
        available=", ".join(res.get("available_methods", [])), table1=exp1_table(summary), claims=claims(summary),
        table2=t2, table3=exp3_table(res), table3b=exp3_table(res, "exp3b"), statements2=s2 or "(not run)", ta_grid=methods_table.LAMBDA_GRID, refine=methods_table.REFINE,
        missing=", ".join(missing) or "none", tools_section=tool_experiments.render(res) or "(not run)",
        quick="\n**This was a --quick smoke run: the numbers are meaningless.**\n" if run.get("quick") else "")
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}")


TEMPLATE = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "quality_template.md")).read()

if __name__ == "__main__":
    main()
