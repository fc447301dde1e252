#!/usr/bin/env bash
# Golden digests: every jobs/*.yml (and variants reaching side inputs, masks, task vectors and WSM
# checkpoint merges; gen.py) run as one `sparkmerge batch` on a synth family, then every output
# tensor's SHA-256 (from the bytes and from sparkmerge.json), counters, resolved config and CSVs listed
# (digest.py). Run it with the build before a change and after, and diff the two lists: a change that
# must keep outputs bit-identical leaves them equal.
#
# Usage: bench/golden/run.sh BUILD WORK OUT.txt [--family tiny]   (BUILD: a checkout or built copy with bin/sparkmerge)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$(cd "$1" && pwd)"; WORK="$2"; OUTFILE="$3"; FAMILY="${5:-tiny}"
mkdir -p "$WORK"
if [[ ! -f "$WORK/family/.complete" ]]; then
  "$BUILD/bin/sparkmerge" synth "$WORK/family" --family "$FAMILY" --fine-tunes 3 >&2
  touch "$WORK/family/.complete"
fi
[[ -f "$WORK/lines.txt" ]] || python3 "$HERE/gen.py" "$WORK/family" "$WORK" "$BUILD" >&2
rm -rf "$WORK/out"
"$BUILD/bin/sparkmerge" batch "$WORK/lines.txt" --keep-going > "$WORK/batch.log" 2>&1 || true
grep '^\[batch\]' "$WORK/batch.log" | tail -1 >&2
python3 "$HERE/digest.py" "$WORK" > "$OUTFILE"
