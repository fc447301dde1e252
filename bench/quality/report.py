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


DEEP_LABELS = {r.label for r in methods_table.DEEP_ROWS}


def exp1_summary(res, rows=None, suffix=""):
    """{label: {'test': {task: [per seed]}, 'avg': [...], 'norm': [...], 'lambda': [...], 'status': str}}.
    rows: the Experiment 1 rows (default the 2-layer zoo's); suffix "_deep": the 6-layer zoo's reference rows."""
    rows = methods_table.ROWS if rows is None else rows
    seeds = [s for s in finished_seeds(res, "exp1") if "individual" + suffix in res["exp1"][s]]
    indiv = {s: res["exp1"][s]["individual" + suffix] for s in seeds}
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

    add("base (no merge)", {s: res["exp1"][s]["base" + suffix] for s in seeds}, note="the base model on each task")
    add("individual fine-tunes", indiv, note="each task's own fine-tune (the normalisation reference)")
    for row in rows:
        rows = {s: res["exp1"][s].get("rows", {}).get(row.label) for s in seeds}
        ok = {s: r for s, r in rows.items() if r and r.get("status") == "ok"}
        if ok:
            note = row.note
            if len(ok) < len(seeds):
                note = (note + "; " if note else "") + f"{len(ok)} of {len(seeds)} seeds ({', '.join(ok)}): run stopped"
            if row.lambdas:
                tried = [len(r.get("grid", r["val"])) for r in ok.values()]
                note = (note + "; " if note else "") + f"λ from {min(tried)}–{max(tried)} values tried (sweep --refine)"
                grids = [r.get("grid") or [] for r in ok.values()]
                if any(grids):
                    note += f", range {min(min(g) for g in grids if g):.3g}–{max(max(g) for g in grids if g):.3g}"
                at_edge = sum(bool(r.get("edge")) for r in ok.values())
                if at_edge:
                    note += f"; **λ at the edge of the values tried on {at_edge} of {len(ok)} seeds**"
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


# Every ordering the report checks, in the order checked: (experiment, source, ordering, verdict, mean, interval, n, unit).
CHECKED = []


def check(experiment, source, ordering, diffs, scale=100.0, unit="points", edge=False):
    """One paired ordering: diffs are per-seed differences oriented so that > 0 means the ordering holds (e.g.
    better − worse accuracy, or worse − better loss). Returns its sentence; records it for the summary table.
    A comparison involving a row whose λ optimum is still at the edge of the values tried says nothing about the
    methods: its verdict is "inconclusive (edge)" whatever the interval."""
    v, m, ci = verdict(diffs)
    if edge:
        v = "inconclusive (edge)"
    CHECKED.append((experiment, source, ordering, v, m * scale, ci and (ci[0] * scale, ci[1] * scale), len(diffs), unit))
    interval = f"95 % interval [{scale * ci[0]:+.3g}, {scale * ci[1]:+.3g}]" if ci else "no interval (one seed)"
    return f"**{v}**: paired difference {scale * m:+.3g} {unit}, {interval} over {len(diffs)} seeds"


def combined(verdicts):
    """One verdict from several metrics of the same claim (e.g. WSA's accuracy, loss and barrier): held when some
    metric held and none reversed, reversed when some reversed and none held, otherwise inconclusive."""
    held, rev = "held" in verdicts, "reversed" in verdicts
    return "held" if held and not rev else "reversed" if rev and not held else "inconclusive" + (" (mixed)" if held else "")


