package io.sparkmerge.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmerge.plan.LayerPositions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The method's own report in a merge's sparkmerge.json, as tables and plots: method_summary (e.g. the
 * masks' densities and Jaccard overlaps of Localize-and-Stitch), the per-layer share each model's mask
 * kept (the tensors' {@code kept[i]} / {@code numel} counters), Iso-C / Iso-CTS's spectrum flattening per layer, and
 * a checkpoint merge's (WSM) weight per step.
 */
final class MethodReportTables {
  private MethodReportTables() {}

  static void add(HtmlPage page, JsonNode m, List<String> models) {
    keptPerLayer(page, m, models);
    spectrumPerLayer(page, m);
    JsonNode summary = m.path("method_summary");
    List<List<String>> scalars = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = summary.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().isArray() && e.getValue().size() > 0 && e.getValue().get(0).isObject()) {
        objects(page, e.getValue(), models, "method_summary: " + e.getKey());
      } else {
        scalars.add(List.of(e.getKey(), text(e.getValue(), null, models)));
      }
    }
    if (!scalars.isEmpty()) {
      page.table(List.of("method_summary", "value"), scalars);
    }
    JsonNode wsm = m.path("wsm");
    if (wsm.has("checkpoints")) {
      SortedMap<Double, Double> w = new TreeMap<>();
      wsm.path("checkpoints").forEach(c -> w.put(c.path("step").asDouble(), c.path("weight").asDouble()));
      page.image(ReportCharts.lines("checkpoint weight per step (WSM, schedule " + wsm.path("schedule").asText() + ")", "step",
          "weight", Map.of("weight", w), false));
      objects(page, wsm.path("checkpoints"), models, "checkpoints");
    }
  }

  /** kept[i] / numel per layer and model, from the tensors' method counters (methods that apply masks). */
  private static void keptPerLayer(HtmlPage page, JsonNode m, List<String> models) {
    Map<String, TreeMap<Double, double[]>> acc = new TreeMap<>();
    LayerSeries out = new LayerSeries();
    for (Iterator<Map.Entry<String, JsonNode>> it = m.path("tensors").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> t = it.next();
      JsonNode c = t.getValue().path("counters");
      double numel = c.path("numel").asDouble();
      if (numel <= 0) {
        continue;
      }
      double layer = LayerPositions.layerIndex(t.getKey());
      for (int i = 0; i < models.size(); i++) {
        if (!c.has("kept[" + i + "]")) {
          continue;
        }
        double kept = c.path("kept[" + i + "]").asDouble();
        if (layer < 0) {
          out.putOutside(t.getKey(), models.get(i), kept / numel);
        } else {
          double[] a = acc.computeIfAbsent(models.get(i), k -> new TreeMap<>()).computeIfAbsent(layer, k -> new double[2]);
          a[0] += kept;
          a[1] += numel;
        }
      }
    }
    acc.forEach((model, layers) -> layers.forEach((l, a) -> out.put(model, l, a[0] / a[1])));
    if (!out.isEmpty()) {
      out.addTo(page, "share of each model's entries its mask kept, per layer", "kept / numel");
    }
  }

  /**
   * Iso-C / Iso-CTS's spectrum flattening: per layer, the mean over its matrices of the effective rank
   * ((Σσ)² / Σσ², the tensors' {@code rank} and {@code flat_rank} counters) of the summed task matrix and of the
   * flattened update, as a plot and a table.
   */
  private static void spectrumPerLayer(HtmlPage page, JsonNode m) {
    String before = "Σ τ (summed task matrix)";
    String after = "flattened update";
    TreeMap<Double, double[]> acc = new TreeMap<>(); // layer → {Σ rank, Σ flat_rank, matrices}
    LayerSeries out = new LayerSeries();
    for (Iterator<Map.Entry<String, JsonNode>> it = m.path("tensors").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> t = it.next();
      JsonNode c = t.getValue().path("counters");
      if (!c.has("rank") || !c.has("flat_rank")) {
        continue;
      }
      double layer = LayerPositions.layerIndex(t.getKey());
      if (layer < 0) {
        out.putOutside(t.getKey(), before, c.path("rank").asDouble());
        out.putOutside(t.getKey(), after, c.path("flat_rank").asDouble());
        continue;
      }
      double[] a = acc.computeIfAbsent(layer, k -> new double[3]);
      a[0] += c.path("rank").asDouble();
      a[1] += c.path("flat_rank").asDouble();
      a[2]++;
    }
    List<List<String>> rows = new ArrayList<>();
    acc.forEach((l, a) -> {
      out.put(before, l, a[0] / a[2]);
      out.put(after, l, a[1] / a[2]);
      rows.add(List.of(LayerSeries.number(l), String.valueOf((long) a[2]), LayerSeries.number(a[0] / a[2]),
          LayerSeries.number(a[1] / a[2])));
    });
    if (out.isEmpty()) {
      return;
    }
    out.addTo(page, "spectrum flattening: effective rank (Σσ)² / Σσ² per layer", "effective rank (mean over matrices)");
    if (!rows.isEmpty()) {
      page.table(List.of("spectrum flattening: layer", "matrices", "effective rank of " + before, "effective rank of " + after),
          rows);
    }
  }

  /** An array of flat objects as a table; model indices (model, model_i, model_j) as short model names. */
  private static void objects(HtmlPage page, JsonNode array, List<String> models, String title) {
    List<String> header = new ArrayList<>();
    array.get(0).fieldNames().forEachRemaining(header::add);
    List<List<String>> rows = new ArrayList<>();
    array.forEach(o -> {
      List<String> row = new ArrayList<>();
      header.forEach(h -> row.add(text(o.path(h), h, models)));
      rows.add(row);
    });
    header.set(0, title + ": " + header.get(0));
    page.table(header, rows);
  }

  private static String text(JsonNode v, String field, List<String> models) {
    if (field != null && field.startsWith("model") && v.isInt() && v.asInt() >= 0 && v.asInt() < models.size()) {
      return models.get(v.asInt());
    }
    if (field != null && field.equals("path")) {
      return AnalysisReport.label(v.asText());
    }
    return v.isNumber() && !v.isIntegralNumber() ? LayerSeries.number(v.asDouble()) : v.isValueNode() ? v.asText() : v.toString();
  }
}
