#!/usr/bin/env bash
# One-shot GPU check (not a test), for a machine with an NVIDIA GPU: builds sparkmerge with -Pcuda (the
# ND4J CUDA artifact that matches the machine's CUDA), runs the SVD benchmark on the CPU backend (LAPACKE
# gesdd) and on the GPU (cuSOLVER gesvd through ND4J), merges the `medium` family with iso_cts on both
# backends, compares the outputs (singular values; merged tensors ≤ 1e-4 relative per tensor) and prints
# one table with timings, ratios and the comparison. Meant to finish within 8 minutes including the build.
#
# --dry-run needs no GPU: it builds the CPU backend only and runs the GPU column with the CUDA code path
# on the CPU backend (-Dsparkmerge.linalg=nd4j: ND4J's lapack wrapper, LAPACK gesvd instead of cuSOLVER),
# so everything but CUDA itself runs end to end.
#
# Usage: bench/gpu/check.sh [--dry-run] [--family medium] [--sizes "1024x1024 2048x2048 4096x4096 4096x11008"]
#          [--reps 2] [--cuda-artifact nd4j-cuda-11.6|nd4j-cuda-11.4] [--redist] [--gpu-tasks 2] [--record]
#          [--work DIR] [--no-build]
# Exit: 0 every comparison within its limit (and, on a GPU, within 8 minutes), 1 otherwise, 2 bad usage.
# Work files and logs: --work (default target/gpu-check/); the family is cached in target/bench/gpu/ (in
# --work when given). --no-build (with --dry-run) skips Maven and runs the classes already built, on the
# classpath in $CHECK_CLASSPATH (the test suite runs it so).
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DRY=0; FAMILY=medium; SIZES="1024x1024 2048x2048 4096x4096 4096x11008"; REPS=2; ARTIFACT=""; REDIST=0
GPU_TASKS=2; RECORD=0; LIMIT=480; TOL=1e-4; W=""; BUILD=1
CMDLINE="bench/gpu/check.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY=1; shift;;
    --family) FAMILY="$2"; shift 2;;
    --sizes) SIZES="$2"; shift 2;;
    --reps) REPS="$2"; shift 2;;
    --cuda-artifact) ARTIFACT="$2"; shift 2;;
    --redist) REDIST=1; shift;;
    --gpu-tasks) GPU_TASKS="$2"; shift 2;;
    --record) RECORD=1; shift;;
    --work) W="$2"; shift 2;;
    --no-build) BUILD=0; shift;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "check.sh: unknown option $1 (see --help)" >&2; exit 2;;
  esac
done
if [[ -n "$W" ]]; then
  mkdir -p "$W"; W="$(cd "$W" && pwd)"; FAM="$W/family-$FAMILY"; MATS="$W/matrices"
else
  W="$HOME_DIR/target/gpu-check"; FAM="$HOME_DIR/target/bench/gpu/family-$FAMILY"; MATS="$HOME_DIR/target/bench/svd"
fi
if (( ! BUILD )) && { (( ! DRY )) || [[ -z "${CHECK_CLASSPATH:-}" ]]; }; then
  echo "check.sh: --no-build needs --dry-run and the classpath in CHECK_CLASSPATH" >&2; exit 2
