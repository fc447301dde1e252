#!/usr/bin/env bash
# extract-lora's SVD threshold (not a test): exact (gesdd) vs randomised truncated SVD on float32 matrices with a
# power-law spectrum σ_i = (i + 1)^-DECAY, time (median of REPS after a warm-up) and ‖τ − B·A‖_F / ‖τ‖_F of each.
# Usage: bench/lora/run.sh [--sizes 512x512,1024x1024,2048x2048] [--ranks 16,64,128] [--decay 0.5] [--reps 3] [--threads 2]
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SIZES="512x512,1024x1024,2048x2048"; RANKS="16,64,128"; DECAY=0.5; REPS=3; THREADS=$(nproc)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) SIZES="$2"; shift 2;;
    --ranks) RANKS="$2"; shift 2;;
    --decay) DECAY="$2"; shift 2;;
    --reps) REPS="$2"; shift 2;;
    --threads) THREADS="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
(cd "$HOME_DIR" && mvn -q -B -o -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt >&2)
export OMP_NUM_THREADS=$THREADS
OPENS=$(grep -o -- '--add-opens=[^ ]*' "$HOME_DIR/bin/sparkmerge" | tr '\n' ' ')
echo "# $(date -u +%Y-%m-%d) bench/lora/run.sh --sizes $SIZES --ranks $RANKS --decay $DECAY --reps $REPS --threads $THREADS; $(nproc) cores"
echo "# matrix rank svd_s randomized_s svd_error randomized_error"
# shellcheck disable=SC2086
java $OPENS -cp "$HOME_DIR/target/test-classes:$HOME_DIR/target/classes:$(cat "$HOME_DIR/target/test-classpath.txt")" \
  io.sparkmerge.bench.LoraSvdBench "$THREADS" "$REPS" "$DECAY" "$SIZES" "$RANKS" 2>/dev/null
