#!/usr/bin/env bash
# Merge benchmark (not a test). In one run, on the same files with a warm page cache:
#   - the I/O floor: every input byte read once (cat > /dev/null) + the output's bytes written (dd);
#   - sparkmerge merge with each method (bin/sparkmerge, local mode), wall time and peak RSS of the
#     JVM (driver and executor are one JVM in local mode); iso_cts on a reduced layer set (the 2-D
#     tensors of layer 0 go through the SVDs, every other tensor takes the mean path);
#   - the peer, bench/peer_numpy.py (single-process numpy over memory maps), for the methods it has,
#     right after sparkmerge's run of the same method; for linear the two outputs are compared
#     (within 1 ulp of the output dtype) as a sanity check, and the run fails if they differ.
# Prints a table of ratios (sparkmerge / floor, sparkmerge / peer) and appends it, with the command,
# machine, load and date, to docs/benchmarks.md (unless --no-record).
#
# Usage: bench/run.sh [--family 1b|medium|small|tiny] [--fine-tunes 3]
#                     [--methods "linear ties dare_ties iso_cts"] [--master local[2]] [--dir DIR]
#                     [--no-peer] [--no-record]
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FAMILY=1b; FT=3; METHODS="linear ties dare_ties iso_cts"; MASTER="local[2]"; DIR="$HOME_DIR/target/bench"; RECORD=1
PEER=1; PY="${PYTHON:-python3}"
CMDLINE="bench/run.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --family) FAMILY="$2"; shift 2;;
    --fine-tunes) FT="$2"; shift 2;;
    --methods) METHODS="$2"; shift 2;;
    --master) MASTER="$2"; shift 2;;
    --dir) DIR="$2"; shift 2;;
    --no-record) RECORD=0; shift;;
    --no-peer) PEER=0; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
SM="$HOME_DIR/bin/sparkmerge"
# shellcheck source=bench/family.sh
source "$HOME_DIR/bench/family.sh"
MODEL_BYTES=$(cat "${MODELS[@]}" | wc -c)

now() { date +%s.%N; }
# Build before anything is timed (bin/sparkmerge compiles when the sources are newer than its classes).
"$SM" --version > /dev/null
# Warm the page cache for every contender alike.
cat "${INPUTS[@]}" > /dev/null

# The floor of a method: read the files it reads once, write the output once. Methods with a base
# read every input; linear (no base) reads only the fine-tunes.
floor() {
  local t0 t1
  t0=$(now)
  cat "$@" > /dev/null
  dd if=/dev/zero of="$DIR/floor.out" bs=16M count=$(( (OUT_BYTES + 16777215) / 16777216 )) status=none
  t1=$(now)
  rm -f "$DIR/floor.out"
  echo "$t1 - $t0" | bc -l
}
FLOOR=$(floor "${INPUTS[@]}")
FLOOR_MODELS=$(floor "${MODELS[@]}")

# The peer's command for a method (empty when it does not implement it).
peer_cmd() {
  local m=$1 out=$2
  case "$m" in
    linear) echo "$PY $HOME_DIR/bench/peer_numpy.py merge linear $out --models ${FT_DIRS[*]} --weight 1.0";;
    task_arithmetic) echo "$PY $HOME_DIR/bench/peer_numpy.py merge $m $out --base $FAM/base --models ${FT_DIRS[*]} --weight 1.0";;
    ties|dare_ties) echo "$PY $HOME_DIR/bench/peer_numpy.py merge $m $out --base $FAM/base --models ${FT_DIRS[*]} --weight 1.0 --density 0.3 --seed 1";;
    *) echo "";;
  esac
}
FT_DIRS=()
for i in $(seq 1 "$FT"); do FT_DIRS+=("$FAM/ft-$i"); done
rss_mb() { awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); printf "%.0f", $2 / 1024}' "$1"; }

