#!/usr/bin/env bash
# Runs the parity harness (run.py) in the venv setup.sh made. Optional: needs mergekit (see setup.sh).
#   bench/mergekit_parity/run.sh [--dtypes float32,bfloat16,float16] [--modes float32,input] [--only REGEX] [--out FILE]
# MERGEKIT_SRC (the checkout setup.sh installed) adds mergekit's examples/*.yml to the cases.
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-$HOME_DIR/target/mergekit-venv}"
[[ -x "$VENV/bin/python" ]] || { echo "no venv at $VENV: run bench/mergekit_parity/setup.sh first" >&2; exit 2; }
exec "$VENV/bin/python" "$HOME_DIR/bench/mergekit_parity/run.py" "$@"
