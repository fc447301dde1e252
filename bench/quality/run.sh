#!/usr/bin/env bash
# Quality benchmark (not a test): trains the Fashion-MNIST model zoo, runs every merge through
# bin/sparkmerge merge, evaluates the merged checkpoints and writes docs/quality.md.
#
# Usage: bench/quality/run.sh [--seeds 5] [--work DIR] [--resume] [--quick] [--out docs/quality.md]
#                             [--budget-minutes M] [--nice N]
#   --resume  keep DIR's finished models, merges and results (default: start from scratch)
#   --quick   smoke run (a fraction of the training, a 3-value λ grid refined once; numbers meaningless)
#   --budget-minutes M  start no further seed once it would end after M minutes; the report states the seeds run
#   --nice N  niceness of the run (default 10: it yields to interactive work on a shared machine)
# Needs Debian's python3-torch, python3-numpy, dataset-fashion-mnist (see bench/quality/README.md).
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SEEDS=5; WORK="$HOME_DIR/target/quality"; RESUME=0; QUICK=(); OUT="$HOME_DIR/docs/quality.md"; BUDGET=(); NICE=10
CMDLINE="$(echo "bench/quality/run.sh $*" | sed "s/ *$//")"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) SEEDS="$2"; shift 2;;
    --work) WORK="$2"; shift 2;;
    --resume) RESUME=1; shift;;
    --quick) QUICK=(--quick); shift;;
    --out) OUT="$2"; shift 2;;
    --budget-minutes) BUDGET=(--budget-minutes "$2"); shift 2;;
    --nice) NICE="$2"; shift 2;;
    *) echo "unknown option $1 (see the usage at the top of $0)" >&2; exit 2;;
  esac
done
PY=/usr/bin/python3
if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
  echo "$PY lacks torch or numpy: apt-get install -y python3-torch python3-numpy (see bench/quality/README.md)" >&2
  exit 2
fi
DATA="${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
if [[ ! -f "$DATA/train-images-idx3-ubyte.gz" ]]; then
  echo "$DATA: no Fashion-MNIST files; apt-get install -y dataset-fashion-mnist (or set FASHION_MNIST_DIR)" >&2
  exit 2
fi
"$PY" "$HOME_DIR/bench/quality/selftest.py"
[[ $RESUME -eq 1 ]] || rm -rf "$WORK"
RESUMED=0; [[ -f "$WORK/results.json" ]] && RESUMED=1   # --resume on an empty work directory is a run from scratch
mkdir -p "$WORK"
START=$(date +%s)
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
# Build before anything is timed; the version goes into the report.
VERSION="$("$HOME_DIR/bin/sparkmerge" --version 2>/dev/null | tail -1)"
# One torch thread and one Spark core: the benchmark shares the machine. /usr/bin/time: the CPU seconds (user +
# sys) of the harness and everything it waits for (the sparkmerge JVM, the eval clients) — on a loaded machine the
# wall-clock time says more about the other users than about the pipeline.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
/usr/bin/time -f "%U %S" -o "$WORK/cpu.txt" nice -n "$NICE" "$PY" "$HOME_DIR/bench/quality/experiments.py" \
  --work "$WORK" --seeds "$SEEDS" "${QUICK[@]}" "${BUDGET[@]}" 2>&1 | tee -a "$WORK/run.log"
END=$(date +%s)
CPU="$(awk '{printf "%.0f", $1 + $2}' "$WORK/cpu.txt")"
"$PY" "$HOME_DIR/bench/quality/report.py" "$WORK/results.json" "$OUT" --command "$CMDLINE" \
  --seconds "$((END - START))" --cpu-seconds "$CPU" --load-start "$LOAD_START" --load-end "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --nice "$NICE" --sparkmerge-version "$VERSION" $([[ $RESUMED -eq 1 ]] && echo --resumed)
