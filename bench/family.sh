# Sourced by the merge benchmarks (bench/run.sh, bench/sweep.sh): generates $FAM, a synthetic family of
# $FAMILY with $FT fine-tunes, once (1 GB input shards, the layout of a downloaded multi-GB checkpoint),
# and sets INPUTS (every input file), IN_BYTES and OUT_BYTES (the base's bytes: what a merge writes),
# sizes by stat (cat | wc would read the family twice more); bytes FILE... sums sizes for the caller.
# Needs SM (bin/sparkmerge), DIR, FAMILY, FT.
FAM="$DIR/family-$FAMILY-$FT"
mkdir -p "$DIR"
if [[ ! -f "$FAM/.complete" ]]; then
  rm -rf "$FAM"
  echo "generating the $FAMILY family (base + $FT fine-tunes) in $FAM ..." >&2
  "$SM" synth "$FAM" --family "$FAMILY" --fine-tunes "$FT" --shard-size 1GB >&2
  touch "$FAM/.complete"
fi
MODELS=()
for i in $(seq 1 "$FT"); do MODELS+=("$FAM"/ft-"$i"/*.safetensors); done
INPUTS=("$FAM"/base/*.safetensors "${MODELS[@]}")
# %.0f: mawk's %d caps at 2^31
bytes() { stat -c %s "$@" | awk '{s += $1} END {printf "%.0f", s}'; }
IN_BYTES=$(bytes "${INPUTS[@]}")
OUT_BYTES=$(bytes "$FAM"/base/*.safetensors)
