"""Writes the analysis notebooks (run: python3 notebooks/make_notebooks.py). Kept as code so the
cells are reviewed as text; the .ipynb files it writes are what users open. With `--execute DATA` it
also runs them in place on the tables in DATA (docs/img/make.sh does, on its generated family), so the
committed notebooks show their plots."""
import json
import os
import pathlib
import subprocess
import sys

LOAD = '''%matplotlib inline
import os
import pathlib
import pandas as pd
import matplotlib
import matplotlib.pyplot as plt

# The analysis output to read: set SPARKMERGE_DATA to a `sparkmerge stats|masks|subspaces` OUT directory
# (or a directory holding several jobs' tables).
DATA = pathlib.Path(os.environ.get("SPARKMERGE_DATA", "."))
print("reading", DATA.resolve())

def load(name):
    """One table: OUT/<name>.parquet when pyarrow is installed, else OUT/<name>.csv; None when absent."""
    pq = DATA / f"{name}.parquet"
    if pq.exists():
        try:
            import pyarrow  # noqa: F401
            return pd.read_parquet(pq)
        except ImportError:
            pass
    csv = DATA / f"{name}.csv"
    if csv.exists():
        return pd.read_csv(csv)
    print(f"{name}: not in {DATA} (run the job that writes it)")
    return None

def name_of(model):
    """A model's name as the HTML report shows it: a path's last directory."""
    return str(model).rstrip("/").split("/")[-1]

DELTA = "Δ = Σ τ"  # the report's name for the sum of the task vectors

def layer_of(tensor):
    """The block index in HF names (model.layers.3. -> 3), -1 outside the layers."""
    import re
    m = re.search(r"(?:^|\\.)(?:layers|h|blocks|layer)\\.(\\d+)\\.", tensor)
    return int(m.group(1)) if m else -1'''


