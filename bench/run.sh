#!/usr/bin/env bash
# Merge benchmark (not a test). In one run, on the same files with a warm page cache:
#   - the I/O floor: every input byte read once (cat > /dev/null) + the output's bytes written (dd);
#   - sparkmerge merge with each method (bin/sparkmerge, local mode), wall time and peak RSS of the
#     JVM (driver and executor are one JVM in local mode); iso_cts on a reduced layer set (the 2-D
#     tensors of layer 0 go through the SVDs, every other tensor takes the mean path);
#   - the peer, bench/peer_numpy.py (single-process numpy over memory maps), for the methods it has,
#     right after sparkmerge's run of the same method; for linear the two outputs are compared
#     (within 1 ulp of the output dtype) as a sanity check, and the run fails if they differ.
#   - per core: for linear and task_arithmetic also sparkmerge in local[1] against the peer (one
#     process, one core), and every row's Spark stage GB/s divided by the master's cores;
#   - with --compare DIR (another checkout or snapshot, built; e.g. the commit before a change), that
#     build's run of each method right before this one's, as its own row: ratios within one run on a
#     shared machine; the two outputs' per-tensor SHA-256 (from sparkmerge.json) must be identical, or
#     the run fails. --keep-digests DIR keeps every output's per-tensor digests there.
# CPU s is user + sys of the whole process (/usr/bin/time): on a loaded shared machine it moves far
# less than wall time. The load average is printed with every row.
# Prints a table of ratios (sparkmerge / floor, sparkmerge / peer) and appends it, with the command,
# machine, load and date, to docs/benchmarks.md (unless --no-record).
#
# Usage: bench/run.sh [--family 1b|medium|small|tiny] [--fine-tunes 3]
#                     [--methods "linear ties dare_ties iso_cts"] [--master local[2]] [--dir DIR]
#                     [--compare DIR] [--keep-digests DIR] [--no-peer] [--no-per-core] [--no-record]
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FAMILY=1b; FT=3; METHODS="linear ties dare_ties iso_cts"; MASTER="local[2]"; DIR="$HOME_DIR/target/bench"; RECORD=1
PEER=1; PY="${PYTHON:-python3}"; COMPARE=""; DIGESTS=""; PER_CORE=1
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
    --no-per-core) PER_CORE=0; shift;;
    --compare) COMPARE="$(cd "$2" && pwd)"; shift 2;;
    --keep-digests) DIGESTS="$2"; mkdir -p "$DIGESTS"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
SM="$HOME_DIR/bin/sparkmerge"
case "$MASTER" in local\[\*\]|local) CORES=$(nproc);; local\[*\]) CORES=${MASTER#local[}; CORES=${CORES%]};; *) CORES=1;; esac
# A build's label: its commit (+dirty with uncommitted changes), or the first line of SNAPSHOT_OF in a copied tree.
label() {
  if [[ -f "$1/SNAPSHOT_OF" ]]; then head -1 "$1/SNAPSHOT_OF"
  else echo "$(git -C "$1" rev-parse --short HEAD)$(git -C "$1" diff --quiet HEAD -- src bin pom.xml || echo +dirty)"; fi
}
# shellcheck source=bench/family.sh
source "$HOME_DIR/bench/family.sh"
MODEL_BYTES=$(bytes "${MODELS[@]}")

now() { date +%s.%N; }
# Build before anything is timed (bin/sparkmerge compiles when the sources are newer than its classes), and let the
# launcher record its class-data archive (the first merge/batch/demo after a build does, and runs slower) with a demo.
for build in "$HOME_DIR" ${COMPARE:+"$COMPARE"}; do
  "$build/bin/sparkmerge" --version > /dev/null
  "$build/bin/sparkmerge" demo --dir "$DIR/warm-up" > /dev/null 2>&1 || echo "bench: $build: the warm-up demo failed" >&2
  rm -rf "$DIR/warm-up"
done
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

# One sparkmerge run: BUILD METHOD MASTER TAG; appends a row and leaves OUT and the digests.
run_one() {
  local build=$1 m=$2 master=$3 tag=$4 t0 t1 wall rss merge_s cpu cores vs_peer
  OUT="$DIR/out-$m"
  rm -rf "$OUT"
  t0=$(now)
  /usr/bin/time -v -o "$DIR/time-$m.txt" "$build/bin/sparkmerge" merge "$CFG" "$OUT" --master "$master" > "$DIR/merge-$m.log" 2>&1 \
    || { echo "merge $m ($tag) failed; see $DIR/merge-$m.log" >&2; tail -5 "$DIR/merge-$m.log" >&2; exit 1; }
  t1=$(now)
  wall=$(echo "$t1 - $t0" | bc -l)
  rss=$(rss_mb "$DIR/time-$m.txt")
  cpu=$(awk -F: '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$DIR/time-$m.txt")
  merge_s=$("$PY" -c "import json; print(json.load(open('$OUT/sparkmerge.json'))['timings_ms']['merge'] / 1000)")
  "$PY" -c "import json,sys; [print(k, v['sha256']) for k, v in sorted(json.load(open('$OUT/sparkmerge.json'))['tensors'].items())]" \
    > "$DIR/digests-$tag-$m-$master.txt"
  if [[ -n "$DIGESTS" ]]; then cp "$DIR/digests-$tag-$m-$master.txt" "$DIGESTS/"; fi
  case "$master" in local\[1\]) cores=1;; *) cores=$CORES;; esac
  vs_peer="—"; [[ -n "$PEER_S" ]] && vs_peer=$(printf '%.2f' "$(echo "$wall / $PEER_S" | bc -l)")
  ROWS+=("$(printf '| %s | %s | %s | %.1f | %s | %.1f | %.1f | %.2f | %s | %s | %.2f | %.2f | %s | %s | %s |' "$m" "$tag" "$master" \
      "$wall" "$cpu" "$merge_s" "$F" "$(echo "$wall / $F" | bc -l)" "$([[ -n "$PEER_S" ]] && printf '%.1f' "$PEER_S" || echo —)" "$vs_peer" \
      "$(echo "$B / $merge_s / 1000000000" | bc -l)" "$(echo "$B / $merge_s / 1000000000 / $cores" | bc -l)" "$rss" "$PEER_RSS" \
      "$(cut -d' ' -f1-3 /proc/loadavg)")")
  echo "${ROWS[-1]}" | tee -a "$DIR/rows.partial" >&2 # a row at a time, should a long run be stopped
}

