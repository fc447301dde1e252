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


class BatchServer:
    """One `bin/sparkmerge batch - --stream --keep-going` JVM for the whole run: the harness writes command lines to
    its standard input and reads each line's "[batch N] line N: exit C in S s" from its standard error. The JVM's
    start-up (20-50 s on the loaded machine: JIT, Spark, ND4J's native libraries) is then paid once per run instead
    of once per group of merges; each line still runs as its own `sparkmerge` invocation (own Spark session, commit,
    exit code). Use as a context manager; `run(lines, log)` returns [(exit code, seconds)] in order."""
    STATUS = re.compile(r"^\[batch \d+\] line \d+: exit (\d+) in ([0-9.]+) s")

    def __init__(self):
        import queue
        import threading
        self.queue = queue.Queue()
        self.log = None
        self.lock = threading.Lock()
        self.proc = subprocess.Popen([SPARKMERGE, "batch", "-", "--stream", "--keep-going"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env=_env())
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                if self.log:
                    self.log.write(line)
                    self.log.flush()
            m = self.STATUS.match(line)
            if m:
                self.queue.put((int(m.group(1)), float(m.group(2))))
        self.queue.put(None)   # the JVM ended

    def run(self, lines, log_path):
        """Runs the command lines (lists of words) one after the other; their output goes to log_path."""
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        with self.lock:
            self.log = open(log_path, "a")
        try:
            out = []
            for words in lines:
                self.proc.stdin.write(" ".join(json.dumps(str(w)) for w in words) + "\n")
                self.proc.stdin.flush()
                status = self.queue.get()
                if status is None:
                    raise MergeFailed(f"the sparkmerge batch JVM ended (log {log_path})")
                out.append(status)
            return out
        finally:
            with self.lock:
                self.log.close()
                self.log = None

    def __enter__(self):
        global SERVER
        SERVER = self
        return self

    def __exit__(self, *exc):
        global SERVER
        SERVER = None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# The run's BatchServer while one is open (experiments.main opens it); None: each group starts its own JVM.
SERVER = None


def run_lines(lines, batch_path, log_path):
    """Runs command lines (lists of words) through the open BatchServer, or else in one `bin/sparkmerge batch FILE
    --keep-going`; returns [(exit code, seconds)] per line (a line the batch did not report: (None, 0))."""
    os.makedirs(os.path.dirname(batch_path), exist_ok=True)
    with open(batch_path, "w") as f:   # kept for the record either way: what was run, one command per line
        f.write("\n".join(" ".join(json.dumps(str(w)) for w in words) for words in lines) + "\n")
    if SERVER is not None:
        return SERVER.run(lines, log_path)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "w") as log:
        subprocess.run([SPARKMERGE, "batch", batch_path, "--keep-going"], stdout=log, stderr=subprocess.STDOUT, env=_env())
    done = [(None, 0.0)] * len(lines)
    with open(log_path) as f:
        for m in re.finditer(r"^\[batch (\d+)/\d+\] line \d+: exit (\d+) in ([0-9.]+) s", f.read(), re.M):
            done[int(m.group(1)) - 1] = (int(m.group(2)), float(m.group(3)))
    return done


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
    lines = []
    for text, config_path, out in todo:
        os.makedirs(os.path.dirname(config_path), exist_ok=True)
        with open(config_path, "w") as f:
            f.write(text)
        lines.append(["merge", config_path, out, "--overwrite"] + MERGE_FLAGS)
    for (code, secs), job in zip(run_lines(lines, batch_path, log_path), todo):
        if code == 0:
            _BATCH_SECONDS[job[2]] = secs
    return len(todo)


def run_sweeps(jobs, batch_path, log_path):
    """Runs `sparkmerge sweep` lines jobs = [(config_text, config_path, out_dir, sweep_args)] whose OUT has no
    _SUCCESS in one JVM (`bin/sparkmerge batch`); a partial OUT of an interrupted run is removed first.
    Returns {out_dir: (exit code, seconds)} of the lines run."""
    import shutil
    todo = [j for j in jobs if not os.path.exists(os.path.join(j[2], "_SUCCESS"))]
    if not todo:
        return {}
    lines = []
    for text, config_path, out, args in todo:
        os.makedirs(os.path.dirname(config_path), exist_ok=True)
        with open(config_path, "w") as f:
            f.write(text)
        shutil.rmtree(out, ignore_errors=True)
        lines.append(["sweep", config_path, out] + list(args) + MERGE_FLAGS)
    return {job[2]: status for job, status in zip(todo, run_lines(lines, batch_path, log_path)) if status[0] is not None}


def run_checked(commands, batch_path):
    """Runs command lines (lists of words) as run_lines does, its log beside batch_path; raises MergeFailed naming the
    first failing line. The signature of tools/wsa_federated.py's `batch` hook."""
    log_path = batch_path + ".log"
    for words, (code, _) in zip(commands, run_lines(commands, batch_path, log_path)):
        if code != 0:
            raise MergeFailed(f"sparkmerge {' '.join(map(str, words[:3]))}: exit {code} (log {log_path})")


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
    """Runs `bin/sparkmerge scopes CONFIG OUT.json` (WSA's fused target scopes), through the open BatchServer if
    any; returns wall seconds."""
    if os.path.exists(out_json):
        return 0.0
    if SERVER is None:
        return _run("scopes", config_text, config_path, out_json, log_path, ["--master", "local[1]"])
    os.makedirs(os.path.dirname(config_path), exist_ok=True)
    with open(config_path, "w") as f:
        f.write(config_text)
    [(code, secs)] = run_lines([["scopes", config_path, out_json, "--overwrite", "--master", "local[1]"]],
                               config_path + ".batch.txt", log_path)
    if code != 0:
        raise MergeFailed(f"scopes exit {code} (log {log_path})")
    return secs


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
