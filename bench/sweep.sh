#!/usr/bin/env bash
# Sweep cost benchmark (not a test; issue 18). In one run, on the same files with a warm page cache, per method:
#   - one merge (sparkmerge merge, lambda 1);
#   - a sweep of N candidates that differ only by lambda (sparkmerge sweep --grid lambda=0.25:4:log:N, no eval);
#   - the floor's write time for the sweep's extra output bytes (N − 1 outputs written with dd).
# Prints wall and Spark-stage times and the ratios sweep / merge and sweep / (merge + extra writes), and appends
# the table, with the command, machine, load and date, to docs/benchmarks.md (unless --no-record).
# Targets (issue 18, on 1b): 8 TIES candidates ≤ 2 × one TIES merge + the extra bytes at the floor's write
# speed; 8 Iso-C candidates ≤ 1.2 × one Iso-C merge.
#
# Usage: bench/sweep.sh [--family 1b|medium|small|tiny] [--fine-tunes 3] [--candidates 8]
#                       [--methods "ties iso_c"] [--master local[2]] [--dir DIR] [--no-record]
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FAMILY=medium; FT=3; N=8; METHODS="ties iso_c"; MASTER="local[2]"; DIR="$HOME_DIR/target/bench-sweep"; RECORD=1
PY="${PYTHON:-python3}"
CMDLINE="bench/sweep.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --family) FAMILY="$2"; shift 2;;
    --fine-tunes) FT="$2"; shift 2;;
    --candidates) N="$2"; shift 2;;
    --methods) METHODS="$2"; shift 2;;
    --master) MASTER="$2"; shift 2;;
    --dir) DIR="$2"; shift 2;;
    --no-record) RECORD=0; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
SM="$HOME_DIR/bin/sparkmerge"
# shellcheck source=bench/family.sh
source "$HOME_DIR/bench/family.sh"
now() { date +%s.%N; }
"$SM" --version > /dev/null
cat "${INPUTS[@]}" > /dev/null

# the floor's time to write (N − 1) more outputs
t0=$(now)
for k in $(seq 2 "$N"); do
  dd if=/dev/zero of="$DIR/floor.out" bs=16M count=$(( (OUT_BYTES + 16777215) / 16777216 )) conv=fsync status=none
  rm -f "$DIR/floor.out"
done
EXTRA_WRITE=$(echo "$(now) - $t0" | bc -l)

stage_s() { "$PY" -c "import json,sys; t=json.load(open(sys.argv[1]))['timings_ms']; print(t.get('merge', t.get('merge_all_candidates', 0)) / 1000)" "$1"; }
ROWS=()
for m in $METHODS; do
  CFG="$DIR/$m.yml"
  {
    echo "merge_method: $m"
    echo "base_model: $FAM/base"
    echo "models:"
    for i in $(seq 1 "$FT"); do
      echo "  - model: $FAM/ft-$i"
      case "$m" in
        ties|dare_ties) echo "    parameters: {weight: 1.0, density: 0.3}";;
        *) echo "    parameters: {weight: 1.0}";;
      esac
    done
    # the SVD methods: embeddings and lm_head take the mean path, every layer matrix the SVD path
    [[ "$m" == iso_c || "$m" == iso_cts || "$m" == tsv_m ]] && echo 'parameters: {lambda: 1.0, filter: "embed_tokens|lm_head"}'
    [[ "$m" != iso_c && "$m" != iso_cts && "$m" != tsv_m ]] && echo 'parameters: {lambda: 1.0}'
    echo "seed: 1"
  } > "$CFG"
  rm -rf "$DIR/merge-$m" "$DIR/sweep-$m"
  t0=$(now)
  "$SM" merge "$CFG" "$DIR/merge-$m" --master "$MASTER" > "$DIR/merge-$m.log" 2>&1 \
    || { echo "merge $m failed; see $DIR/merge-$m.log" >&2; tail -5 "$DIR/merge-$m.log" >&2; exit 1; }
  MERGE_WALL=$(echo "$(now) - $t0" | bc -l)
  MERGE_STAGE=$(stage_s "$DIR/merge-$m/sparkmerge.json")
  t0=$(now)
  "$SM" sweep "$CFG" "$DIR/sweep-$m" --grid "lambda=0.25:4:log:$N" --master "$MASTER" > "$DIR/sweep-$m.log" 2>&1 \
    || { echo "sweep $m failed; see $DIR/sweep-$m.log" >&2; tail -5 "$DIR/sweep-$m.log" >&2; exit 1; }
  SWEEP_WALL=$(echo "$(now) - $t0" | bc -l)
  FIRST=$(ls "$DIR/sweep-$m/candidates" | head -1)
  SWEEP_STAGE=$(stage_s "$DIR/sweep-$m/candidates/$FIRST/sparkmerge.json")
  ROWS+=("$(printf '| %s | %d | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.1f | %.2f |' "$m" "$N" "$MERGE_WALL" "$MERGE_STAGE" \
      "$SWEEP_WALL" "$SWEEP_STAGE" "$(echo "$SWEEP_WALL / $MERGE_WALL" | bc -l)" "$(echo "$SWEEP_STAGE / $MERGE_STAGE" | bc -l)" \
      "$EXTRA_WRITE" "$(echo "$SWEEP_WALL / ($MERGE_WALL + $EXTRA_WRITE)" | bc -l)")")
  rm -rf "$DIR/merge-$m" "$DIR/sweep-$m"
done

CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
MEM=$(free -g | awk '/Mem:/ {print $2}')
TABLE=$(
  echo "### $(date -u +%Y-%m-%d) — sweep cost: \`$CMDLINE\`"
  echo
  echo "Machine: $(nproc) cores ($CPU), ${MEM} GiB RAM, $(java -version 2>&1 | head -1); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Family \`$FAMILY\`: base + $FT fine-tunes,"
  printf 'inputs %.2f GB, one output %.2f GB. Master `%s`. One merge (λ = 1) vs a sweep of N candidates (`--grid lambda=0.25:4:log:N`, no eval);\n' \
      "$(echo "$IN_BYTES / 1000000000" | bc -l)" "$(echo "$OUT_BYTES / 1000000000" | bc -l)" "$MASTER"
  echo "extra writes = the floor's time (dd, fsync) to write N − 1 more outputs. Stage = the Spark stage (manifest timings)."
  echo
  echo "| method | N | merge wall s | merge stage s | sweep wall s | sweep stage s | sweep / merge (wall) | sweep / merge (stage) | extra writes s | sweep / (merge + extra writes) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
)
echo "$TABLE"
if [[ "$RECORD" == 1 ]]; then
  echo "$TABLE" >> "$HOME_DIR/docs/benchmarks.md"
  echo "appended to docs/benchmarks.md" >&2
fi
