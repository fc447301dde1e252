#!/usr/bin/env bash
# Submit a merge to a Spark standalone (or YARN / Kubernetes: change --master) cluster with the shaded jar.
# Build the jar first: mvn -B -DskipTests package
# (client deploy mode: CONFIG is read by the driver on this machine, which logs with SPARKMERGE_LOG_CONF if
# set, else with the quiet configuration inside the jar)
# Usage: jobs/spark-submit-standalone.sh spark://master:7077 jobs/ties.yml hdfs:///models/merged [--overwrite]
set -euo pipefail
MASTER="$1"; CONFIG="$2"; OUT="$3"; shift 3
HERE="$(cd "$(dirname "$0")/.." && pwd)"
JAR="${SPARKMERGE_JAR:-$(ls "$HERE"/target/sparkmerge-*.jar | grep -v original | head -1)}"
. "$HERE/jobs/log-conf.sh" "$JAR"
exec spark-submit --master "$MASTER" --class io.sparkmerge.cli.Main \
  --conf spark.executor.memory="${EXECUTOR_MEMORY:-8g}" \
  --conf spark.executor.memoryOverhead="${EXECUTOR_OVERHEAD:-4g}" \
  "$JAR" merge "$CONFIG" "$OUT" "$@"
