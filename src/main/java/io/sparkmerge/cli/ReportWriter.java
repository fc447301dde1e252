package io.sparkmerge.cli;

import io.sparkmerge.InputDataException;
import io.sparkmerge.OutputExistsException;
import io.sparkmerge.analysis.AnalysisReport;
import io.sparkmerge.analysis.CsvTable;
import io.sparkmerge.io.Storage;
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
 * Reads an analysis or merge output's tables (the CSV twins) and manifest, renders the HTML report
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
    Map<String, CsvTable> tables = new LinkedHashMap<>();
    for (String name : AnalysisReport.TABLES) {
      Path p = new Path(in, name + ".csv");
      if (fs.exists(p)) {
        tables.put(name, CsvTable.parse(name, read(fs, p)));
      }
    }
    Path manifest = new Path(in, "sparkmerge.json");
    String html = AnalysisReport.render(dir, tables, fs.exists(manifest) ? read(fs, manifest) : null);
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

  private static String read(FileSystem fs, Path p) throws IOException {
    try (InputStream is = fs.open(p)) {
      return new String(is.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
