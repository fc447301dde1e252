#!/usr/bin/env bash
# Submit a merge to Kubernetes (cluster deploy mode) with executors sized from the merge's --dry-run plan.
# IMAGE is a Spark 4.0 image with the shaded jar at /opt/sparkmerge/sparkmerge.jar and the config at
# /opt/sparkmerge/CONFIG (or mount them); models and OUT live on shared storage (hdfs://, s3a://).
# Logging: the driver uses the jar's quiet log4j2 configuration, or with SPARKMERGE_LOG_CONF=FILE the image's
# /opt/sparkmerge/<FILE's name> (put it there beside the config); spark-submit on this machine uses FILE itself.
# Usage: IMAGE=registry/sparkmerge:0.1.0 jobs/spark-submit-k8s.sh k8s://https://api.example:6443 CONFIG s3a://bucket/merged [PARTITIONS] [CORES]
set -euo pipefail
MASTER="$1"; CONFIG="$2"; OUT="$3"; PARTITIONS="${4:-64}"; CORES="${5:-2}"; shift $(( $# < 5 ? $# : 5 ))
: "${IMAGE:?set IMAGE to a Spark 4.0 image holding /opt/sparkmerge/sparkmerge.jar}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
# the local jar (as executor-memory.sh's dry-run uses it) carries the log configuration of spark-submit here
. "$HERE/jobs/log-conf.sh" "${SPARKMERGE_JAR:-$(ls "$HERE"/target/sparkmerge-*.jar | grep -v original | head -1)}"
LOG_ARGS=()
if [ -n "${SPARKMERGE_LOG_CONF:-}" ]; then
  LOG_ARGS=(--conf "spark.kubernetes.driverEnv.SPARKMERGE_LOG_CONF=/opt/sparkmerge/$(basename "$SPARKMERGE_LOG_CONF")")
fi
# a plain assignment, so that a failed dry-run stops the script (set -e) instead of submitting unsized
MEM_CONF="$("$HERE"/jobs/executor-memory.sh "$CONFIG" "$OUT" "$PARTITIONS" "$CORES")"
# shellcheck disable=SC2086  # MEM_CONF is several --conf flags
exec spark-submit --master "$MASTER" --deploy-mode cluster --name "sparkmerge-merge" \
  --class io.sparkmerge.cli.Main \
  --conf spark.kubernetes.container.image="$IMAGE" \
  --conf spark.kubernetes.namespace="${NAMESPACE:-default}" \
  --conf spark.kubernetes.authenticate.driver.serviceAccountName="${SERVICE_ACCOUNT:-spark}" \
  --conf spark.executor.instances="${NUM_EXECUTORS:-$(( (PARTITIONS + CORES - 1) / CORES ))}" \
  $MEM_CONF \
  ${LOG_ARGS[@]+"${LOG_ARGS[@]}"} \
  local:///opt/sparkmerge/sparkmerge.jar merge "/opt/sparkmerge/$(basename "$CONFIG")" "$OUT" --partitions "$PARTITIONS" "$@"