def nb(title, intro, cells):
    src = [("markdown", f"# {title}\n\n{intro}"), ("code", LOAD)] + cells
    out = []
    for kind, text in src:
        cell = {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}
        if kind == "code":
            cell.update({"execution_count": None, "outputs": []})
        out.append(cell)
    return {"cells": out, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                                       "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}


SCOPE = nb("Scope mismatch across models",
    "Per layer, the mean μ and standard deviation σ of every model's weights (`stats`: `tensor_stats`, "
    "kind = weights), numel-weighted over the layer's tensors. Curves that drift apart are a scope mismatch: "
    "merging such layers averages weights of different scales. The task-vector norms per layer show where "
    "the fine-tunes moved.",
    [("code", '''ts = load("tensor_stats")
if ts is not None:
    w = ts[(ts.kind == "weights") & (ts.layer >= 0)].copy()
    w["sum"] = w.numel * w["mean"]
    w["sq"] = w.numel * (w.variance + w["mean"] ** 2)
    g = w.groupby(["model", "layer"])[["numel", "sum", "sq"]].sum()
    g["mu"] = g["sum"] / g.numel
    g["sigma"] = (g.sq / g.numel - g.mu ** 2).clip(lower=0) ** 0.5
    scope = g[["mu", "sigma"]].reset_index()
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    for model, d in scope.groupby("model"):
        ax[0].plot(d.layer, d.mu, marker="o", label=model)
        ax[1].plot(d.layer, d.sigma, marker="o", label=model)
    ax[0].set(title="μ per layer", xlabel="layer")
    ax[1].set(title="σ per layer", xlabel="layer")
    ax[1].legend()
    plt.show()
    display(scope.pivot(index="layer", columns="model", values="sigma"))'''),
     ("code", '''if ts is not None:
    tv = ts[(ts.kind == "task_vector") & (ts.layer >= 0)].copy()
    tv["sq"] = tv.l2_norm ** 2
    norms = tv.groupby(["model", "layer"]).sq.sum().pow(0.5).unstack(0)
    norms.plot(marker="o", title="task-vector norm per layer", ylabel="‖τ‖₂", figsize=(7, 4))
    plt.show()
    ratio = norms.max(axis=1) / norms.min(axis=1)
    print("layers where one model moved most relative to the others (max/min norm):")
    print(ratio.sort_values(ascending=False).head())''')])

SPECTRA = nb("Spectra and subspace overlap",
    "Singular-value spectra of Δ = Σ τ and of each task vector (`subspaces`: `spectra`, `summary`), and "
    "how much the task vectors' top-k subspaces overlap per layer (`overlap`: ‖U_iᵀU_j‖²_F / k, 1 = same "
    "subspace, k/n = random). Low-rank, low-overlap task vectors are what subspace merges (iso_c, tsv_m) "
    "exploit.",
    [("code", '''spectra = load("spectra")
summary = load("summary")
# spectra and summary name a task vector by its source (delta, model0, ...); the report by its model's name
names = {"delta": DELTA}
if summary is not None:
    names.update({s: name_of(m) for s, m in zip(summary.source, summary.model) if s != "delta"})
if spectra is not None:
    spectra["name"] = spectra.source.map(lambda s: names.get(s, s))
    tensors = sorted(spectra.tensor.unique(), key=lambda t: (".layers.0." not in t, t))[:4]
    fig, axes = plt.subplots(1, len(tensors), figsize=(4 * len(tensors), 3.5), squeeze=False)
    for ax, t in zip(axes[0], tensors):
        for name, d in spectra[spectra.tensor == t].groupby("name"):
            ax.semilogy(d["index"] + 1, d.singular_value, marker=".", label=name)
        ax.set(title=t.replace("model.", ""), xlabel="index")
    axes[0][0].legend()
    plt.show()'''),
     ("code", '''if summary is not None:
    summary["layer"] = summary.tensor.map(layer_of)
    summary["name"] = summary.source.map(lambda s: names.get(s, s))
    rank = summary[summary.layer >= 0].groupby(["name", "layer"]).effective_rank.mean().unstack(0)
    rank.plot(marker="o", title="effective rank per layer (mean over tensors)", figsize=(7, 4))
    plt.show()'''),
     ("code", '''overlap = load("overlap")
if overlap is not None:
    overlap["layer"] = overlap.tensor.map(layer_of)
    overlap["pair"] = overlap.model_i.map(name_of) + " × " + overlap.model_j.map(name_of)
    per_layer = overlap[overlap.layer >= 0].groupby(["pair", "layer"]).overlap.mean().unstack(0)
    per_layer.plot(marker="o", title="subspace overlap per layer", ylim=(0, 1), figsize=(7, 4))
    plt.show()
    display(overlap.sort_values("overlap", ascending=False).head(10)[["tensor", "pair", "k", "overlap"]])''')])

MASKS = nb("Mask overlap",
    "How much of each task vector the masks keep per layer (`masks`: `mask_density`) and how much the "
    "models' masks overlap (`mask_overlap`, Jaccard). High overlap means the fine-tunes compete for the "
    "same weights, where sign conflicts and interference come from.",
    [("code", '''density = load("mask_density")
if density is not None:
    d = density[density.layer >= 0].groupby(["model", "method", "layer"])[["kept", "numel"]].sum()
    d["density"] = d.kept / d.numel
    d = d.reset_index()
    d["series"] = d.model.map(name_of) + " (" + d.method + ")"
    d.pivot(index="layer", columns="series", values="density").plot(marker="o", title="mask density per layer", figsize=(7, 4))
    plt.show()'''),
     ("code", '''mo = load("mask_overlap")
if mo is not None:
    pairs = mo.groupby(["model_i", "model_j"]).jaccard.mean()
    models = sorted(set(mo.model_i) | set(mo.model_j))
    m = pd.DataFrame(1.0, index=models, columns=models)
    for (a, b), v in pairs.items():
        m.loc[a, b] = m.loc[b, a] = v
    fig, ax = plt.subplots(figsize=(5, 4))
    im = ax.imshow(m.values, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(models)), models, rotation=45, ha="right")
    ax.set_yticks(range(len(models)), models)
    for i in range(len(models)):
        for j in range(len(models)):
            ax.text(j, i, f"{m.values[i, j]:.2f}", ha="center", va="center", color="w")
    fig.colorbar(im)
    ax.set_title("mean Jaccard overlap of the masks")
    plt.show()
    mo[mo.layer >= 0].groupby("layer").jaccard.mean().plot(marker="o", title="Jaccard per layer", figsize=(7, 3))
    plt.show()''')])

here = pathlib.Path(__file__).parent
for name, book in [("scope_mismatch", SCOPE), ("spectra_overlap", SPECTRA), ("mask_overlap", MASKS)]:
    (here / f"{name}.ipynb").write_text(json.dumps(book, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote", here / f"{name}.ipynb")
if len(sys.argv) > 1:
    # --execute DATA: run them in place on DATA's tables, so the committed notebooks show their plots
    env = dict(os.environ, SPARKMERGE_DATA=sys.argv[2])
    books = [str(here / f"{n}.ipynb") for n in ("scope_mismatch", "spectra_overlap", "mask_overlap")]
    subprocess.run(["jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace"] + books, env=env, check=True)
