"""Which merges Experiment 1 runs: one line per row of the quality table.

To add a method, add a line. A row runs only if `bin/sparkmerge merge` knows its merge_method
(asked once per run); otherwise the table says "not yet available" for it — never a made-up number.

Fields: label, merge_method, per-model parameters, method-wide parameters, λ sweep grid (None: no λ),
extra keys of each `models:` entry (e.g. LEWIS's importance table; "{importance}" is replaced by
the path of that fine-tune's table, "{importance_sequential}" by its table from the sequential pass), whether the base takes part (False for plain averaging).
λ is always chosen the same way: `sparkmerge sweep --refine`, scored by the mean validation accuracy over tasks.
"""
from collections import namedtuple

Row = namedtuple("Row", "label method model_params params lambdas model_keys uses_base note deep", defaults=(False,))

# Every row with a λ is a `sparkmerge sweep` over one wide log grid with refinement (issue 18): no
# hand-made split of the methods into "summing" and "averaging" scales. λ is chosen on the validation split
# (mean accuracy over the tasks); refinement zooms in around the best value and extends the grid when the
# best is at an edge, so a row whose optimum still lies at the edge of what was tried is flagged (*).
LAMBDA_GRID = "lambda=0.03:30:log:7"
REFINE = 2
QUICK_GRID = "lambda=0.3:3:log:3"
QUICK_REFINE = 1
TA_GRID = MEAN_GRID = LAMBDA_GRID

ROWS = [
    Row("averaging", "linear", {"weight": 1.0}, {"normalize": True}, None, {}, False,
        "mean of the fine-tunes"),
    Row("task_arithmetic", "task_arithmetic", {"weight": 1.0}, {}, TA_GRID, {}, True, ""),
    Row("ties", "ties", {"weight": 1.0, "density": 0.2}, {}, MEAN_GRID, {}, True, "density 0.2"),
    Row("dare_ties", "dare_ties", {"weight": 1.0, "density": 0.2}, {}, TA_GRID, {}, True,
        "density 0.2, L1 rescale"),
    Row("breadcrumbs", "breadcrumbs", {"weight": 1.0, "density": 0.9, "gamma": 0.01}, {}, TA_GRID, {}, True,
        "density 0.9, gamma 0.01"),
    Row("tsv_m", "tsv_m", {}, {}, MEAN_GRID, {}, True, ""),
    Row("iso_c", "iso_c", {}, {}, MEAN_GRID, {}, True, ""),
    Row("iso_cts", "iso_cts", {}, {"common_space_fraction": 0.8}, MEAN_GRID, {}, True, ""),
    Row("localize_stitch 1%", "localize_stitch", {"sparsity": 0.01}, {"mask_scope": "global"}, None, {}, True,
        "dataless, global mask; no λ"),
    Row("localize_stitch 5%", "localize_stitch", {"sparsity": 0.05}, {"mask_scope": "global"}, None, {}, True,
        "dataless, global mask; no λ"),
]

# LEWIS needs a model with enough scored layers that its per-layer densities differ (with two layers its min-max map
# puts one at min_density and the other at max_density whatever the data): these rows run on the 6-layer MLP zoo
# (deep=True, experiments.DEEP_HIDDEN). Each LEWIS row has a density-matched uniform counterpart: the same `lewis`
# merge with min_density = max_density = d, d chosen by the harness so that the kept parameters (summed over the
# fine-tunes' scored weights) equal LEWIS's; biases and lm_head are not scored modules and keep density 1 in both,
# so the two rows differ only in where the density goes. "{matched_*}" is replaced by that d.
LEWIS = {"base_method": "ties", "min_density": 0.3, "max_density": 0.8}
DEEP_ROWS = [
    Row("task_arithmetic 6-layer", "task_arithmetic", {"weight": 1.0}, {}, TA_GRID, {}, True,
        "reference on the 6-layer zoo", True),
    Row("lewis (ties)", "lewis", {"weight": 1.0}, dict(LEWIS), MEAN_GRID, {"importance": "{importance}"}, True,
        "Wanda importances from activation_stats.py (dense pass)", True),
    Row("uniform matched to lewis (ties)", "lewis", {"weight": 1.0},
        {"base_method": "ties", "min_density": "{matched_dense}", "max_density": "{matched_dense}"}, MEAN_GRID,
        {"importance": "{importance}"}, True, "ties at LEWIS's kept-parameter count, uniform over the scored layers", True),
    Row("lewis (ties) sequential", "lewis", {"weight": 1.0}, dict(LEWIS), MEAN_GRID, {"importance": "{importance_sequential}"},
        True, "the LEWIS authors' importance pass: collect_activation_stats.py --mode sequential (ratio 0.5)", True),
    Row("uniform matched to lewis (ties) sequential", "lewis", {"weight": 1.0},
        {"base_method": "ties", "min_density": "{matched_sequential}", "max_density": "{matched_sequential}"}, MEAN_GRID,
        {"importance": "{importance_sequential}"}, True, "ties at the sequential LEWIS row's kept-parameter count, uniform", True),
]

# Rows that only make sense next to another row: run them only when that row's method is available.
ONLY_WITH = {}

# Orderings claimed by the papers, checked on the average absolute test accuracy: (better, worse, source).
CLAIMS = [
    ("task_arithmetic", "averaging", "Task Arithmetic (Ilharco et al. 2023)"),
    ("ties", "task_arithmetic", "TIES-Merging (Yadav et al. 2023)"),
    ("dare_ties", "task_arithmetic", "DARE (Yu et al. 2024)"),
    ("breadcrumbs", "task_arithmetic", "Model Breadcrumbs (Davari & Belilovsky 2024)"),
    ("tsv_m", "ties", "TSV-M (arXiv 2412.00081)"),
    ("tsv_m", "task_arithmetic", "TSV-M (arXiv 2412.00081)"),
    ("iso_c", "tsv_m", "Iso-C (arXiv 2502.04959)"),
    ("iso_cts", "iso_c", "Iso-CTS (arXiv 2502.04959)"),
    ("localize_stitch 1%", "ties", "Localize-and-Stitch (arXiv 2408.13656)"),
    ("lewis (ties)", "uniform matched to lewis (ties)", "LEWIS (arXiv 2503.03874)"),
    ("lewis (ties) sequential", "uniform matched to lewis (ties) sequential", "LEWIS (arXiv 2503.03874), authors' pass"),
]
