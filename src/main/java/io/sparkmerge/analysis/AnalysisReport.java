package io.sparkmerge.analysis;

import io.sparkmerge.plan.LayerPositions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The HTML report of an analysis or merge output: reads whichever tables are present (subspaces:
 * summary, spectra, overlap; stats: tensor_stats, pair_stats; masks: mask_density, mask_overlap; a
 * merge's sparkmerge.json; extract-lora: lora_modules) and renders one self-contained page with PNG plots (DESIGN.md §4 schemas).
 */
public final class AnalysisReport {
  /** The CSV tables a report reads, by table name (file name without .csv). */
  public static final List<String> TABLES = List.of("summary", "spectra", "overlap", "tensor_stats", "pair_stats",
      "mask_density", "mask_overlap", LoraSection.TABLE);
  /** At most this many tensors get a spectrum plot. */
  static final int MAX_SPECTRA = 4;

  private AnalysisReport() {}

  /**
   * @param title the page title (the analysed directory)
   * @param tables the tables found, by name
   * @param manifestJson a merge's sparkmerge.json, or null
   * @return the page, or null when there is nothing to report
   */
  public static String render(String title, Map<String, CsvTable> tables, String manifestJson) {
    HtmlPage page = new HtmlPage("sparkmerge report: " + title);
    if (manifestJson != null) {
      // a merge's report opens with what the merge did (its by-products), then how it was run
      MergeStatsSection.add(page, MergeSection.parse(manifestJson));
      MergeSection.add(page, manifestJson);
    }
    CsvTable stats = tables.get("tensor_stats");
    CsvTable summary = tables.get("summary");
    LayerSeries norms = stats != null ? norms(stats, "task_vector", "kind", "l2_norm")
        : summary != null ? norms(summary, null, "source", "frobenius_norm") : null;
    if (norms != null && !norms.isEmpty()) {
      page.section("norms", "Task-vector norms per layer", "‖τ‖₂ over each layer's tensors, per model"
          + (stats != null ? " (stats: tensor_stats)." : " (subspaces: summary, 2-D tensors only)."));
      norms.addTo(page, "task-vector norm per layer", "‖τ‖₂");
    }
    if (tables.containsKey("pair_stats")) {
      CsvTable ps = tables.get("pair_stats");
      page.section("cosine", "Task-vector cosine", "Mean cosine similarity of the task vectors over all tensors (stats: pair_stats).");
      Pairs cos = pairs(ps, "model_i", "model_j", "cosine", 1.0);
      page.image(ReportCharts.heatmap("task-vector cosine", cos.labels, cos.cells));
      Pairs conflict = pairs(ps, "model_i", "model_j", "sign_conflict", 0.0);
      page.image(ReportCharts.heatmap("sign conflict fraction", conflict.labels, conflict.cells));
    }
    if (stats != null) {
      LayerSeries mu = new LayerSeries();
      LayerSeries sigma = new LayerSeries();
      scope(stats, mu, sigma);
      if (!mu.isEmpty()) {
        page.section("scope", "Scope (μ, σ) per layer per model", "Mean and standard deviation of each layer's weights "
            + "(numel-weighted over its tensors; stats: tensor_stats, kind = weights). Scope mismatch across models shows "
            + "as curves that drift apart.");
        mu.addTo(page, "μ per layer", "μ");
        sigma.addTo(page, "σ per layer", "σ");
      }
    }
    if (tables.containsKey("spectra")) {
      SpectraSection.add(page, tables.get("spectra"), summary);
    }
    if (tables.containsKey("overlap")) {
      page.section("overlap", "Subspace overlap per layer", "‖U_iᵀU_j‖²_F / k of the top-k left singular vectors, "
          + "mean over each layer's tensors (subspaces: overlap).");
      perLayerMean(tables.get("overlap"), r -> label(r.get("model_i")) + " × " + label(r.get("model_j")), "overlap")
          .addTo(page, "subspace overlap", "overlap");
    }
    if (tables.containsKey("mask_density") || tables.containsKey("mask_overlap")) {
      page.section("masks", "Masks: density and overlap", "Fraction of entries each mask keeps per layer "
          + "(masks: mask_density) and the Jaccard overlap of the models' masks (masks: mask_overlap).");
      if (tables.containsKey("mask_density")) {
        density(tables.get("mask_density")).addTo(page, "mask density per layer", "kept / numel");
      }
      if (tables.containsKey("mask_overlap")) {
        Pairs j = pairs(tables.get("mask_overlap"), "model_i", "model_j", "jaccard", 1.0);
        page.image(ReportCharts.heatmap("mask Jaccard overlap", j.labels, j.cells));
      }
    }
    if (tables.containsKey(LoraSection.TABLE)) {
      LoraSection.add(page, tables.get(LoraSection.TABLE));
    }
    return page.sections() == 0 ? null : page.html();
  }

  static double layerOf(Map<String, String> row) {
    String l = row.get("layer");
    if (l != null && !l.isEmpty()) {
      return CsvTable.num(row, "layer");
    }
    return LayerPositions.layerIndex(row.get("tensor"));
  }

  /**
   * ‖τ‖₂ per (model, layer) from per-tensor norms: the root of the summed squares. Rows are those whose
   * {@code kindColumn} is {@code kind} (tensor_stats), or not "delta" when kind is null (subspaces summary).
   */
  private static LayerSeries norms(CsvTable t, String kind, String kindColumn, String normColumn) {
    Map<String, TreeMap<Double, Double>> sq = new TreeMap<>();
    LayerSeries out = new LayerSeries();
    for (Map<String, String> r : t.rows()) {
      String k = r.get(kindColumn);
      if (kind != null ? !kind.equals(k) : "delta".equals(k)) {
        continue;
      }
      double layer = layerOf(r);
      double n = CsvTable.num(r, normColumn);
      if (layer < 0) {
        out.putOutside(r.get("tensor"), label(r.get("model")), n);
      } else {
        sq.computeIfAbsent(label(r.get("model")), x -> new TreeMap<>()).merge(layer, n * n, Double::sum);
      }
    }
    sq.forEach((model, layers) -> layers.forEach((layer, v) -> out.put(model, layer, Math.sqrt(v))));
    return out;
  }

  /** numel-weighted μ and σ of the weights per (model, layer): σ² = E[var + mean²] − μ². */
  private static void scope(CsvTable stats, LayerSeries mu, LayerSeries sigma) {
    Map<String, TreeMap<Double, double[]>> acc = new TreeMap<>();
    for (Map<String, String> r : stats.rows()) {
      if (!"weights".equals(r.get("kind"))) {
        continue;
      }
      double layer = layerOf(r);
      double n = CsvTable.num(r, "numel");
      double m = CsvTable.num(r, "mean");
      double v = CsvTable.num(r, "variance");
      if (layer < 0) {
        mu.putOutside(r.get("tensor"), label(r.get("model")), m);
        sigma.putOutside(r.get("tensor"), label(r.get("model")), Math.sqrt(Math.max(0, v)));
        continue;
      }
      double[] a = acc.computeIfAbsent(label(r.get("model")), k -> new TreeMap<>()).computeIfAbsent(layer, k -> new double[3]);
      a[0] += n;
      a[1] += n * m;
      a[2] += n * (v + m * m);
    }
    acc.forEach((model, layers) -> layers.forEach((layer, a) -> {
      double mean = a[1] / a[0];
      mu.put(model, layer, mean);
      sigma.put(model, layer, Math.sqrt(Math.max(0, a[2] / a[0] - mean * mean)));
    }));
  }

  /** Kept / numel per (model (method), layer). */
  private static LayerSeries density(CsvTable t) {
    Map<String, TreeMap<Double, double[]>> acc = new TreeMap<>();
    LayerSeries out = new LayerSeries();
    for (Map<String, String> r : t.rows()) {
      String series = label(r.get("model")) + " (" + r.get("method") + ")";
      double layer = layerOf(r);
      if (layer < 0) {
        out.putOutside(r.get("tensor"), series, CsvTable.num(r, "kept") / CsvTable.num(r, "numel"));
        continue;
      }
      double[] a = acc.computeIfAbsent(series, k -> new TreeMap<>()).computeIfAbsent(layer, k -> new double[2]);
      a[0] += CsvTable.num(r, "kept");
      a[1] += CsvTable.num(r, "numel");
    }
    acc.forEach((k, layers) -> layers.forEach((l, a) -> out.put(k, l, a[0] / a[1])));
    return out;
  }

  /** The mean of {@code column} per (series, layer); a tensor outside the layers is its own row. */
  static LayerSeries perLayerMean(CsvTable t, java.util.function.Function<Map<String, String>, String> key, String column) {
    Map<String, TreeMap<Double, double[]>> acc = new TreeMap<>();
    LayerSeries out = new LayerSeries();
    for (Map<String, String> r : t.rows()) {
      double layer = layerOf(r);
      if (layer < 0) {
        out.putOutside(r.get("tensor"), key.apply(r), CsvTable.num(r, column));
        continue;
      }
      double[] a = acc.computeIfAbsent(key.apply(r), k -> new TreeMap<>()).computeIfAbsent(layer, k -> new double[2]);
      a[0] += CsvTable.num(r, column);
      a[1] += 1;
    }
    acc.forEach((k, layers) -> layers.forEach((l, a) -> out.put(k, l, a[0] / a[1])));
    return out;
  }

  /** A symmetric model × model matrix of the mean of {@code column}; the diagonal is {@code diagonal}. */
  record Pairs(List<String> labels, double[][] cells) {}

  static Pairs pairs(CsvTable t, String ci, String cj, String column, double diagonal) {
    TreeSet<String> names = new TreeSet<>();
    t.rows().forEach(r -> {
      names.add(label(r.get(ci)));
      names.add(label(r.get(cj)));
    });
    List<String> labels = new ArrayList<>(names);
    int n = labels.size();
    double[][] sum = new double[n][n];
    double[][] cnt = new double[n][n];
    for (Map<String, String> r : t.rows()) {
      double v = CsvTable.num(r, column);
      if (!Double.isFinite(v)) {
        continue;
      }
      int i = labels.indexOf(label(r.get(ci)));
      int j = labels.indexOf(label(r.get(cj)));
      sum[i][j] += v;
      cnt[i][j]++;
      if (i != j) {
        sum[j][i] += v;
        cnt[j][i]++;
      }
    }
    double[][] cells = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        cells[i][j] = i == j ? diagonal : cnt[i][j] == 0 ? Double.NaN : sum[i][j] / cnt[i][j];
      }
    }
    return new Pairs(labels, cells);
  }

  /** A model's name in legends and heatmaps: a path becomes its last directory name, in every plot. */
  static String label(String model) {
    if (model == null) {
      return "?";
    }
    String m = model.replaceAll("/+$", "");
    return m.substring(m.lastIndexOf('/') + 1);
  }
}
