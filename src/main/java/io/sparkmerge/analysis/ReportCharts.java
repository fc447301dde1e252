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

  /** Lines: series name → (x → y); NaN points are left out. */
  static byte[] lines(String title, String xTitle, String yTitle, Map<String, SortedMap<Double, Double>> series, boolean logY) {
    XYChart chart = new XYChartBuilder().width(760).height(400).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setMarkerSize(4);
    chart.getStyler().setYAxisLogarithmic(logY);
    int added = 0;
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
        added++;
      }
    }
    return added == 0 ? null : png(chart);
  }

  /** A square heatmap over labels; cells[i][j] NaN is left blank. */
  static byte[] heatmap(String title, List<String> labels, double[][] cells) {
    HeatMapChart chart = new HeatMapChartBuilder().width(560).height(480).title(title).build();
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setShowValue(true);
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

  private static byte[] png(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) {
    try {
      return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot render the chart '" + chart.getTitle() + "': " + e.getMessage(), e);
    }
  }
}
