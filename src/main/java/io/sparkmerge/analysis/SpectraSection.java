package io.sparkmerge.analysis;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/** Singular-value spectra of a few tensors (subspaces: spectra) and the effective rank per layer (summary). */
final class SpectraSection {
  /** The legend of the sum of the task vectors; the task vectors themselves are named by their model. */
  static final String DELTA = "Δ = Σ τ";

  private SpectraSection() {}

  static void add(HtmlPage page, CsvTable spectra, CsvTable summary) {
    Map<String, String> modelOf = new HashMap<>();
    if (summary != null) {
      summary.rows().forEach(r -> modelOf.put(r.get("tensor") + "\u0000" + r.get("source"), r.get("model")));
    }
    TreeSet<String> tensors = new TreeSet<>();
    spectra.rows().forEach(r -> tensors.add(r.get("tensor")));
    // first layer's tensors first: they are the ones the subspaces job plots too
    List<String> chosen = tensors.stream().sorted((a, b) -> Boolean.compare(!a.contains("layers.0."), !b.contains("layers.0.")))
        .limit(AnalysisReport.MAX_SPECTRA).toList();
    page.section("spectra", "Singular-value spectra", "Top singular values of Δ = Σ τ and of each task vector τ for "
        + chosen.size() + " of " + tensors.size() + " tensors (subspaces: spectra), log scale.");
    for (String t : chosen) {
      Map<String, SortedMap<Double, Double>> series = new LinkedHashMap<>();
      for (Map<String, String> r : spectra.rows()) {
        if (!t.equals(r.get("tensor"))) {
          continue;
        }
        String src = r.get("source");
        String label = src.equals("delta") ? DELTA : AnalysisReport.label(modelOf.getOrDefault(t + "\u0000" + src, src));
        series.computeIfAbsent(label, k -> new TreeMap<>()).put(CsvTable.num(r, "index") + 1, CsvTable.num(r, "singular_value"));
      }
      page.image(ReportCharts.lines(t, "index", "singular value", series, true));
    }
    if (summary != null && summary.has("effective_rank")) {
      AnalysisReport.perLayerMean(summary, r -> r.get("source").equals("delta") ? DELTA : AnalysisReport.label(r.get("model")),
          "effective_rank").addTo(page, "effective rank per layer (mean over the layer's tensors)", "effective rank");
    }
  }
}
