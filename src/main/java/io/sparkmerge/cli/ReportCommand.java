package io.sparkmerge.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(mixinStandardHelpOptions = true, name = "report",
    description = "One self-contained HTML page (PNG plots embedded) from a merge output (sparkmerge.json) or an analysis "
        + "output (stats, masks, subspaces tables): task-vector norms, cosine heatmap, scope (μ, σ) per layer, singular-value "
        + "spectra, subspace overlap, mask density and overlap, whichever are present; or from a sweep output "
        + "(leaderboard.csv): score vs each parameter, the best candidate, the rounds and the leaderboard.",
    footer = {"", "Examples:", "  sparkmerge report /data/analysis/subspaces subspaces.html",
        "  sparkmerge report /data/merged merge-report.html --overwrite",
        "  sparkmerge report out sweep-report.html",
        "  sparkmerge report hdfs:///analysis/stats /tmp/stats.html",
        "  sparkmerge report s3a://models/merged merged-s3.html --conf spark.hadoop.fs.s3a.endpoint=http://minio:9000"})
final class ReportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DIR", description = "a merge, analysis or sweep output directory")
  String dir;

  @Parameters(index = "1", paramLabel = "REPORT.html", description = "the HTML file to write")
  String report;

  @Option(names = "--overwrite", description = "replace an existing REPORT.html")
  boolean overwrite;

  @picocli.CommandLine.Mixin SparkSessions.HadoopOptions hadoopOptions;

  @Override
  public Integer call() throws IOException {
    long bytes = ReportWriter.write(hadoopOptions.hadoop(), dir, report, overwrite);
    System.out.printf("wrote %s (%.1f KB)%n", report, bytes / 1024.0);
    return 0;
  }
}
