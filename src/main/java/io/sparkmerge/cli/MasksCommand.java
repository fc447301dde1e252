package io.sparkmerge.cli;

import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.MasksJob;
import java.io.IOException;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(mixinStandardHelpOptions = true, name = "masks",
    description = "The binary masks CONFIG's method applies (localize_stitch: its localization, dataless in either mask_scope "
        + "or given; ties: the magnitude trim at each model's density; lewis: its per-tensor densities through the base "
        + "method's trim), written as BOOL checkpoints OUT/masks/<model>/ (usable as 'masks:' of a localize_stitch merge), "
        + "plus tables mask_density and mask_overlap (Parquet + CSV) in OUT. CONFIG is a merge config (base_model, models, "
        + "merge_method and parameters).",
    footer = {"", "Examples:", "  sparkmerge masks jobs/localize_stitch.yml /data/analysis/masks",
        "  sparkmerge masks jobs/ties.yml hdfs:///analysis/ties-masks --partitions 8",
        "  sparkmerge masks jobs/localize_stitch.yml /data/analysis/ls-masks --report masks.html"})
final class MasksCommand extends AnalysisCommand {
  @Option(names = "--partitions", description = "at least this many Spark tasks (default: Spark's default parallelism)")
  int partitions;

  @Override
  void run(SparkSession spark, MergeConfig cfg) throws IOException {
    MasksJob.run(spark, cfg, new MasksJob.Options(out, output.overwrite, partitions, System.out));
  }
}
