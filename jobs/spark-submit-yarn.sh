#!/usr/bin/env bash
# Submit a merge to YARN (cluster deploy mode) with executors sized from the merge's --dry-run plan.
# The config is shipped with --files, so the driver (in a YARN container) reads it by its base name.
# Build the jar first: mvn -B -DskipTests package. HADOOP_CONF_DIR must point at the cluster's config.
# Usage: jobs/spark-submit-yarn.sh CONFIG hdfs:///models/merged [PARTITIONS] [EXECUTOR_CORES] [--overwrite ...]
set -euo pipefail
CONFIG="$1"; OUT="$2"; PARTITIONS="${3:-64}"; CORES="${4:-2}"; shift $(( $# < 4 ? $# : 4 ))
HERE="$(cd "$(dirname "$0")/.." && pwd)"
JAR="${SPARKMERGE_JAR:-$(ls "$HERE"/target/sparkmerge-*.jar | grep -v original | head -1)}"
# a plain assignment, so that a failed dry-run stops the script (set -e) instead of submitting unsized
MEM_CONF="$("$HERE"/jobs/executor-memory.sh "$CONFIG" "$OUT" "$PARTITIONS" "$CORES")"
# shellcheck disable=SC2086  # MEM_CONF is several --conf flags
exec spark-submit --master yarn --deploy-mode cluster --name "sparkmerge merge $(basename "$CONFIG")" \
  --class io.sparkmerge.cli.Main \
  --num-executors "${NUM_EXECUTORS:-$(( (PARTITIONS + CORES - 1) / CORES ))}" \
  $MEM_CONF \
  --conf spark.yarn.maxAppAttempts=1 \
  --files "$CONFIG" \
  "$JAR" merge "$(basename "$CONFIG")" "$OUT" --partitions "$PARTITIONS" "$@"
