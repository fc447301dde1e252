#!/usr/bin/env bash
# S3 throughput benchmark (not a test): S3A against S3Proxy on 127.0.0.1, in the benchmark's own JVM
# (io.sparkmerge.bench.S3Bench, the test suite's S3 server: an in-memory store, so the figures are
# S3A + HTTP + S3Proxy on loopback, no disk and no network). In one run:
#   - writes: the family's files uploaded through S3A (block output, multipart above fs.s3a.multipart.size);
#   - reads: every tensor read back with 64 MB positioned reads (as executors read), under
#     fs.s3a.experimental.input.fadvise sequential and random;
#   - a linear merge local → local and the same merge S3 → S3 (local[2,4]), with the plan, Spark stage
#     and commit times; on S3 the commit copies every shard twice (promote into staging, publish into OUT).
# Prints the table and appends it, with the command, machine, load and date, to docs/benchmarks.md
# (unless --no-record).
# Usage: bench/s3/run.sh [--family small|medium] [--fine-tunes 2] [--heap 4g] [--no-record]
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FAMILY=small; FT=2; HEAP=4g; RECORD=1
CMDLINE="bench/s3/run.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --family) FAMILY="$2"; shift 2;;
    --fine-tunes) FT="$2"; shift 2;;
    --heap) HEAP="$2"; shift 2;;
    --no-record) RECORD=0; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
DIR="$HOME_DIR/target/bench"
FAM="$DIR/family-$FAMILY-$FT"
mkdir -p "$DIR"
if [[ ! -f "$FAM/.complete" ]]; then
  rm -rf "$FAM"
  echo "generating the $FAMILY family (base + $FT fine-tunes) in $FAM ..." >&2
  "$HOME_DIR/bin/sparkmerge" synth "$FAM" --family "$FAMILY" --fine-tunes "$FT" >&2
  touch "$FAM/.complete"
fi
MODELS=(base)
for i in $(seq 1 "$FT"); do MODELS+=("ft-$i"); done
(cd "$HOME_DIR" && mvn -q -B -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt >&2)
OPENS=$(grep -o -- '--add-opens=[^ ]*' "$HOME_DIR/bin/sparkmerge" | tr '\n' ' ')
# shellcheck disable=SC2086
ROWS=$(java -Xmx"$HEAP" $OPENS -Dlog4j2.configurationFile="$HOME_DIR/src/test/resources/log4j2-test.xml" \
  -cp "$HOME_DIR/target/test-classes:$HOME_DIR/target/classes:$(cat "$HOME_DIR/target/test-classpath.txt")" \
  io.sparkmerge.bench.S3Bench "$FAM" "${MODELS[@]}" 2>"$DIR/s3bench.log") \
  || { echo "S3Bench failed; see $DIR/s3bench.log" >&2; tail -5 "$DIR/s3bench.log" >&2; exit 1; }
CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
MEM=$(free -g | awk '/Mem:/ {print $2}')
IN_BYTES=$(cat "$FAM"/*/*.safetensors | wc -c)
TABLE=$(
  echo "### $(date -u +%Y-%m-%d) — S3 through S3Proxy on loopback: \`$CMDLINE\`"
  echo
  echo "Machine: $(nproc) cores ($CPU), ${MEM} GiB RAM, $(java -version 2>&1 | head -1), JVM -Xmx$HEAP; load average at the end:"
  echo "$(cut -d' ' -f1-3 /proc/loadavg). Family \`$FAMILY\`: base + $FT fine-tunes, $(printf '%.2f' "$(echo "$IN_BYTES / 1000000000" | bc -l)") GB of safetensors."
  echo "S3A defaults (fs.s3a.multipart.size 64M, fs.s3a.fast.upload.buffer disk, fs.s3a.threads.max 96), S3Proxy 2.6.0 with"
  echo "jclouds' in-memory store, AWS SDK 2.25.0, Hadoop 3.4.1; code at commit $(git -C "$HOME_DIR" rev-parse --short HEAD)."
  echo
  echo "| what | MB | s | MB/s | notes |"
  echo "|---|---|---|---|---|"
  echo "$ROWS"
  echo
)
echo "$TABLE"
if [[ "$RECORD" == 1 ]]; then
  echo "$TABLE" >> "$HOME_DIR/docs/benchmarks.md"
  echo "appended to docs/benchmarks.md" >&2
fi