ROWS=(); IDENTICAL=()
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
  if [[ "$m" == linear ]]; then F=$FLOOR_MODELS; B=$MODEL_BYTES; else F=$FLOOR; B=$IN_BYTES; fi
  PC=$(peer_cmd "$m" "$DIR/peer-$m.safetensors")
  PEER_S=""; PEER_RSS="—"
  if [[ "$PEER" == 1 && -n "$PC" ]]; then
    rm -f "$DIR/peer-$m.safetensors"
    t0=$(now)
    # shellcheck disable=SC2086
    /usr/bin/time -v -o "$DIR/time-peer-$m.txt" $PC > "$DIR/peer-$m.log" 2>&1 \
      || { echo "peer $m failed; see $DIR/peer-$m.log" >&2; tail -5 "$DIR/peer-$m.log" >&2; exit 1; }
    t1=$(now)
    PEER_S=$(echo "$t1 - $t0" | bc -l)
    PEER_RSS=$(rss_mb "$DIR/time-peer-$m.txt")
  fi
  BUILDS=("$HOME_DIR"); [[ -n "$COMPARE" ]] && BUILDS=("$COMPARE" "$HOME_DIR")
  for build in "${BUILDS[@]}"; do
    tag=$(label "$build")
    run_one "$build" "$m" "$MASTER" "$tag"
    if [[ "$PER_CORE" == 1 && -n "$PEER_S" && ( "$m" == linear || "$m" == task_arithmetic ) && "$MASTER" != "local[1]" ]]; then
      run_one "$build" "$m" "local[1]" "$tag"
    fi
  done
  if [[ -n "$COMPARE" ]]; then
    cmp -s "$DIR/digests-$(label "$COMPARE")-$m-$MASTER.txt" "$DIR/digests-$(label "$HOME_DIR")-$m-$MASTER.txt" \
      || { echo "outputs differ: $m by $(label "$COMPARE") and $(label "$HOME_DIR") (digests in $DIR)" >&2; exit 1; }
    echo "$m: per-tensor SHA-256 identical for $(label "$COMPARE") and $(label "$HOME_DIR")" >&2
    IDENTICAL+=("$m")
  fi
  if [[ -n "$PEER_S" && "$m" == linear ]]; then
    "$PY" "$HOME_DIR/bench/peer_numpy.py" compare "$DIR/out-$m" "$DIR/peer-$m.safetensors" --ulps 1 >&2 \
      || { echo "sanity check failed: sparkmerge's and the peer's linear merges differ" >&2; exit 1; }
  fi
  rm -f "$DIR/peer-$m.safetensors"
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
  echo "| method | build | master | wall s | CPU s | Spark stage s | floor s | wall × floor | peer s | wall / peer | stage GB/s | stage GB/s per core | JVM peak RSS MB | peer peak RSS MB | load avg |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  if [[ ${#IDENTICAL[@]} -gt 0 ]]; then echo "Per-tensor SHA-256 identical between the builds for: ${IDENTICAL[*]}."; echo; fi
)
echo "$TABLE"
if [[ "$RECORD" == 1 ]]; then
  echo "$TABLE" >> "$HOME_DIR/docs/benchmarks.md"
  echo "appended to docs/benchmarks.md" >&2
fi
