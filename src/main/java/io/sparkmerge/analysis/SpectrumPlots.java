package io.sparkmerge.analysis;

import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;

/** PNG plots of a tensor's singular-value spectra (Δ and each task vector), log scale, as in the report. */
public final class SpectrumPlots {
  private SpectrumPlots() {}

  public static void write(SubspaceStats.Report report, List<String> modelLabels, OutputStream out) throws IOException {
    Map<String, SortedMap<Double, Double>> series = new LinkedHashMap<>();
    for (SubspaceStats.Spectrum s : report.spectra()) {
      SortedMap<Double, Double> points = new TreeMap<>();
      for (int i = 0; i < s.topValues().length; i++) {
        points.put((double) i + 1, s.topValues()[i]);
      }
      String label = s.source().equals("delta") ? SpectraSection.DELTA
          : AnalysisReport.label(modelLabels.get(Integer.parseInt(s.source().substring("model".length()))));
      series.put(label, points);
    }
    BitmapEncoder.saveBitmap(ReportCharts.chart(report.tensor() + " (" + report.rows() + "×" + report.cols() + ")", "index",
        "singular value", series, true), out, BitmapEncoder.BitmapFormat.PNG);
  }
}
