#!/usr/bin/env bash
# Sizes executors for a merge from its plan: runs `merge --dry-run` (headers only, no Spark job; the
# driver host must see the model paths) and prints spark-submit --conf flags. ND4J works off-heap, so
# the per-task estimate goes to spark.executor.memoryOverhead, times the tasks running at once
# (executor cores), with 50% headroom; the heap keeps 2 GB plus 256 MB of read/encode buffers per core.
# Usage: jobs/executor-memory.sh CONFIG OUT PARTITIONS EXECUTOR_CORES   (prints: --conf k=v ...)
set -euo pipefail
CONFIG="$1"; OUT="$2"; PARTITIONS="$3"; CORES="$4"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
JAR="${SPARKMERGE_JAR:-$(ls "$HERE"/target/sparkmerge-*.jar | grep -v original | head -1)}"
. "$HERE/jobs/log-conf.sh" "$JAR"
PLAN="$(spark-submit --master 'local[1]' --class io.sparkmerge.cli.Main "$JAR" merge "$CONFIG" "$OUT" --dry-run --partitions "$PARTITIONS")"
echo "$PLAN" >&2
TASK_MB="$(echo "$PLAN" | sed -n 's/^estimated executor memory per task (largest): \([0-9.]*\) MB$/\1/p')"
if [ -z "$TASK_MB" ]; then
  echo "executor-memory.sh: no memory estimate in the --dry-run output above" >&2
  exit 1
fi
OVERHEAD_MB="$(awk -v t="$TASK_MB" -v c="$CORES" 'BEGIN { m = int(t * c * 1.5 + 512); if (m < 1024) m = 1024; print m }')"
HEAP_MB=$((2048 + 256 * CORES))
echo "--conf spark.executor.cores=$CORES --conf spark.executor.memory=${HEAP_MB}m --conf spark.executor.memoryOverhead=${OVERHEAD_MB}m"
