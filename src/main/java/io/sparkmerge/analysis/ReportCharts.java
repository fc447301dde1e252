package io.sparkmerge.analysis;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's PNG charts (XChart): one line per series over an x axis, and labelled heatmaps. */
final class ReportCharts {
  private ReportCharts() {}

  /** Lines: series name → (x → y); NaN points are left out; null when no series has a point. */
  static byte[] lines(String title, String xTitle, String yTitle, Map<String, SortedMap<Double, Double>> series, boolean logY) {
    XYChart chart = chart(title, xTitle, yTitle, series, logY);
    return chart.getSeriesMap().isEmpty() ? null : png(chart);
  }

  /** The line chart of {@link #lines}, before rendering (possibly without series). */
  static XYChart chart(String title, String xTitle, String yTitle, Map<String, SortedMap<Double, Double>> series, boolean logY) {
    XYChart chart = new XYChartBuilder().width(760).height(400).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setMarkerSize(4);
    chart.getStyler().setYAxisLogarithmic(logY);
    // x is a layer or an index, whole and equally spaced: XChart then labels every x that "fits", and the
    // labels of 32 singular values ran together. Half a step of margin on either side makes the x values
    // unequally spaced from the axis ends, so XChart picks a 1-2-5 step from its tick spacing instead.
    double xMax = series.values().stream().filter(m -> !m.isEmpty()).mapToDouble(SortedMap::lastKey).max().orElse(1);
    double xMin = series.values().stream().filter(m -> !m.isEmpty()).mapToDouble(SortedMap::firstKey).min().orElse(0);
    chart.getStyler().setXAxisMin(xMin - 0.5);
    chart.getStyler().setXAxisMax(xMax + 0.5);
    chart.getStyler().setXAxisDecimalPattern("0");
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (SortedMap<Double, Double> s : series.values()) {
      for (double v : s.values()) {
        if (Double.isFinite(v)) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
      }
    }
    if (!logY && min <= max) {
      chart.getStyler().setYAxisDecimalPattern(decimalPattern(min, max));
    }
    for (Map.Entry<String, SortedMap<Double, Double>> e : series.entrySet()) {
      List<Double> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      e.getValue().forEach((k, v) -> {
        if (Double.isFinite(v) && (!logY || v > 0)) {
          x.add(k);
          y.add(v);
        }
      });
      if (!x.isEmpty()) {
        chart.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
      }
    }
    return chart;
  }

  /** A square heatmap over labels; cells[i][j] NaN is left blank. */
  static byte[] heatmap(String title, List<String> labels, double[][] cells) {
    HeatMapChart chart = new HeatMapChartBuilder().width(560).height(480).title(title).build();
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setShowValue(true);
    chart.getStyler().setHeatMapValueDecimalPattern("0.000");
    chart.getStyler().setLegendVisible(true);
    List<Number[]> data = new ArrayList<>();
    for (int i = 0; i < labels.size(); i++) {
      for (int j = 0; j < labels.size(); j++) {
        if (Double.isFinite(cells[i][j])) {
          data.add(new Number[] {i, j, Math.round(cells[i][j] * 1000) / 1000.0});
        }
      }
    }
    if (data.isEmpty()) {
      return null;
    }
    chart.addSeries(title, labels, labels, data);
    return png(chart);
  }

  /**
   * Tick labels for values in [min, max]: a leading zero (0.013, not XChart's default .013) and as many
   * decimals as about five ticks over the range need; for a flat series, four significant digits.
   */
  static String decimalPattern(double min, double max) {
    double step = max > min ? (max - min) / 5 : Math.max(Math.abs(max), Double.MIN_NORMAL) / 1000;
    int decimals = (int) Math.max(0, Math.min(12, Math.ceil(-Math.log10(step))));
    return decimals == 0 ? "0" : "0." + "0".repeat(decimals);
  }

  static byte[] png(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) {
    try {
      return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot render the chart '" + chart.getTitle() + "': " + e.getMessage(), e);
    }
  }
}
