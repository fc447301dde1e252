package io.sparkmerge.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmerge.plan.LayerPositions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a merge did, per layer, from the by-products its tasks gathered in the merge pass
 * ({@code tensors.*.stats} of sparkmerge.json, exec/MergeStatistics): ‖τ_i‖ of each model against
 * ‖merged − base‖, the pairwise cosine and sign-conflict share of the task vectors, then the method's
 * own report (method_summary: mask densities and overlaps) and a checkpoint merge's weights per step.
 */
final class MergeStatsSection {
  private MergeStatsSection() {}

  /** Adds the section when the manifest carries statistics or a method or WSM summary; returns whether it did. */
  static boolean add(HtmlPage page, JsonNode m) {
    List<String> models = new ArrayList<>();
    m.path("resolved").path("models").forEach(p -> models.add(AnalysisReport.label(p.asText())));
    Sums total = new Sums(models.size());
    Map<Double, Sums> perLayer = new TreeMap<>();
    Map<String, Sums> outside = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = m.path("tensors").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> t = it.next();
      JsonNode s = t.getValue().path("stats");
      if (!s.has("n")) {
        continue;
      }
      double layer = LayerPositions.layerIndex(t.getKey());
      Sums target = layer < 0 ? outside.computeIfAbsent(t.getKey(), k -> new Sums(models.size()))
          : perLayer.computeIfAbsent(layer, k -> new Sums(models.size()));
      target.add(s);
      total.add(s);
    }
    boolean any = total.n > 0 || m.has("method_summary") || m.has("wsm");
    if (!any) {
      return false;
    }
    page.section("by-products", "What the merge did, per layer", "Gathered by the merge's own tasks while merging (no second "
        + "read of the inputs): τ_i = θ_i − θ_base per model; a layer's norms are over all its tensors. ‖merged − base‖ "
        + "below the ‖τ_i‖ means the models' changes partly cancelled (or were trimmed); a cosine near 0 and a high "
        + "sign-conflict share mean the task vectors pull in different directions.");
    if (total.n > 0) {
      LayerSeries norms = new LayerSeries();
      LayerSeries cos = new LayerSeries();
      LayerSeries conflict = new LayerSeries();
      perLayer.forEach((layer, s) -> s.put(layer, null, models, norms, cos, conflict));
      outside.forEach((tensor, s) -> s.put(0, tensor, models, norms, cos, conflict));
      norms.addTo(page, "‖τ‖ per model and ‖merged − base‖, per layer", "L2 norm");
      if (models.size() > 1) {
        cos.addTo(page, "task-vector cosine per layer", "cosine");
        conflict.addTo(page, "sign-conflict share per layer", "share of entries where both change");
        page.image(ReportCharts.heatmap("task-vector cosine, whole model", models, total.matrix(true)));
        page.image(ReportCharts.heatmap("sign-conflict share, whole model", models, total.matrix(false)));
      }
    }
    MethodReportTables.add(page, m, models);
    return true;
  }

  /** Sums of the statistics over a set of tensors. */
  private static final class Sums {
    final double[] tauSq;
    final double[][] dot;
    final double[][] both;
    final double[][] conflicts;
    double deltaSq;
    double n;

    Sums(int models) {
      tauSq = new double[models];
      dot = new double[models][models];
      both = new double[models][models];
      conflicts = new double[models][models];
    }

    void add(JsonNode s) {
      n += s.path("n").asDouble();
      deltaSq += s.path("delta_sq").asDouble();
      for (int i = 0; i < tauSq.length; i++) {
        tauSq[i] += s.path("tau_sq/" + i).asDouble();
        for (int j = i + 1; j < tauSq.length; j++) {
          dot[i][j] += s.path("dot/" + i + "/" + j).asDouble();
          both[i][j] += s.path("both_nonzero/" + i + "/" + j).asDouble();
          conflicts[i][j] += s.path("sign_conflicts/" + i + "/" + j).asDouble();
        }
      }
    }

    double cosine(int i, int j) {
      double d = Math.sqrt(tauSq[i] * tauSq[j]);
      return d == 0 ? Double.NaN : dot[i][j] / d;
    }

    double conflictShare(int i, int j) {
      return both[i][j] == 0 ? Double.NaN : conflicts[i][j] / both[i][j];
    }

    /** Into the plots: a layer's point, or (tensor != null) a row of the table of tensors outside the layers. */
    void put(double layer, String tensor, List<String> models, LayerSeries norms, LayerSeries cos, LayerSeries conflict) {
      for (int i = 0; i < models.size(); i++) {
        put(norms, layer, tensor, "‖τ‖ " + models.get(i), Math.sqrt(tauSq[i]));
        for (int j = i + 1; j < models.size(); j++) {
          String pair = models.get(i) + " × " + models.get(j);
          put(cos, layer, tensor, pair, cosine(i, j));
          put(conflict, layer, tensor, pair, conflictShare(i, j));
        }
      }
      put(norms, layer, tensor, "‖merged − base‖", Math.sqrt(deltaSq));
    }

    private static void put(LayerSeries s, double layer, String tensor, String series, double v) {
      if (tensor != null) {
        s.putOutside(tensor, series, v);
      } else if (Double.isFinite(v)) {
        s.put(series, layer, v);
      }
    }

    double[][] matrix(boolean cosine) {
      int k = tauSq.length;
      double[][] c = new double[k][k];
      for (int i = 0; i < k; i++) {
        c[i][i] = cosine ? 1 : 0;
        for (int j = i + 1; j < k; j++) {
          c[i][j] = c[j][i] = cosine ? cosine(i, j) : conflictShare(i, j);
        }
      }
      return c;
    }
  }
}
