package io.sparkmerge.cli;

import io.sparkmerge.InputDataException;
import io.sparkmerge.OutputExistsException;
import io.sparkmerge.analysis.AnalysisReport;
import io.sparkmerge.analysis.CsvTable;
import io.sparkmerge.analysis.SweepSection;
import io.sparkmerge.io.Storage;
import io.sparkmerge.output.Leaderboard;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads an analysis or merge output's tables (the CSV twins) and manifest, or a sweep's leaderboard, renders the HTML report
 * and writes it whole: to a hidden temporary sibling first, renamed into place when complete.
 */
final class ReportWriter {
  private ReportWriter() {}

  /** The {@code --report FILE} option of the analysis commands (a picocli mixin). */
  static final class Option {
    @picocli.CommandLine.Option(names = "--report", paramLabel = "FILE",
        description = "also write the HTML report of OUT to FILE (as 'sparkmerge report')")
    String report;

    /** After the job: writes the report of {@code out} when --report was given. */
    void writeIfAsked(Configuration conf, String out, boolean overwrite) throws IOException {
      if (report != null) {
        write(conf, out, report, overwrite);
        System.out.println("report: " + report);
      }
    }
  }

  /** Writes the report of {@code dir} to {@code report}; returns the number of bytes written. */
  static long write(Configuration conf, String dir, String report, boolean overwrite) throws IOException {
    Path in = new Path(dir);
    FileSystem fs = in.getFileSystem(conf);
    if (!fs.exists(in)) {
      throw new InputDataException(dir + ": no such directory; give a merge or analysis output directory");
    }
    Path out = new Path(report);
    FileSystem outFs = out.getFileSystem(conf);
    if (outFs.exists(out) && outFs.getFileStatus(out).isDirectory()) {
      throw new OutputExistsException(report + " is a directory; give the path of the HTML file to write");
    }
    if (outFs.exists(out) && !overwrite) {
      throw new OutputExistsException(report + " exists; remove it or pass --overwrite");
    }
    String html = isSweep(fs, in) ? sweepPage(fs, in, dir) : analysisPage(fs, in, dir);
    if (html == null) {
      throw new InputDataException(dir + ": nothing to report: none of sparkmerge.json or " + String.join(".csv, ", AnalysisReport.TABLES)
          + ".csv; give the output directory of merge, stats, masks or subspaces");
    }
    byte[] bytes = html.getBytes(StandardCharsets.UTF_8);
    Path tmp = new Path(out.getParent(), "." + out.getName() + ".tmp");
    try (OutputStream os = outFs.create(tmp, true)) {
      os.write(bytes);
    }
    if (outFs.exists(out)) {
      outFs.delete(out, false);
    }
    if (!outFs.rename(tmp, out)) {
      outFs.delete(tmp, false);
      throw new IOException("cannot move " + tmp + " to " + out);
    }
    return bytes.length;
  }

  /** A sweep's output: OUT/leaderboard.csv beside OUT/candidates/. */
  private static boolean isSweep(FileSystem fs, Path in) throws IOException {
    return fs.exists(new Path(in, Leaderboard.CSV)) && fs.exists(new Path(in, Leaderboard.CANDIDATES));
  }

  private static String analysisPage(FileSystem fs, Path in, String dir) throws IOException {
    Map<String, CsvTable> tables = new LinkedHashMap<>();
    for (String name : AnalysisReport.TABLES) {
      Path p = new Path(in, name + ".csv");
      if (fs.exists(p)) {
        tables.put(name, CsvTable.parse(name, read(fs, p)));
      }
    }
    Path manifest = new Path(in, "sparkmerge.json");
    return AnalysisReport.render(dir, tables, fs.exists(manifest) ? read(fs, manifest) : null);
  }

  /** The sweep page: the leaderboard, OUT/best, and the manifest of the best candidate (else the first one on disk). */
  private static String sweepPage(FileSystem fs, Path in, String dir) throws IOException {
    CsvTable board = CsvTable.parse(Leaderboard.CSV, read(fs, new Path(in, Leaderboard.CSV)));
    String best = Leaderboard.bestOf(fs, in);
    String shown = null;
    for (String id : best == null ? board.rows().stream().map(r -> r.get("id")).toList() : java.util.List.of(best)) {
      if (fs.exists(new Path(new Path(new Path(in, Leaderboard.CANDIDATES), id), "sparkmerge.json"))) {
        shown = id;
        break;
      }
    }
    String manifest = shown == null ? null : read(fs, new Path(new Path(new Path(in, Leaderboard.CANDIDATES), shown), "sparkmerge.json"));
    return SweepSection.render(dir, board, best, shown, manifest);
  }

  private static String read(FileSystem fs, Path p) throws IOException {
    try (InputStream is = fs.open(p)) {
      return new String(is.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
