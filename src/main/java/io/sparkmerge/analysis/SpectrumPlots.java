package io.sparkmerge.analysis;

import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG plots of a tensor's singular-value spectra (Δ and each task vector), log scale. */
public final class SpectrumPlots {
  private SpectrumPlots() {}

  public static void write(SubspaceStats.Report report, List<String> modelLabels, OutputStream out) throws IOException {
    XYChart chart = new XYChartBuilder().width(720).height(420)
        .title(report.tensor() + " (" + report.rows() + "×" + report.cols() + ")")
        .xAxisTitle("index").yAxisTitle("singular value").build();
    chart.getStyler().setYAxisLogarithmic(true);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setMarkerSize(3);
    for (SubspaceStats.Spectrum s : report.spectra()) {
      List<Double> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      for (int i = 0; i < s.topValues().length; i++) {
        if (s.topValues()[i] > 0) {
          x.add((double) i + 1);
          y.add(s.topValues()[i]);
        }
      }
      if (x.isEmpty()) {
        continue;
      }
      String label = s.source().equals("delta") ? "Δ = Σ τ" : labelOf(s.source(), modelLabels);
      chart.addSeries(label, x, y).setMarker(SeriesMarkers.CIRCLE);
    }
    BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
  }

  private static String labelOf(String source, List<String> labels) {
    int i = Integer.parseInt(source.substring("model".length()));
    String path = labels.get(i);
    return "τ " + path.substring(path.lastIndexOf('/') + 1);
  }
}
