#!/usr/bin/env bash
# The SVD benchmark's matrices: float32 standard normal, seeded by their size, written once into DIR and
# shared by bench/svd/run.sh and bench/gpu/check.sh (both time the very same matrices).
# Prints one "FILE:M:N" line per size (what io.sparkmerge.bench.SvdBench takes).
# Usage: bench/svd/matrices.sh DIR "1024x1024 4096x11008"
set -euo pipefail
DIR="$1"
mkdir -p "$DIR"
for s in $2; do
  m=${s%x*}; n=${s#*x}
  f="$DIR/a-$m-$n.f32"
  [[ -f "$f" ]] || python3 -c "import numpy as np; np.random.default_rng($m*7+$n).standard_normal(($m,$n), dtype=np.float32).tofile('$f')"
  echo "$f:$m:$n"
done
