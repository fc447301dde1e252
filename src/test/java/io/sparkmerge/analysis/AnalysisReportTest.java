package io.sparkmerge.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;

/**
 * How the report shows what it plots: tensors outside the numbered layers in a table instead of as
 * layer -1, models under their short names in every legend and heatmap, numbers with a leading zero,
 * and whole-number x axes that XChart does not label at every index.
 */
class AnalysisReportTest {
  static final String OVERLAP = """
      tensor,task_i,model_i,task_j,model_j,k,overlap
      model.layers.0.q,0,/data/models/ft-math,1,/data/models/ft-code/,4,0.25
      model.layers.0.k,0,/data/models/ft-math,1,/data/models/ft-code/,4,0.75
      model.layers.1.q,0,/data/models/ft-math,1,/data/models/ft-code/,4,0.125
      lm_head.weight,0,/data/models/ft-math,1,/data/models/ft-code/,4,0.0625
      """;

  @Test
  void tensorsOutsideTheLayersAreATableNotLayerMinusOne() {
    CsvTable t = CsvTable.parse("overlap", OVERLAP);
    LayerSeries s = AnalysisReport.perLayerMean(t, r -> AnalysisReport.label(r.get("model_i")) + " × "
        + AnalysisReport.label(r.get("model_j")), "overlap");
    assertEquals(Map.of("ft-math × ft-code", new TreeMap<>(Map.of(0.0, 0.5, 1.0, 0.125))), s.layers);
    assertEquals(Map.of("lm_head.weight", Map.of("ft-math × ft-code", 0.0625)), s.outside);

    String html = AnalysisReport.render("t", Map.of("overlap", t), null);
    assertTrue(html.contains("<th>overlap, tensors outside the numbered layers</th><th>ft-math × ft-code</th>"), html);
    assertTrue(html.contains("<td>lm_head.weight</td><td>0.0625</td>"), html);
    assertFalse(html.contains("/data/models"), "short names only: " + html);
  }

  @Test
  void heatmapLabelsAreShortNames() {
    CsvTable pairs = CsvTable.parse("pair_stats", """
        tensor,layer,model_i,model_j,cosine,sign_conflict
        a,0,/m/ft-1,/m/ft-2/,0.5,0.25
        """);
    AnalysisReport.Pairs p = AnalysisReport.pairs(pairs, "model_i", "model_j", "cosine", 1.0);
    assertEquals(List.of("ft-1", "ft-2"), p.labels());
    assertEquals(0.5, p.cells()[0][1]);
    assertEquals(0.5, p.cells()[1][0]);
  }

  @Test
  void numbersHaveALeadingZero() {
    assertEquals("0.013", LayerSeries.number(0.013));
    assertEquals("-0.0001042", LayerSeries.number(-0.00010421));
    assertEquals("1.004", LayerSeries.number(1.00412));
    assertEquals("1235", LayerSeries.number(1234.56));
    assertEquals("1.2E-7", LayerSeries.number(1.2e-7));
    DecimalFormat f = new DecimalFormat(ReportCharts.decimalPattern(0.00234, 0.00246), DecimalFormatSymbols.getInstance(Locale.ROOT));
    assertEquals("0.00240", f.format(0.0024), "μ-axis ticks 2e-5 apart");
    assertEquals("0.1999", new DecimalFormat(ReportCharts.decimalPattern(0.19992, 0.19992),
        DecimalFormatSymbols.getInstance(Locale.ROOT)).format(0.19992), "a flat series");
    assertEquals("0", ReportCharts.decimalPattern(10, 2000));
  }

  @Test
  void wholeNumberAxesGetAHalfStepMargin() {
    Map<String, SortedMap<Double, Double>> series = new TreeMap<>();
    SortedMap<Double, Double> spectrum = new TreeMap<>();
    for (int i = 1; i <= 64; i++) {
      spectrum.put((double) i, 1.0 / i);
    }
    series.put("ft-1", spectrum);
    XYChart c = ReportCharts.chart("spectrum", "index", "singular value", series, true);
    // equally spaced x values from axis end to axis end make XChart label every one of them (they ran together)
    assertEquals(0.5, c.getStyler().getXAxisMin());
    assertEquals(64.5, c.getStyler().getXAxisMax());
    assertTrue(ReportCharts.lines("spectrum", "index", "singular value", series, true).length > 1000);
  }
}
