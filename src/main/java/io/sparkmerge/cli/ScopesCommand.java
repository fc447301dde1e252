package io.sparkmerge.cli;

import io.sparkmerge.math.WeightScope;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.ScopesJob;
import java.io.IOException;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(mixinStandardHelpOptions = true, name = "scopes",
    description = "Export the fused target weight scopes (mean, variance) of every 2-D+ tensor over CONFIG's models, weighted "
        + "by their 'weight' parameters (e.g. client sample counts), as OUT.json and OUT.parquet, for the WSA training-time "
        + "regulariser (docs/wsa.md).",
    footer = {"", "Examples:", "  sparkmerge scopes jobs/wsa.yml /data/round-3/scopes.json",
        "  sparkmerge scopes clients.yml hdfs:///fl/round-3/scopes.json --fusion mean --overwrite"})
final class ScopesCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "CONFIG", description = "config naming the models and their weights (merge_method is ignored)")
  String config;

  @Parameters(index = "1", paramLabel = "OUT.json", description = "the JSON file to write; the Parquet table goes beside it (OUT.parquet)")
  String out;

  @Option(names = "--fusion", description = "moment (mixture moments, default) or mean (mean of the variances)")
  String fusion = "moment";

  @picocli.CommandLine.Mixin SparkSessions.Options sparkOptions;

  @Option(names = "--overwrite", description = "replace existing OUT.json / OUT.parquet")
  boolean overwrite;

  @Override
  public Integer call() throws IOException {
    WeightScope.Fusion f = WeightScope.Fusion.parse(fusion);
    MergeConfig cfg = MergeCommand.load(config);
    ScopesJob.check(io.sparkmerge.io.Storage.configuration(SparkSessions.settings(sparkOptions.confs)), cfg, out, overwrite); // before Spark starts
    try (SparkSession spark = sparkOptions.create("sparkmerge scopes")) {
      ScopesJob.run(spark, cfg, new ScopesJob.Options(out, overwrite, f, System.out));
      return 0;
    }
  }
}
