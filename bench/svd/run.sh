#!/usr/bin/env bash
# SVD benchmark (not a test): sparkmerge's SVD (LAPACKE sgesdd on ND4J buffers, as iso_c/iso_cts/tsv_m
# run it) versus scipy's gesdd and numpy's svd on the SAME random float32 matrices, median of N after a
# warm-up, with the same BLAS thread count; then one full iso_cts layer. Appends the table to
# docs/benchmarks.md unless --no-record.
# Usage: bench/svd/run.sh [--sizes "1024x1024 4096x4096 4096x11008"] [--reps 3] [--threads 2] [--no-record]
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SIZES="1024x1024 4096x4096 4096x11008"; REPS=3; THREADS=$(nproc); RECORD=1
CMDLINE="bench/svd/run.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) SIZES="$2"; shift 2;;
    --reps) REPS="$2"; shift 2;;
    --threads) THREADS="$2"; shift 2;;
    --no-record) RECORD=0; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
SPEC_LINES=$(bash "$HOME_DIR/bench/svd/matrices.sh" "$HOME_DIR/target/bench/svd" "$SIZES")
mapfile -t SPECS <<< "$SPEC_LINES"
(cd "$HOME_DIR" && mvn -q -B -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt >&2)
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
OPENS=$(grep -o -- '--add-opens=[^ ]*' "$HOME_DIR/bin/sparkmerge" | tr '\n' ' ')
# shellcheck disable=SC2086
JAVA_OUT=$(java $OPENS -cp "$HOME_DIR/target/test-classes:$HOME_DIR/target/classes:$(cat "$HOME_DIR/target/test-classpath.txt")" \
  io.sparkmerge.bench.SvdBench "$THREADS" "$REPS" "${SPECS[@]}" 2>/dev/null)
PY_OUT=$(python3 "$HOME_DIR/bench/svd/scipy_svd.py" "$REPS" "${SPECS[@]}")
CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
TABLE=$(
  echo "### $(date -u +%Y-%m-%d) — SVD: \`$CMDLINE\`"
  echo
  echo "Machine: $(nproc) cores ($CPU), $THREADS BLAS threads for every contender, float32, median of $REPS after a warm-up;"
  echo "numpy $(python3 -c 'import numpy; print(numpy.__version__)'), scipy $(python3 -c 'import scipy; print(scipy.__version__)'), $(java -version 2>&1 | head -1)."
  echo
  echo "| matrix | sparkmerge (LAPACKE sgesdd) s | scipy gesdd s | numpy svd s | sparkmerge / scipy |"
  echo "|---|---|---|---|---|"
  while read -r size ours _; do
    [[ "$size" == iso_cts || "$size" == "#"* ]] && continue
    read -r _ sc np <<< "$(grep "^$size " <<< "$PY_OUT")"
    printf '| %s | %s | %s | %s | %.2f |\n' "$size" "$ours" "$sc" "$np" "$(python3 -c "print($ours/$sc)")"
  done <<< "$JAVA_OUT"
  echo
  grep '^iso_cts' <<< "$JAVA_OUT" | awk '{printf "Full iso_cts merge of one %s layer (3 task vectors, 6 SVDs + polar products): %s s.\n", $2, $3}'
  echo
)
echo "$TABLE"
if [[ "$RECORD" == 1 ]]; then
  echo "$TABLE" >> "$HOME_DIR/docs/benchmarks.md"
  echo "appended to docs/benchmarks.md" >&2
fi
