#!/usr/bin/env bash
# Builds the Python environment the parity harness runs mergekit in (optional; nothing else needs it).
#
#   MERGEKIT_SRC=/path/to/mergekit-checkout [IMMUTABLES_SRC=/path/to/immutables-checkout] \
#     bench/mergekit_parity/setup.sh [VENV]          # default VENV: target/mergekit-venv
#
# MERGEKIT_SRC is a checkout of github.com/arcee-ai/mergekit (tested: a6e4028, version 0.1.4); it is
# installed with --no-deps into a venv on Debian's python3 that also sees the system's packages.
# mergekit's dependencies are installed one by one, --no-deps, pinned to the versions tested here:
# - transformers >= 5 (mergekit's pin) disables PyTorch below 2.5, so Debian's torch 1.13 is not
#   enough: a PyTorch 2.x CPU wheel goes into the venv;
# - pydantic: mergekit pins ~= 2.10, only 2.13 was at hand; mergekit_shim.py (ours) restores the one
#   behaviour mergekit relies on (methods given to create_model);
# - immutables is not among the wheels here: IMMUTABLES_SRC, a checkout of github.com/MagicStack/immutables,
#   is installed from source (its pure-Python Map serves when the C extension is not built).
# Wheels come from WHEEL_DIRS (directories of .whl files, no index) when set or when this machine's
# wheel directories exist; otherwise from pip's configured index.
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${1:-$HOME_DIR/target/mergekit-venv}"
: "${MERGEKIT_SRC:?set MERGEKIT_SRC to a checkout of arcee-ai/mergekit}"
PKGS=(torch==2.13.0+cpu sympy==1.14.0 mpmath==1.3.0 networkx==3.6.1 pydantic==2.13.5 pydantic_core==2.46.5
  annotated_types==0.8.0 typing_extensions==4.16.0 typing_inspection==0.4.4 tqdm==4.70.1 safetensors==0.8.0
  accelerate==1.15.0 transformers==5.18.0 tokenizers==0.23.2 huggingface_hub==1.33.0 regex filelock fsspec
  httpx==0.28.1 httpcore==1.0.9 h11==0.16.0 hf_xet==1.6.0 typer==0.27.2 typer_slim==0.24.0 peft==0.21.0)
if [[ -z "${WHEEL_DIRS:-}" ]]; then
  for d in /opt/wheels /opt/pypi/files /opt/pypi-more/files; do [[ -d "$d" ]] && WHEEL_DIRS="${WHEEL_DIRS:-} $d"; done
fi
SRC_ARGS=()
if [[ -n "${WHEEL_DIRS:-}" ]]; then
  SRC_ARGS=(--no-index)
  for d in $WHEEL_DIRS; do SRC_ARGS+=(--find-links "$d"); done
fi
/usr/bin/python3 -m venv --system-site-packages "$VENV"
PIP=("$VENV/bin/pip" install -q --no-deps --ignore-installed)
"${PIP[@]}" "${SRC_ARGS[@]}" "${PKGS[@]}"
if ! "$VENV/bin/python" -c "import immutables" 2>/dev/null; then
  if [[ -n "${IMMUTABLES_SRC:-}" ]]; then
    "${PIP[@]}" --no-index --no-build-isolation "$IMMUTABLES_SRC"
  else
    "${PIP[@]}" "${SRC_ARGS[@]}" immutables
  fi
fi
"${PIP[@]}" --no-index --no-build-isolation "$MERGEKIT_SRC"
"$VENV/bin/python" -c "import sys; sys.path.insert(0, '$HOME_DIR/bench/mergekit_parity'); import mergekit_shim, mergekit.merge, torch; print('mergekit ready, torch', torch.__version__)"