def verdict_table():
    lines = ["| experiment | paper | ordering checked | verdict | mean difference | 95 % interval | seeds |",
             "|---|---|---|---|---|---|---|"]
    for exp, source, ordering, v, m, ci, n, unit in CHECKED:
        interval = f"[{ci[0]:+.3g}, {ci[1]:+.3g}]" if ci else "–"
        lines.append(f"| {exp} | {source} | {ordering} | **{v}** | {m:+.3g} {unit} | {interval} | {n} |")
    return "\n".join(lines)


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
        edges = [x for x, e in ((better, a), (worse, b)) if any(e.get("edge") or [])]
        exp = "1b (6-layer)" if better in DEEP_LABELS else "1"
        sentence = check(exp, source, f"{better} > {worse} (avg test acc)", diffs, edge=bool(edges))
        out.append(f"- {source}: {better} > {worse} {sentence}"
                   + (f"; λ optimum still at the edge of the values tried for {', '.join(edges)} on some seed" if edges else "")
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
            w = ", ".join(f"{step}: {wt:.3f}" for step, wt in v[0]["checkpoints"])
            lines.append(f"| WSM merge (`checkpoints --schedule {sched}`), weights by step [{w}] | {k} | "
                         f"{ms([x['acc'] for x in v], digits=2)} | {ms([x['loss'] for x in v], 1, 4)} |")
        for sched in ("cosine", "1-sqrt"):
            if any(f"{sched}-k{k}" not in r[s]["merged"] for s in seeds):
                continue
            m = [r[s]["merged"][f"{sched}-k{k}"]["loss"] for s in seeds]
            d = [r[s]["decayed"][f"{sched}-k{k}"]["loss"] for s in seeds]
            c = [x["loss"] for x in const]
            statements.append(
                f"- k = {k}, {sched}: WSM merge test loss ≤ the run decayed the same way "
                + check("2", "WSM (arXiv 2507.17634)", f"merge ≤ decayed run, loss ({sched}, k = {k})",
                        [y - x for x, y in zip(m, d)], 1.0, "loss")
                + f"; merge < constant-LR last checkpoint "
                + check("2", "WSM (arXiv 2507.17634)", f"merge < last checkpoint, loss ({sched}, k = {k})",
                        [y - x for x, y in zip(m, c)], 1.0, "loss") + ".")
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

    name = "3 (shared init)" if exp == "exp3" else "3b (different inits)"
    for method in ("linear", "wsa"):
        def diffs(f, lower_better=False):
            d = [f(x["variants"][reg]) - f(x["variants"][plain]) for x in r]
            return [-y for y in d] if lower_better else d
        before = len(CHECKED)
        sentences = [
            "accuracy " + check(name, "WSA (arXiv 2408.12237)", f"regulariser raises the {method} merge's accuracy",
                                diffs(lambda x: x["merged"][method]["acc"])),
            "loss " + check(name, "WSA (arXiv 2408.12237)", f"regulariser lowers the {method} merge's loss",
                            diffs(lambda x: x["merged"][method]["loss"], True), 1.0, "loss")]
        if method == "linear":   # the barrier is between the clients: one per variant, not per merge method
            sentences.append("loss barrier " + check(name, "WSA (arXiv 2408.12237)", "regulariser lowers the clients' loss barrier",
                                                     diffs(lambda x: x["barrier"]["loss_barrier"], True), 1.0, "loss"))
        overall = combined([c[3] for c in CHECKED[before:]])
        metrics = "accuracy, loss and barrier" if method == "linear" else "accuracy and loss"
        lines.append(f"- {method} merge, regulariser vs none — WSA's claim (aligned scopes merge better) **{overall}** "
                     f"on {metrics} together: " + "; ".join(sentences) + ".")
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
    ap.add_argument("--cpu-seconds", type=float, help="user + sys CPU seconds of the harness and its children")
    ap.add_argument("--load-start", help="load average (1, 5, 15 min) when the run started")
    ap.add_argument("--load-end", help="load average when it ended")
    ap.add_argument("--nice", default="10", help="the run's niceness (run.sh --nice)")
    ap.add_argument("--resumed", action="store_true", help="the run kept an earlier run's work (run.sh --resume)")
    ap.add_argument("--runtime-text", help="states the runtime instead (e.g. the sum of several resumed invocations)")
    args = ap.parse_args()
    res = json.load(open(args.results))
    run = res.get("run") or harness_settings()
    summary, n = exp1_summary(res)
    deep, n_deep = exp1_summary(res, methods_table.DEEP_ROWS, "_deep")
    # claims() reads both tables (the LEWIS orderings are on the 6-layer zoo); every section adds to CHECKED,
    # so the verdict table is built last
    claim_text = claims({**summary, **{k: v for k, v in deep.items() if k in DEEP_LABELS}})
    t2, s2 = exp2_tables(res)
    t3, t3b = exp3_table(res), exp3_table(res, "exp3b")
    import tool_experiments   # torch: only for the report itself, not for selftest.py's checks of the verdicts
    tools = tool_experiments.render(res, check) or "(not run)"
    matched = []
    for s in finished_seeds(res, "exp1"):
        m, rows = res["exp1"][s].get("lewis_matched_density"), res["exp1"][s].get("rows", {})
        if m:
            kept = [rows.get(label, {}).get("kept_fraction") for label in ("lewis (ties)", "lewis (ties) sequential")]
            matched.append(f"{m['dense']:.4f}/{m['sequential']:.4f}"
                           + (f" (LEWIS's manifests: {kept[0]:.4f}/{kept[1]:.4f})" if None not in kept else ""))
    st = run.get("settings", {})
    runtime = f"{args.seconds / 60:.1f} min wall-clock" if args.seconds else "?"
    if args.cpu_seconds:
        runtime += (f", {args.cpu_seconds / 60:.1f} CPU minutes (user + sys of the harness, the sparkmerge JVM and the "
                    f"eval clients; on the 2 cores alone the pipeline needs at least {args.cpu_seconds / 120:.1f} min)")
    if args.load_start or args.load_end:
        runtime += f"; load average {args.load_start or '?'} at the start, {args.load_end or '?'} at the end"
    if args.resumed:
        runtime += " for this invocation, which resumed an earlier run's work directory (earlier invocations not counted)"
    if args.runtime_text:
        runtime = args.runtime_text
    missing = [l for l, e in summary.items() if e["status"] != "ok" or len(e["avg"]) < n]
    missing += [l for l, e in deep.items() if l in DEEP_LABELS and (e["status"] != "ok" or len(e["avg"]) < n_deep)]
    text = TEMPLATE.format(
        command=args.command, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=machine(),
        load=", ".join(f"{x:.2f}" for x in os.getloadavg()),
        runtime=runtime, seeds=n, torch=run.get("torch", "?"), python=run.get("python", "?"),
        version=args.sparkmerge_version.replace("sparkmerge ", ""), hidden="-".join(["784"] + [str(h) for h in st.get("hidden", [])] + ["10"]),
        lr=st.get("lr"), ft_lr=st.get("ft_lr"), base_epochs=st.get("base_epochs"), ft_epochs=st.get("ft_epochs"),
        wsm_steps=st.get("wsm_steps"), wsm_every=st.get("wsm_every"), validation=st.get("validation"),
        available=", ".join(res.get("available_methods", [])), table1=exp1_table(summary), claims=claim_text,
        table1b=exp1_table(deep) if n_deep else "(not run)", seeds_deep=n_deep,
        deep_hidden="-".join(["784"] + [str(h) for h in st.get("deep_hidden", [])] + ["10"]),
        matched="; ".join(matched) or "–",
        verdicts=verdict_table(), nice=args.nice,
        table2=t2, table3=t3, table3b=t3b, statements2=s2 or "(not run)", ta_grid=methods_table.LAMBDA_GRID, refine=methods_table.REFINE,
        missing=", ".join(missing) or "none", tools_section=tools,
        quick="\n**This was a --quick smoke run: the numbers are meaningless.**\n" if run.get("quick") else "")
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}")


TEMPLATE = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "quality_template.md")).read()

if __name__ == "__main__":
    main()
