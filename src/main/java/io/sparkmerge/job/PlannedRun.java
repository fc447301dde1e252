package io.sparkmerge.job;

import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.Storage;
import io.sparkmerge.output.OutputLifecycle;
import io.sparkmerge.output.OverlapRule;
import io.sparkmerge.plan.MergePlan;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/**
 * How the jobs that write a directory of per-shard files from a merge config's plan (masks, task
 * vectors) start: the output is claimed (and checked) before the config's models are planned over
 * the requested partitions (0: Spark's default parallelism).
 */
record PlannedRun(OutputLifecycle output, int partitions, MergePlan plan) {
  static PlannedRun start(SparkSession spark, MergeConfig cfg, String out, boolean overwrite, int requestedPartitions)
      throws IOException {
    Configuration conf = Storage.apply(spark.sparkContext().hadoopConfiguration());
    OutputLifecycle output = OutputLifecycle.directory(conf, out, overwrite, OverlapRule.inputsOf(cfg),
        OutputLifecycle.Settings.of(spark.conf()));
    int partitions = requestedPartitions > 0 ? requestedPartitions : spark.sparkContext().defaultParallelism();
    return new PlannedRun(output, partitions, MergeJob.plan(conf, cfg, partitions));
  }
}
