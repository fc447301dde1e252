package io.sparkmerge.cli;

import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.SubspacesJob;
import java.io.IOException;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(mixinStandardHelpOptions = true, name = "subspaces",
    description = "Per-layer SVD of the task vectors of CONFIG's models: spectra, effective rank, top-k energy and "
        + "task-subspace overlap, as Parquet + CSV tables and PNG plots in OUT. CONFIG names base_model and models "
        + "(merge_method is ignored).",
    footer = {"", "Examples:", "  sparkmerge subspaces jobs/iso_cts.yml /data/analysis/subspaces",
        "  sparkmerge subspaces merge.yml hdfs:///analysis/sub --top-k 128 --k 32 --plot 'layers.(0|15).'",
        "  sparkmerge subspaces jobs/ties.yml /data/analysis/ties-sub --report ties-sub.html"})
final class SubspacesCommand extends AnalysisCommand {
  @Option(names = "--top-k", description = "singular values kept per spectrum (default 64)")
  int topK = 64;

  @Option(names = "--k", description = "subspace dimension for top-k energy and overlap (default 16)")
  int k = 16;

  @Option(names = "--plot", description = "plot the spectra of tensors matching this (substring or regex; default 'layers.0.')")
  String plot = "layers.0.";

  @Option(names = "--max-plots", description = "at most this many plots (default 8)")
  int maxPlots = 8;

  @Override
  void checkOptions() {
    if (topK < 1 || k < 1) {
      throw new io.sparkmerge.ConfigException("--top-k and --k must be at least 1");
    }
  }

  @Override
  void run(SparkSession spark, MergeConfig cfg) throws IOException {
    SubspacesJob.run(spark, cfg, new SubspacesJob.Options(out, output.overwrite, topK, k, plot, maxPlots, System.out));
  }
}
