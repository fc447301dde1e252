package io.sparkmerge.analysis;

import java.awt.Color;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A sweep's score against one grid parameter: a line per value of the other parameters, the candidates
 * added by refinement, the best candidate, and failed candidates as crosses on the plot's floor (they have no
 * score). The x axis is logarithmic when every value tried is positive and they span a decade or more (λ grids).
 */
final class SweepCharts {
  private SweepCharts() {}

  /** The chart's PNG, or null when no candidate of the sweep was scored. */
  static byte[] scoreVs(String axis, List<String> axes, List<Map<String, String>> rows, String best) {
    Map<String, SortedMap<Double, Double>> lines = SweepSection.series(axes, axis, rows);
    if (lines.isEmpty()) {
      return null;
    }
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (SortedMap<Double, Double> s : lines.values()) {
      for (double y : s.values()) {
        lo = Math.min(lo, y);
        hi = Math.max(hi, y);
      }
    }
    // a log axis labels decades only: used when every value is positive and they span one at least
    boolean logX = rows.stream().map(r -> CsvTable.num(r, axis)).filter(Double::isFinite).allMatch(x -> x > 0)
        && maxX(rows, axis) >= 10 * minX(rows, axis);
    XYChart chart = new XYChartBuilder().width(760).height(400).title("score vs " + axis).xAxisTitle(axis + (logX ? " (log)" : ""))
        .yAxisTitle("score").build();
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setMarkerSize(6);
    chart.getStyler().setXAxisLogarithmic(logX);
    chart.getStyler().setXAxisDecimalPattern(logX ? "0.###" : ReportCharts.decimalPattern(minX(rows, axis), maxX(rows, axis)));
    chart.getStyler().setYAxisDecimalPattern(ReportCharts.decimalPattern(lo, hi));
    for (Map.Entry<String, SortedMap<Double, Double>> e : lines.entrySet()) {
      chart.addSeries(e.getKey(), new ArrayList<>(e.getValue().keySet()), new ArrayList<>(e.getValue().values()))
          .setMarker(SeriesMarkers.CIRCLE);
    }
    // failed candidates have no score: drawn a little below the lowest score so that they show, and are named
    double floor = hi > lo ? lo - 0.05 * (hi - lo) : lo - Math.max(Math.abs(lo), 1) * 0.01;
    overlay(chart, "added by refinement", rows, axis, r -> "ok".equals(r.get("status")) && CsvTable.num(r, "round") > 0,
        false, floor, SeriesMarkers.SQUARE, Color.DARK_GRAY);
    overlay(chart, "failed (no score)", rows, axis, r -> "failed".equals(r.get("status")), true, floor, SeriesMarkers.CROSS,
        Color.RED);
    overlay(chart, "best", rows, axis, r -> r.get("id").equals(best), false, floor, SeriesMarkers.DIAMOND, new Color(0, 150, 0));
    return ReportCharts.png(chart);
  }

  /** A scatter series of the rows that match, at their score (or at {@code floor} when {@code atFloor}). */
  private static void overlay(XYChart chart, String name, List<Map<String, String>> rows, String axis,
      java.util.function.Predicate<Map<String, String>> which, boolean atFloor, double floor, Marker marker, Color color) {
    List<Double> x = new ArrayList<>();
    List<Double> y = new ArrayList<>();
    for (Map<String, String> r : rows) {
      double v = CsvTable.num(r, axis);
      double s = atFloor ? floor : CsvTable.num(r, "score");
      if (which.test(r) && Double.isFinite(v) && Double.isFinite(s) && (!chart.getStyler().isXAxisLogarithmic() || v > 0)) {
        x.add(v);
        y.add(s);
      }
    }
    if (!x.isEmpty()) {
      XYSeries s = chart.addSeries(name, x, y);
      s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
      s.setMarker(marker);
      s.setMarkerColor(color);
    }
  }

  private static double minX(List<Map<String, String>> rows, String axis) {
    return rows.stream().mapToDouble(r -> CsvTable.num(r, axis)).filter(Double::isFinite).min().orElse(0);
  }

  private static double maxX(List<Map<String, String>> rows, String axis) {
    return rows.stream().mapToDouble(r -> CsvTable.num(r, axis)).filter(Double::isFinite).max().orElse(1);
  }
}
