package io.sparkmerge.cli;

import io.sparkmerge.math.WeightScope;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.StatsJob;
import java.io.IOException;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(mixinStandardHelpOptions = true, name = "stats",
    description = "Scope statistics of every tensor of CONFIG's models (mean, variance, min, max, L2, zeros, NaN/Inf; with a "
        + "base the same for task vectors plus pairwise cosine and sign conflicts; fused scope and each model's KL to it) "
        + "as tables tensor_stats and pair_stats (Parquet + CSV) in OUT. CONFIG names models (and optionally base_model); "
        + "per-model 'weight' parameters weigh the scope fusion; merge_method is ignored.",
    footer = {"", "Examples:", "  sparkmerge stats jobs/ties.yml /data/analysis/stats",
        "  sparkmerge stats merge.yml hdfs:///analysis/stats --fusion mean --top 20",
        "  sparkmerge stats jobs/ties.yml /data/analysis/ties-stats --report stats.html"})
final class StatsCommand extends AnalysisCommand {
  @Option(names = "--fusion", description = "scope fusion: moment (mixture moments, default) or mean (mean of variances)")
  String fusion = "moment";

  @Option(names = "--top", description = "layers listed in the console summary (default 10)")
  int top = 10;

  @Override
  void run(SparkSession spark, MergeConfig cfg) throws IOException {
    StatsJob.run(spark, cfg, new StatsJob.Options(out, output.overwrite, WeightScope.Fusion.parse(fusion), top, System.out));
  }

  @Override
  void checkOptions() {
    WeightScope.Fusion.parse(fusion);
  }
}
