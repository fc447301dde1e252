#!/usr/bin/env bash
# Scaling check (not a test) for docs/scaling.md: the same merges with 1 and 2 executors, in one run.
#   - local mode: bin/sparkmerge merge CONFIG OUT --master local[1] | local[2]
#   - a real standalone cluster (jobs/local-cluster.sh: master + 2 workers of 1 core, separate JVMs),
#     the shaded jar submitted through SparkSubmit in client mode with spark.cores.max=1 | 2
#     (one or two executors)
# Wall time, the Spark stage (sparkmerge.json timings), CPU of the client JVM (for the cluster the
# executors' CPU is in the workers' children and not counted there). Uses bench/run.sh's family and
# configs (run that first). Prints a Markdown table.
#
# Usage: bench/scaling.sh [--family 1b] [--methods "linear ties"] [--executor-memory 2g]
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FAMILY=1b; METHODS="linear ties"; EXEC_MEM=2g; DIR="$HOME_DIR/target/bench"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --family) FAMILY="$2"; shift 2;;
    --methods) METHODS="$2"; shift 2;;
    --executor-memory) EXEC_MEM="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[[ -f "$DIR/family-$FAMILY-3/.complete" ]] || { echo "run bench/run.sh --family $FAMILY first (it generates the family and configs)" >&2; exit 2; }
JAR="$(ls "$HOME_DIR"/target/sparkmerge-*.jar 2>/dev/null | grep -v original | head -1)"
[[ -n "$JAR" ]] || { echo "no shaded jar: mvn -B -DskipTests package" >&2; exit 2; }
SM="$HOME_DIR/bin/sparkmerge"
"$SM" --version > /dev/null
cat "$DIR/family-$FAMILY-3"/*/*.safetensors > /dev/null   # warm cache
CLUSTER="$DIR/scaling-cluster"
OPENS=(-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true)
trap '"$HOME_DIR/jobs/local-cluster.sh" stop "$CLUSTER" >/dev/null 2>&1 || true' EXIT
MASTER_URL=$(WORKER_MEMORY=$((${EXEC_MEM%g} + 1))g "$HOME_DIR/jobs/local-cluster.sh" start "$CLUSTER" | tail -1)

now() { date +%s.%N; }
row() { # label method command... (CONFIG OUT appended)
  local label=$1 m=$2; shift 2
  local out="$DIR/scaling-out"
  rm -rf "$out"
  local t0 t1
  t0=$(now)
  /usr/bin/time -v -o "$DIR/scaling-time.txt" "$@" "$DIR/$m.yml" "$out" > "$DIR/scaling-$m-$label.log" 2>&1 \
    || { echo "$label $m failed; see $DIR/scaling-$m-$label.log" >&2; tail -3 "$DIR/scaling-$m-$label.log" >&2; exit 1; }
  t1=$(now)
  local stage cpu
  stage=$(python3 -c "import json; print(json.load(open('$out/sparkmerge.json'))['timings_ms']['merge'] / 1000)")
  cpu=$(awk -F: '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$DIR/scaling-time.txt")
  printf "| %s | %s | %.1f | %.1f | %s |\n" "$m" "$label" "$(echo "$t1 - $t0" | bc -l)" "$stage" "$cpu"
}
SUBMIT=(java "${OPENS[@]}" -Xmx1g -cp "$(cat "$HOME_DIR/target/classpath.txt")" org.apache.spark.deploy.SparkSubmit
  --master "$MASTER_URL" --deploy-mode client --class io.sparkmerge.cli.Main
  --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 --conf spark.ui.enabled=false
  --conf spark.executor.memory="$EXEC_MEM")
echo "| method | executors | wall s | Spark stage s | client JVM CPU s |"
echo "|---|---|---|---|---|"
for m in $METHODS; do
  row "local[1]" "$m" "$SM" merge --master "local[1]"
  row "local[2]" "$m" "$SM" merge --master "local[2]"
  row "standalone, 1 executor" "$m" "${SUBMIT[@]}" --conf spark.cores.max=1 "$JAR" merge
  row "standalone, 2 executors" "$m" "${SUBMIT[@]}" --conf spark.cores.max=2 "$JAR" merge
done
