package io.sparkmerge.analysis;

import io.sparkmerge.plan.LayerPositions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** An extract-lora output's lora_modules table: the relative error of the factors per layer and module kind, and the worst modules. */
final class LoraSection {
  static final String TABLE = "lora_modules";
  /** The table lists this many modules, the worst first. */
  static final int WORST = 10;

  private LoraSection() {}

  static void add(HtmlPage page, CsvTable t) {
    page.section("lora", "LoRA extraction: reconstruction error", "‖τ − B·A‖_F / ‖τ‖_F of each factored module (extract-lora:"
        + " lora_modules), per layer, one line per module name; modules outside the layers are in the table only.");
    Map<String, SortedMap<Double, Double>> series = new TreeMap<>();
    for (Map<String, String> r : t.rows()) {
      String module = r.get("module");
      int layer = LayerPositions.layerIndex(module + ".weight");
      if (layer >= 0) {
        series.computeIfAbsent(module.substring(module.lastIndexOf('.') + 1), k -> new TreeMap<>())
            .put((double) layer, CsvTable.num(r, "relative_error"));
      }
    }
    if (!series.isEmpty()) {
      page.image(ReportCharts.lines("relative error of the rank-r factors", "layer", "‖τ − B·A‖ / ‖τ‖", series, false));
    }
    List<Map<String, String>> rows = new ArrayList<>(t.rows());
    rows.sort(Comparator.comparingDouble((Map<String, String> r) -> -CsvTable.num(r, "relative_error")));
    List<List<String>> worst = new ArrayList<>();
    for (Map<String, String> r : rows.subList(0, Math.min(WORST, rows.size()))) {
      worst.add(List.of(r.get("module"), r.get("kind"), r.get("rows") + " × " + r.get("cols"), r.get("rank"), r.get("algorithm"),
          String.format(Locale.ROOT, "%.4g", CsvTable.num(r, "relative_error"))));
    }
    page.table(List.of("module", "kind", "shape", "rank", "algorithm", "relative error"), worst);
  }
}
