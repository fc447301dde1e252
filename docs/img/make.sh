#!/usr/bin/env bash
# The README's screenshots of the five kinds of report page (a merge, subspaces, stats, masks and sweep
# output), rendered by headless Debian chromium from a synth tiny family merged with jobs/ties.yml, and
# the committed notebooks executed on the same outputs (so they show the same models' plots). The sweep is
# jobs/ties.yml over λ × density, refined twice, scored by a stand-in eval with a known peak (λ = 0.8,
# density 0.3) that fails one candidate on purpose (the page shows failures).
# Re-run after a report or a notebook changes (needs: apt-get install -y chromium python3-pil
# jupyter-nbconvert python3-pandas python3-matplotlib python3-ipykernel):
#   docs/img/make.sh        # writes docs/img/report-{merge,subspaces,stats,masks,sweep}.png and notebooks/*.ipynb
#   docs/img/make.sh sweep  # only docs/img/report-sweep.png
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
IMG="$HOME_DIR/docs/img"
# a fixed directory: the merge page shows the input paths, so a re-run changes nothing else
WORK="${WORK:-/tmp/sparkmerge-screenshots}"
rm -rf "$WORK"
mkdir -p "$WORK"
SM="$HOME_DIR/bin/sparkmerge"

"$SM" synth "$WORK/family" --family tiny --fine-tunes 2 --seed 1 >"$WORK/run.log"
sed -e "s#/data/models/base#$WORK/family/base#; s#/data/models/ft-math#$WORK/family/ft-1#" \
    -e "s#/data/models/ft-code#$WORK/family/ft-2#" "$HOME_DIR/jobs/ties.yml" >"$WORK/ties.yml"
ONLY="${1:-}"
cat >"$WORK/score.py" <<'PY'
import json, math, sys
p = json.load(open(sys.argv[1] + "/sparkmerge.json"))["sweep"]["parameters"]
if p["lambda"] > 5 and p["density"] == 0.5:
    sys.exit("a stand-in eval failing on purpose")
score = 0.9 - 0.1 * math.log(p["lambda"] / 0.8) ** 2 - 0.5 * (p["density"] - 0.3) ** 2
print(json.dumps({"score": round(score, 6), "loss": round(1 - score, 6)}))
PY
"$SM" sweep "$WORK/ties.yml" "$WORK/sweep" --grid lambda=0.1:10:log:5 --grid density=0.1,0.3,0.5 --refine 2 \
    --eval "/usr/bin/python3 $WORK/score.py {model}" --master 'local[2]' >>"$WORK/run.log" 2>&1 || { cat "$WORK/run.log" >&2; exit 1; }
KINDS="merge subspaces stats masks sweep"
if [[ "$ONLY" == sweep ]]; then
  KINDS=sweep
  echo "report $WORK/sweep $WORK/sweep.html" >"$WORK/lines.txt"
else
cat >"$WORK/lines.txt" <<LINES
merge $WORK/ties.yml $WORK/merge --master local[2]
subspaces $WORK/ties.yml $WORK/subspaces --top-k 32 --k 8 --master local[2]
stats $WORK/ties.yml $WORK/stats --master local[2]
masks $WORK/ties.yml $WORK/masks --master local[2]
report $WORK/merge $WORK/merge.html
report $WORK/subspaces $WORK/subspaces.html
report $WORK/stats $WORK/stats.html
report $WORK/masks $WORK/masks.html
report $WORK/sweep $WORK/sweep.html
LINES
fi
"$SM" batch "$WORK/lines.txt" >>"$WORK/run.log" 2>&1 || { cat "$WORK/run.log" >&2; exit 1; }

for kind in $KINDS; do
  # flags that let chromium run headless as root on a machine without network (no background fetches)
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$WORK/chromium-profile" --hide-scrollbars \
    --window-size=1000,6000 --screenshot="$WORK/$kind-full.png" "file://$WORK/$kind.html" >>"$WORK/chromium.log" 2>&1
  # cut the window's empty bottom; a 256-colour palette keeps the PNG small for git
  /usr/bin/python3 - "$WORK/$kind-full.png" "$IMG/report-$kind.png" <<'PY'
import sys
from PIL import Image, ImageOps
page = Image.open(sys.argv[1]).convert("RGB")
bottom = ImageOps.invert(page).getbbox()[3]
page.crop((0, 0, page.width, min(page.height, bottom + 24))).quantize(256).save(sys.argv[2], optimize=True)
PY
  echo "docs/img/report-$kind.png"
done

[[ "$ONLY" == sweep ]] && exit 0
# the notebooks read one directory: the three analysis jobs' tables side by side
mkdir -p "$WORK/tables"
for job in subspaces stats masks; do cp "$WORK/$job"/*.csv "$WORK/tables/"; done
/usr/bin/python3 "$HOME_DIR/notebooks/make_notebooks.py" --execute "$WORK/tables" >>"$WORK/run.log" 2>&1 \
  || { tail -20 "$WORK/run.log" >&2; exit 1; }
echo "notebooks/*.ipynb executed on $WORK/tables"
