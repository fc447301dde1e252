"""Runs `bin/sparkmerge merge CONFIG OUT` for the harness: YAML generation, the method probe, timing."""
import json
import os
import re
import subprocess
import time

HOME = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPARKMERGE = os.path.join(HOME, "bin", "sparkmerge")
# One local core (the machine is shared); C1-only JIT and the serial GC cut a short JVM's CPU time by
# about half; the Spark UI is not needed for a 3 MB merge.
JAVA_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
MERGE_FLAGS = ["--master", "local[1]", "--conf", "spark.ui.enabled=false"]


def _yaml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) else str(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML scalar


def _inline(d):
    return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in d.items()) + "}"


def config_yaml(method, models, base=None, params=None, seed=0):
    """models: list of (path, per-model parameters dict, extra entry keys dict)."""
    lines = [f"merge_method: {method}"]
    if base:
        lines.append(f"base_model: {json.dumps(base)}")
    lines.append("models:")
    for path, mparams, extra in models:
        lines.append(f"  - model: {json.dumps(path)}")
        for k, v in (extra or {}).items():
            lines.append(f"    {k}: {_yaml_value(v)}")
        if mparams:
            lines.append(f"    parameters: {_inline(mparams)}")
    if params:
        lines.append(f"parameters: {_inline(params)}")
    lines.append("dtype: float32")
    lines.append(f"seed: {seed}")
    lines.append("copy: [config.json]")
    return "\n".join(lines) + "\n"


def _env():
    env = dict(os.environ)
    env["SPARKMERGE_JAVA_OPTS"] = (env.get("SPARKMERGE_JAVA_OPTS", "") + " " + JAVA_OPTS).strip()
    return env


def available_methods():
    """The merge methods this build of sparkmerge accepts, read from its own error for an unknown method."""
    probe = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"sparkmerge-quality-probe-{os.getpid()}.yml")
    with open(probe, "w") as f:
        f.write("merge_method: __probe__\nmodels:\n  - model: /nonexistent\n")
    try:
        r = subprocess.run([SPARKMERGE, "merge", probe, probe + ".out", "--dry-run"], capture_output=True, text=True,
                           env=_env())
    finally:
        os.remove(probe)
    m = re.search(r"available: ([a-z0-9_, ]+)", r.stderr + r.stdout)
    if not m:
        raise SystemExit("could not read the method list from bin/sparkmerge:\n" + r.stderr[-2000:])
    return {x.strip() for x in m.group(1).split(",") if x.strip()}


class MergeFailed(Exception):
    pass


# Seconds of the merges run_batch ran, by output directory; merge() hands them out when it finds OUT done.
_BATCH_SECONDS = {}


def merge(config_text, config_path, out_dir, log_path):
    """Writes the config and runs the merge; returns wall seconds. Reuses a finished OUT (_SUCCESS): its
    seconds are those run_batch measured for it, else 0."""
    if os.path.exists(os.path.join(out_dir, "_SUCCESS")):
        return _BATCH_SECONDS.pop(out_dir, 0.0)
    return _run("merge", config_text, config_path, out_dir, log_path, MERGE_FLAGS)


def run_batch(jobs, batch_path, log_path):
    """Runs the merges jobs = [(config_text, config_path, out_dir)] whose OUT is not finished in one JVM
    (`bin/sparkmerge batch FILE --keep-going`): the JVM's start-up is paid once, not once per merge.
    Records each line's seconds for merge(); a line that failed is left for merge() to run on its own,
    which then fails with that merge's own log. Returns the number of merges run."""
    todo = [j for j in jobs if not os.path.exists(os.path.join(j[2], "_SUCCESS"))]
    if not todo:
        return 0
    os.makedirs(os.path.dirname(batch_path), exist_ok=True)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    lines = []
    for text, config_path, out in todo:
        os.makedirs(os.path.dirname(config_path), exist_ok=True)
        with open(config_path, "w") as f:
            f.write(text)
        lines.append(" ".join(json.dumps(w) for w in ["merge", config_path, out, "--overwrite"] + MERGE_FLAGS))
    with open(batch_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(log_path, "w") as log:
        subprocess.run([SPARKMERGE, "batch", batch_path, "--keep-going"], stdout=log, stderr=subprocess.STDOUT, env=_env())
    with open(log_path) as f:
        for m in re.finditer(r"^\[batch (\d+)/\d+\] line \d+: exit (\d+) in ([0-9.]+) s", f.read(), re.M):
            if m.group(2) == "0":
                _BATCH_SECONDS[todo[int(m.group(1)) - 1][2]] = float(m.group(3))
    return len(todo)


def run_sweeps(jobs, batch_path, log_path):
    """Runs `sparkmerge sweep` lines jobs = [(config_text, config_path, out_dir, sweep_args)] whose OUT has no
    _SUCCESS in one JVM (`bin/sparkmerge batch`); a partial OUT of an interrupted run is removed first.
    Returns {out_dir: (exit code, seconds)} of the lines run."""
    import shutil
    todo = [j for j in jobs if not os.path.exists(os.path.join(j[2], "_SUCCESS"))]
    if not todo:
        return {}
    os.makedirs(os.path.dirname(batch_path), exist_ok=True)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    lines = []
    for text, config_path, out, args in todo:
        os.makedirs(os.path.dirname(config_path), exist_ok=True)
        with open(config_path, "w") as f:
            f.write(text)
        shutil.rmtree(out, ignore_errors=True)
        lines.append(" ".join(json.dumps(w) for w in ["sweep", config_path, out] + list(args) + MERGE_FLAGS))
    with open(batch_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(log_path, "w") as log:
        subprocess.run([SPARKMERGE, "batch", batch_path, "--keep-going"], stdout=log, stderr=subprocess.STDOUT, env=_env())
    done = {}
    with open(log_path) as f:
        for m in re.finditer(r"^\[batch (\d+)/\d+\] line \d+: exit (\d+) in ([0-9.]+) s", f.read(), re.M):
            done[todo[int(m.group(1)) - 1][2]] = (int(m.group(2)), float(m.group(3)))
    return done


def leaderboard(out_dir):
    """A finished sweep's rows (leaderboard.csv) and its best candidate's id (OUT/best), or None."""
    import csv
    with open(os.path.join(out_dir, "leaderboard.csv")) as f:
        rows = list(csv.DictReader(f))
    best = None
    if os.path.exists(os.path.join(out_dir, "best")):
        best = open(os.path.join(out_dir, "best")).read().strip().split("/", 1)[1]
    return rows, best


def scopes(config_text, config_path, out_json, log_path):
    """Runs `bin/sparkmerge scopes CONFIG OUT.json` (WSA's fused target scopes); returns wall seconds."""
    if os.path.exists(out_json):
        return 0.0
    return _run("scopes", config_text, config_path, out_json, log_path, ["--master", "local[1]"])


def _run(command, config_text, config_path, out, log_path, flags):
    os.makedirs(os.path.dirname(config_path), exist_ok=True)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(config_path, "w") as f:
        f.write(config_text)
    t = time.time()
    with open(log_path, "w") as log:
        r = subprocess.run([SPARKMERGE, command, config_path, out, "--overwrite"] + flags,
                           stdout=log, stderr=subprocess.STDOUT, env=_env())
    if r.returncode != 0:
        with open(log_path) as f:
            tail = [l for l in f.read().splitlines() if l.strip()][-1:]
        raise MergeFailed(f"{command} exit {r.returncode}: {tail[0] if tail else '?'} (log {log_path})")
    return time.time() - t