ROWS=()
for m in $METHODS; do
  CFG="$DIR/$m.yml"
  {
    echo "merge_method: $m"
    [[ "$m" != linear ]] && echo "base_model: $FAM/base"
    echo "models:"
    for i in $(seq 1 "$FT"); do
      echo "  - model: $FAM/ft-$i"
      case "$m" in
        linear|task_arithmetic) echo "    parameters: {weight: 1.0}";;
        iso_cts) ;;
        *) echo "    parameters: {weight: 1.0, density: 0.3}";;
      esac
    done
    # the reduced layer set: only layer 0's 2-D tensors take the SVD path
    [[ "$m" == iso_cts ]] && echo 'parameters: {filter: "embed_tokens|lm_head|layers\\.[1-9]"}'
    echo "seed: 1"
  } > "$CFG"
  OUT="$DIR/out-$m"
  rm -rf "$OUT"
  t0=$(now)
  /usr/bin/time -v -o "$DIR/time-$m.txt" "$SM" merge "$CFG" "$OUT" --master "$MASTER" > "$DIR/merge-$m.log" 2>&1 \
    || { echo "merge $m failed; see $DIR/merge-$m.log" >&2; tail -5 "$DIR/merge-$m.log" >&2; exit 1; }
  t1=$(now)
  WALL=$(echo "$t1 - $t0" | bc -l)
  if [[ "$m" == linear ]]; then F=$FLOOR_MODELS; B=$MODEL_BYTES; else F=$FLOOR; B=$IN_BYTES; fi
  RSS=$(rss_mb "$DIR/time-$m.txt")
  MERGE_S=$("$PY" -c "import json; print(json.load(open('$OUT/sparkmerge.json'))['timings_ms']['merge'] / 1000)")
  PEER_S="—"; VS_PEER="—"; PEER_RSS="—"
  PC=$(peer_cmd "$m" "$DIR/peer-$m.safetensors")
  if [[ "$PEER" == 1 && -n "$PC" ]]; then
    rm -f "$DIR/peer-$m.safetensors"
    t0=$(now)
    # shellcheck disable=SC2086
    /usr/bin/time -v -o "$DIR/time-peer-$m.txt" $PC > "$DIR/peer-$m.log" 2>&1 \
      || { echo "peer $m failed; see $DIR/peer-$m.log" >&2; tail -5 "$DIR/peer-$m.log" >&2; exit 1; }
    t1=$(now)
    PEER_S=$(printf '%.1f' "$(echo "$t1 - $t0" | bc -l)")
    VS_PEER=$(printf '%.2f' "$(echo "$WALL / ($t1 - $t0)" | bc -l)")
    PEER_RSS=$(rss_mb "$DIR/time-peer-$m.txt")
    if [[ "$m" == linear ]]; then
      "$PY" "$HOME_DIR/bench/peer_numpy.py" compare "$OUT" "$DIR/peer-$m.safetensors" --ulps 1 >&2 \
        || { echo "sanity check failed: sparkmerge's and the peer's linear merges differ" >&2; exit 1; }
    fi
    rm -f "$DIR/peer-$m.safetensors"
  fi
  ROWS+=("$(printf '| %s | %.1f | %.1f | %.1f | %.2f | %s | %s | %.2f | %s | %s |' "$m" "$WALL" "$MERGE_S" "$F" \
      "$(echo "$WALL / $F" | bc -l)" "$PEER_S" "$VS_PEER" "$(echo "$B / $WALL / 1000000000" | bc -l)" "$RSS" "$PEER_RSS")")
  rm -rf "$OUT"
done

CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
MEM=$(free -g | awk '/Mem:/ {print $2}')
TABLE=$(
  echo "### $(date -u +%Y-%m-%d) — \`$CMDLINE\`"
  echo
  echo "Machine: $(nproc) cores ($CPU), ${MEM} GiB RAM, $(java -version 2>&1 | head -1), $("$PY" -c 'import numpy, sys; print("python", sys.version.split()[0], "numpy", numpy.__version__)'); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Family \`$FAMILY\`: base + $FT fine-tunes,"
  printf 'inputs %.2f GB (fine-tunes alone %.2f GB), output %.2f GB. Master `%s`. Floor = the method'"'"'s input files read once + the output written, warm cache.\n' \
      "$(echo "$IN_BYTES / 1000000000" | bc -l)" "$(echo "$MODEL_BYTES / 1000000000" | bc -l)" "$(echo "$OUT_BYTES / 1000000000" | bc -l)" "$MASTER"
  echo
  echo "| method | wall s | Spark stage s | floor s | wall × floor | peer s | wall / peer | GB/s read | JVM peak RSS MB | peer peak RSS MB |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
)
echo "$TABLE"
if [[ "$RECORD" == 1 ]]; then
  echo "$TABLE" >> "$HOME_DIR/docs/benchmarks.md"
  echo "appended to docs/benchmarks.md" >&2
fi
