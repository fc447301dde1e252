package io.sparkmerge.cli;

import io.sparkmerge.math.WeightScope;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.StatsJob;
import java.io.IOException;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(mixinStandardHelpOptions = true, name = "stats",
    description = "Scope statistics of every tensor of CONFIG's models (mean, variance, min, max, L2, zeros, NaN/Inf; with a "
        + "base the same for task vectors plus pairwise cosine and sign conflicts; fused scope and each model's KL to it) "
        + "as tables tensor_stats and pair_stats (Parquet + CSV) in OUT.",
    footer = {"", "Examples:", "  sparkmerge stats jobs/ties.yml /data/analysis/stats",
        "  sparkmerge stats merge.yml hdfs:///analysis/stats --fusion mean --top 20",
        "  sparkmerge stats jobs/ties.yml /data/analysis/stats --report stats.html"})
final class StatsCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "CONFIG", description = "config naming models (and optionally base_model); "
      + "per-model 'weight' parameters weigh the scope fusion; merge_method is ignored")
  String config;

  @Parameters(index = "1", paramLabel = "OUT", description = "output directory")
  String out;

  @Option(names = "--fusion", description = "scope fusion: moment (mixture moments, default) or mean (mean of variances)")
  String fusion = "moment";

  @Option(names = "--top", description = "layers listed in the console summary (default 10)")
  int top = 10;

  @picocli.CommandLine.Mixin SparkSessions.Options sparkOptions;

  @Option(names = "--overwrite", description = "replace an existing, non-empty OUT")
  boolean overwrite;

  @picocli.CommandLine.Mixin ReportWriter.Option reportOption;

  @Override
  public Integer call() throws IOException {
    WeightScope.Fusion f = WeightScope.Fusion.parse(fusion);
    MergeConfig cfg = MergeCommand.load(config);
    try (SparkSession spark = sparkOptions.create("sparkmerge stats")) {
      StatsJob.run(spark, cfg, new StatsJob.Options(out, overwrite, f, top, System.out));
    }
    reportOption.writeIfAsked(out, overwrite);
    return 0;
  }
}