fi
mkdir -p "$W" "$MATS"
THREADS=$(nproc)
START=$(date +%s.%N)
FAIL=0
ROWS=()
log() { echo "[check $(date +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "—" }'; }
within() { awk -v x="$1" -v t="$2" 'BEGIN { exit !(x != "" && x + 0 <= t + 0) }'; }
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

# --- 0. the machine and the ND4J CUDA artifact ----------------------------------------------------
# ND4J 1.0.0-M2.1 is on Maven Central as nd4j-cuda-11.6 (JavaCPP cuda 11.6-8.3-1.5.7) and nd4j-cuda-11.4
# (11.4-8.2-1.5.6) only (no 10.x, 11.0, 11.2, 11.8 or 12.x build of this release). A CUDA 11.4 toolkit
# takes 11.4; anything else takes 11.6, whose runtime a newer driver runs (CUDA's compatibility within 11.x
# and newer drivers' backward compatibility). Without CUDA 11 runtime libraries on the machine, --redist
# (or their absence, detected) adds -Pcuda-redist, which bundles them from Maven Central.
have_lib() {
  ldconfig -p 2>/dev/null | grep -q "$1" && return 0
  local d
  for d in ${LD_LIBRARY_PATH//:/ } /usr/local/cuda/lib64 /usr/local/cuda-11*/lib64; do
    compgen -G "$d/$1*" > /dev/null && return 0
  done
  return 1
}
PROFILES=""; GPU_PROPS=(); MACHINE_GPU=""
if (( DRY )); then
  MACHINE_GPU="none (--dry-run: the GPU column is the CUDA code path on the CPU backend, -Dsparkmerge.linalg=nd4j)"
  GPU_PROPS=(-Dsparkmerge.linalg=nd4j)
else
  if ! command -v nvidia-smi > /dev/null || ! nvidia-smi -L > /dev/null 2>&1; then
    echo "check.sh: no NVIDIA GPU visible (nvidia-smi missing or failing); run it on a GPU machine, or use --dry-run" >&2
    exit 2
  fi
  GPU_NAME=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)
  DRIVER_CUDA=$(nvidia-smi | grep -o 'CUDA Version: *[0-9.]*' | awk '{print $3}' | head -1)
  TOOLKIT=$( (nvcc --version 2>/dev/null || /usr/local/cuda/bin/nvcc --version 2>/dev/null) | grep -o 'release [0-9.]*' | awk '{print $2}' | head -1 || true)
  if [[ -z "$ARTIFACT" ]]; then
    [[ "$TOOLKIT" == 11.4* ]] && ARTIFACT=nd4j-cuda-11.4 || ARTIFACT=nd4j-cuda-11.6
  fi
  case "$ARTIFACT" in
    nd4j-cuda-11.6) PRESET=11.6-8.3-1.5.7; MAJOR=11;;
    nd4j-cuda-11.4) PRESET=11.4-8.2-1.5.6; MAJOR=11;;
    *) echo "check.sh: --cuda-artifact $ARTIFACT does not exist for ND4J 1.0.0-M2.1; use nd4j-cuda-11.6 or nd4j-cuda-11.4" >&2; exit 2;;
  esac
  if (( ! REDIST )) && ! { have_lib "libcudart.so.$MAJOR" && have_lib "libcublas.so.$MAJOR" && have_lib "libcusolver.so.$MAJOR"; }; then
    log "no CUDA $MAJOR runtime libraries (libcudart/libcublas/libcusolver .so.$MAJOR) found: bundling them (-Pcuda-redist)"
    REDIST=1
  fi
  for d in /usr/local/cuda-${ARTIFACT#nd4j-cuda-}/lib64 /usr/local/cuda/lib64; do
    [[ -d "$d" ]] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
  PROFILES=-Pcuda
  if (( REDIST )); then PROFILES=-Pcuda,cuda-redist; fi
  MACHINE_GPU="$GPU_NAME, driver's CUDA ${DRIVER_CUDA:-?}, toolkit ${TOOLKIT:-none}; ND4J $ARTIFACT 1.0.0-M2.1 ($PROFILES -Dcuda.preset.version=$PRESET)"
  export CUDA_DEVICE_ORDER=PCI_BUS_ID
fi
log "GPU: $MACHINE_GPU"

# --- 1. build ----------------------------------------------------------------------------------------
T=$(now)
cd "$HOME_DIR"
if (( ! BUILD )); then
  echo "$CHECK_CLASSPATH" > "$W/cpu-classpath.txt"
  cp "$W/cpu-classpath.txt" "$W/gpu-classpath.txt"
  BUILD_WHAT="build (skipped: --no-build)"
elif (( DRY )); then
  log "building the CPU backend (mvn compile test-compile)"
  mvn -B -q -DskipTests compile test-compile dependency:build-classpath -Dmdep.outputFile="$W/cpu-classpath.txt" > "$W/build.log" 2>&1 \
    || { echo "check.sh: the build failed, see $W/build.log" >&2; exit 1; }
  cp "$W/cpu-classpath.txt" "$W/gpu-classpath.txt"
  BUILD_WHAT="build (CPU backend; --dry-run skips -Pcuda)"
else
  log "building with $PROFILES -Dnd4j.backend=$ARTIFACT (the first run downloads ND4J's CUDA natives, ~600 MB)"
  mvn -B -q $PROFILES -Dnd4j.backend="$ARTIFACT" -Dcuda.preset.version="$PRESET" -DskipTests compile test-compile \
      dependency:build-classpath -Dmdep.outputFile="$W/gpu-classpath.txt" > "$W/build.log" 2>&1 \
    || { echo "check.sh: the -Pcuda build failed, see $W/build.log" >&2; exit 1; }
  # the same classes run on the CPU backend: only the classpath differs
  mvn -B -q -DskipTests dependency:build-classpath -Dmdep.outputFile="$W/cpu-classpath.txt" >> "$W/build.log" 2>&1 \
    || { echo "check.sh: resolving the CPU classpath failed, see $W/build.log" >&2; exit 1; }
  BUILD_WHAT="build ($PROFILES compile)"
fi
row "$BUILD_WHAT" "" "$(elapsed "$T" "$(now)")" "" "" "ok"

OPENS=$(grep -o -- '--add-opens=[^ )]*' "$HOME_DIR/bin/sparkmerge" | tr '\n' ' ')
JVM_OPTS="${SPARKMERGE_JAVA_OPTS:--Xmx8g} -XX:+IgnoreUnrecognizedVMOptions $OPENS -Dlog4j2.configurationFile=$HOME_DIR/conf/log4j2.xml"
CLASSES="$HOME_DIR/target/test-classes:$HOME_DIR/target/classes"
# shellcheck disable=SC2086
cpu_java() { OMP_NUM_THREADS=$THREADS java $JVM_OPTS -cp "$CLASSES:$(cat "$W/cpu-classpath.txt")" "$@"; }
# shellcheck disable=SC2086
gpu_java() { java $JVM_OPTS "${GPU_PROPS[@]}" -cp "$CLASSES:$(cat "$W/gpu-classpath.txt")" "$@"; }

# --- 2. the SVD benchmark: the same float32 matrices as bench/svd/run.sh -----------------------------------
SPEC_LINES=$(bash "$HOME_DIR/bench/svd/matrices.sh" "$MATS" "$SIZES")
mapfile -t SPECS <<< "$SPEC_LINES"
rm -rf "$W/s-cpu" "$W/s-gpu"; mkdir -p "$W/s-cpu" "$W/s-gpu"
log "SVD benchmark on the CPU backend ($SIZES; median of $REPS after a warm-up)"
cpu_java -Dsvdbench.sOut="$W/s-cpu" -Dsvdbench.layer=false io.sparkmerge.bench.SvdBench "$THREADS" "$REPS" "${SPECS[@]}" \
  > "$W/svd-cpu.txt" 2> "$W/svd-cpu.log" || { log "CPU SVD benchmark failed: $W/svd-cpu.log"; FAIL=1; }
log "SVD benchmark on the GPU side"
gpu_java -Dsvdbench.sOut="$W/s-gpu" -Dsvdbench.layer=false io.sparkmerge.bench.SvdBench "$THREADS" "$REPS" "${SPECS[@]}" \
  > "$W/svd-gpu.txt" 2> "$W/svd-gpu.log" || { log "GPU SVD benchmark failed: $W/svd-gpu.log"; FAIL=1; }
python3 "$HOME_DIR/bench/gpu/compare.py" svd "$W/s-cpu" "$W/s-gpu" > "$W/svd-compare.txt" 2>> "$W/svd-gpu.log" || FAIL=1
CPU_LA=$(awk '/^# linalg/ {print $3 " on " $4}' "$W/svd-cpu.txt"); GPU_LA=$(awk '/^# linalg/ {print $3 " on " $4}' "$W/svd-gpu.txt")
for s in $SIZES; do
  read -r _ tc ec <<< "$(grep "^$s " "$W/svd-cpu.txt" || true)"
  read -r _ tg eg <<< "$(grep "^$s " "$W/svd-gpu.txt" || true)"
  read -r _ ds <<< "$(grep "^$s " "$W/svd-compare.txt" || true)"
  if [[ -n "${tc:-}" && -n "${tg:-}" ]] && within "${ds:-}" "$TOL" && within "$ec" "$TOL" && within "$eg" "$TOL"; then ok=ok; else ok="**not ok**"; FAIL=1; fi
  row "SVD $s (median of $REPS)" "${tc:-failed}" "${tg:-failed}" "$(ratio "${tc:-0}" "${tg:-0}")" \
    "max\\|ΔS\\|/S₁ ${ds:-—}; reconstruction ${ec:-—} / ${eg:-—}" "$ok"
  unset tc tg ec eg ds
done

# --- 3. iso_cts merge of the family on both backends ----------------------------------------------------------
if [[ ! -f "$FAM/ft-3/config.json" ]]; then
  T=$(now)
  log "generating the $FAMILY family (base + 3 fine-tunes) into $FAM"
  rm -rf "$FAM"; mkdir -p "$(dirname "$FAM")"
  cpu_java io.sparkmerge.cli.Main synth "$FAM" --family "$FAMILY" --fine-tunes 3 > "$W/synth.log" 2>&1 \
    || { echo "check.sh: synth failed, see $W/synth.log" >&2; exit 1; }
  row "family $FAMILY (synth, not timed against anything)" "$(elapsed "$T" "$(now)")" "" "" "" "ok"
fi
cat > "$W/iso_cts.yml" <<YML
# bench/gpu/check.sh: iso_cts as jobs/iso_cts.yml, float32 output so the comparison sees the computation, not bf16 rounding
merge_method: iso_cts
base_model: $FAM/base
models:
  - model: $FAM/ft-1
  - model: $FAM/ft-2
  - model: $FAM/ft-3
parameters: {lambda: 1.0, common_space_fraction: 0.8, filter: embed_tokens}
compute_dtype: float32
dtype: float32
YML
rm -rf "$W/out-cpu" "$W/out-gpu"
log "iso_cts merge of $FAMILY on the CPU backend (local[$THREADS])"
T=$(now)
cpu_java io.sparkmerge.cli.Main merge "$W/iso_cts.yml" "$W/out-cpu" --master "local[$THREADS]" > "$W/merge-cpu.log" 2>&1 \
  && MC=$(elapsed "$T" "$(now)") || { MC=failed; FAIL=1; log "CPU merge failed: $W/merge-cpu.log"; }
log "iso_cts merge of $FAMILY on the GPU side (local[$GPU_TASKS])"
T=$(now)
gpu_java io.sparkmerge.cli.Main merge "$W/iso_cts.yml" "$W/out-gpu" --master "local[$GPU_TASKS]" > "$W/merge-gpu.log" 2>&1 \
  && MG=$(elapsed "$T" "$(now)") || { MG=failed; FAIL=1; log "GPU merge failed: $W/merge-gpu.log"; }
CMP="—"; ok="**not ok**"
if [[ "$MC" != failed && "$MG" != failed ]]; then
  log "comparing the merged tensors"
  if CMP_OUT=$(python3 "$HOME_DIR/bench/gpu/compare.py" merge "$W/out-cpu" "$W/out-gpu" "$FAM/base" 2>> "$W/merge-gpu.log"); then
    read -r count worst wname upd uname <<< "$CMP_OUT"
    CMP="$count tensors: worst ‖Δ‖/‖out‖ $worst ($wname); vs the update ‖Δ‖/‖out − base‖ $upd ($uname)"
    within "$worst" "$TOL" && ok=ok
  fi
fi
[[ "$ok" == ok ]] || FAIL=1
row "iso_cts merge, $FAMILY (whole process)" "$MC" "$MG" "$(ratio "${MC/failed/0}" "${MG/failed/0}")" "$CMP" "$ok"

# --- 4. the table ----------------------------------------------------------------------------------------
TOTAL=$(elapsed "$START" "$(now)")
if (( DRY )); then
  row "total" "" "" "" "$TOTAL s (the 480 s limit applies to a GPU run)" "—"
elif within "$TOTAL" "$LIMIT"; then
  row "total, build included" "" "" "" "$TOTAL s ≤ $LIMIT s" "ok"
else
  row "total, build included" "" "" "" "$TOTAL s > $LIMIT s" "**not ok**"; FAIL=1
fi
CPU_MODEL=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
TABLE=$(
  echo "### $(date -u +%Y-%m-%d) — GPU check: \`$CMDLINE\`"
  echo
  echo "Machine: $THREADS cores ($CPU_MODEL); GPU: $MACHINE_GPU. CPU column: ${CPU_LA:-?} ($THREADS BLAS threads; merge in local[$THREADS]);"
  echo "GPU column: ${GPU_LA:-?} (merge in local[$GPU_TASKS]). Float32; limits: singular values and reconstruction ≤ $TOL, merged tensors ≤ $TOL relative per tensor."
  echo
  echo "| step | CPU s | GPU s | CPU / GPU | comparison | result |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
)
echo "$TABLE"
if (( RECORD )); then
  echo "$TABLE" >> "$HOME_DIR/docs/benchmarks.md"
  log "appended to docs/benchmarks.md"
fi
log "logs and outputs: $W"
exit "$FAIL"
