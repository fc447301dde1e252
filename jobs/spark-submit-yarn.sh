#!/usr/bin/env bash
# Submit a merge to YARN (cluster deploy mode) with executors sized from the merge's --dry-run plan.
# The config is shipped with --files, so the driver (in a YARN container) reads it by its base name.
# Build the jar first: mvn -B -DskipTests package. HADOOP_CONF_DIR must point at the cluster's config.
# Logging: the driver uses the jar's quiet log4j2 configuration, or SPARKMERGE_LOG_CONF (a local file, shipped
# with --files and named to the driver's Main by spark.yarn.appMasterEnv); so does spark-submit on this machine.
# Usage: jobs/spark-submit-yarn.sh CONFIG hdfs:///models/merged [PARTITIONS] [EXECUTOR_CORES] [--overwrite ...]
set -euo pipefail
CONFIG="$1"; OUT="$2"; PARTITIONS="${3:-64}"; CORES="${4:-2}"; shift $(( $# < 4 ? $# : 4 ))
HERE="$(cd "$(dirname "$0")/.." && pwd)"
JAR="${SPARKMERGE_JAR:-$(ls "$HERE"/target/sparkmerge-*.jar | grep -v original | head -1)}"
. "$HERE/jobs/log-conf.sh" "$JAR"
FILES="$CONFIG"
LOG_ARGS=()
if [ -n "${SPARKMERGE_LOG_CONF:-}" ]; then
  FILES="$CONFIG,$SPARKMERGE_LOG_CONF"
  LOG_ARGS=(--conf "spark.yarn.appMasterEnv.SPARKMERGE_LOG_CONF=$(basename "$SPARKMERGE_LOG_CONF")")
fi
# a plain assignment, so that a failed dry-run stops the script (set -e) instead of submitting unsized
MEM_CONF="$("$HERE"/jobs/executor-memory.sh "$CONFIG" "$OUT" "$PARTITIONS" "$CORES")"
# shellcheck disable=SC2086  # MEM_CONF is several --conf flags
exec spark-submit --master yarn --deploy-mode cluster --name "sparkmerge merge $(basename "$CONFIG")" \
  --class io.sparkmerge.cli.Main \
  --num-executors "${NUM_EXECUTORS:-$(( (PARTITIONS + CORES - 1) / CORES ))}" \
  $MEM_CONF \
  --conf spark.yarn.maxAppAttempts=1 \
  ${LOG_ARGS[@]+"${LOG_ARGS[@]}"} \
  --files "$FILES" \
  "$JAR" merge "$(basename "$CONFIG")" "$OUT" --partitions "$PARTITIONS" "$@"
