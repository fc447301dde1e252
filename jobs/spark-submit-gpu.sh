#!/usr/bin/env bash
# Submit a merge (or subspaces, with SPARKMERGE_COMMAND=subspaces) to GPU executors with Spark's GPU
# scheduling, jobs/spark-gpu.conf as the properties file. Build the CUDA jar first:
# mvn -B -Pcuda -DskipTests package (docs/gpu.md).
# The discovery script (jobs/gpu-discovery.sh) must exist where the executor starts: on YARN it is shipped
# with --files (localized before the executor runs); elsewhere install it on every GPU host or in the image
# at GPU_DISCOVERY_SCRIPT (default /opt/sparkmerge/jobs/gpu-discovery.sh). On Kubernetes the vendor is nvidia.com.
# Usage: jobs/spark-submit-gpu.sh MASTER CONFIG OUT [--overwrite ...]
#   env: TASKS_PER_GPU (default 2: spark.task.resource.gpu.amount = 1/2), GPUS_PER_EXECUTOR (default 1),
#        SPARKMERGE_JAR (default target/sparkmerge-*.jar), SPARKMERGE_COMMAND (default merge), GPU_DISCOVERY_SCRIPT,
#        SPARKMERGE_LOG_CONF (a log4j2 file for spark-submit here; default the jar's quiet configuration)
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: jobs/spark-submit-gpu.sh MASTER CONFIG OUT [args...]" >&2
  exit 2
fi
MASTER="$1"; CONFIG="$2"; OUT="$3"; shift 3
HERE="$(cd "$(dirname "$0")" && pwd)"
JAR="${SPARKMERGE_JAR:-$(ls "$HERE"/../target/sparkmerge-*.jar 2>/dev/null | grep -v original | head -1)}"
[[ -n "$JAR" ]] || { echo "no jar: build it with mvn -B -Pcuda -DskipTests package, or set SPARKMERGE_JAR" >&2; exit 2; }
# spark-submit's JVM here logs with the jar's quiet log4j2 configuration, or SPARKMERGE_LOG_CONF's
. "$HERE/log-conf.sh" "$JAR"
TASKS_PER_GPU="${TASKS_PER_GPU:-2}"
GPUS="${GPUS_PER_EXECUTOR:-1}"
TASK_AMOUNT=$(awk -v k="$TASKS_PER_GPU" 'BEGIN { if (k < 1) exit 1; printf "%g", 1 / k }') \
  || { echo "TASKS_PER_GPU must be at least 1" >&2; exit 2; }
EXTRA=()
case "$MASTER" in
  yarn*) DISCOVERY="${GPU_DISCOVERY_SCRIPT:-./gpu-discovery.sh}"; EXTRA=(--files "$HERE/gpu-discovery.sh");;
  k8s://*) DISCOVERY="${GPU_DISCOVERY_SCRIPT:-/opt/sparkmerge/jobs/gpu-discovery.sh}"
    EXTRA=(--conf spark.executor.resource.gpu.vendor=nvidia.com);;
  *) DISCOVERY="${GPU_DISCOVERY_SCRIPT:-/opt/sparkmerge/jobs/gpu-discovery.sh}";;
esac
exec spark-submit --master "$MASTER" --class io.sparkmerge.cli.Main \
  --properties-file "$HERE/spark-gpu.conf" \
  "${EXTRA[@]}" \
  --conf spark.executor.resource.gpu.discoveryScript="$DISCOVERY" \
  --conf spark.executor.resource.gpu.amount="$GPUS" \
  --conf spark.task.resource.gpu.amount="$TASK_AMOUNT" \
  --conf spark.executor.cores="$((GPUS * TASKS_PER_GPU))" \
  "$JAR" "${SPARKMERGE_COMMAND:-merge}" "$CONFIG" "$OUT" "$@"
