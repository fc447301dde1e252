package io.sparkmerge.analysis;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One per-layer plot's data: a value per series (a model, a model pair, Δ) and layer index, and, for
 * the tensors outside the numbered layers (embeddings, final norm, lm_head: layer -1 in the tables),
 * a value per tensor and series. Those are shown in a table under the plot, not as a point at "-1".
 */
final class LayerSeries {
  final Map<String, SortedMap<Double, Double>> layers = new TreeMap<>();
  final SortedMap<String, Map<String, Double>> outside = new TreeMap<>();

  void put(String series, double layer, double value) {
    layers.computeIfAbsent(series, k -> new TreeMap<>()).put(layer, value);
  }

  void putOutside(String tensor, String series, double value) {
    outside.computeIfAbsent(tensor, k -> new TreeMap<>()).put(series, value);
  }

  boolean isEmpty() {
    return layers.isEmpty() && outside.isEmpty();
  }

  /** The line chart over the layers, then the table of the tensors outside them (if any). */
  void addTo(HtmlPage page, String title, String yTitle) {
    if (!layers.isEmpty()) {
      page.image(ReportCharts.lines(title, "layer", yTitle, layers, false));
    }
    if (outside.isEmpty()) {
      return;
    }
    TreeSet<String> series = new TreeSet<>();
    outside.values().forEach(m -> series.addAll(m.keySet()));
    List<String> header = new ArrayList<>();
    header.add(yTitle + ", tensors outside the numbered layers");
    header.addAll(series);
    List<List<String>> rows = new ArrayList<>();
    outside.forEach((tensor, values) -> {
      List<String> row = new ArrayList<>();
      row.add(tensor);
      series.forEach(s -> row.add(values.containsKey(s) ? number(values.get(s)) : ""));
      rows.add(row);
    });
    page.table(header, rows);
  }

  /** Four significant digits, plain notation with a leading zero (0.013, not .013 or 1.3E-2). */
  static String number(double v) {
    if (!Double.isFinite(v)) {
      return String.valueOf(v);
    }
    if (v == 0) {
      return "0";
    }
    BigDecimal d = new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros();
    return Math.abs(v) >= 1e-4 && Math.abs(v) < 1e7 ? d.toPlainString() : d.toString();
  }
}
