package io.sparkmerge.cli;

import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.job.MergeJob;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(mixinStandardHelpOptions = true, name = "merge", description = "Merge the models of CONFIG into OUT (sharded safetensors + index + manifest).",
    footer = {"", "Examples:", "  sparkmerge merge jobs/ties.yml /data/merged --master local[2]",
        "  sparkmerge merge jobs/ties.yml hdfs:///out/merged --partitions 64 --overwrite",
        "  sparkmerge merge jobs/linear.yml out --dry-run"})
final class MergeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CONFIG", description = "merge config (YAML)")
  String config;

  @Parameters(index = "1", paramLabel = "OUT", description = "output directory (local path, hdfs://, s3a://)")
  String out;

  @picocli.CommandLine.Mixin SparkSessions.Options sparkOptions;

  @Option(names = "--partitions", description = "at least N output shards / Spark tasks, when there are enough tensors "
      + "(default: Spark's default parallelism, and more if out_shard_size needs them)")
  int partitions = 0;

  @Option(names = "--overwrite", description = "replace an existing, non-empty OUT (the old OUT survives a failed run)")
  boolean overwrite;

  @Option(names = "--resume", description = "reuse the shards a failed or killed run of the same plan left in OUT's staging "
      + "(checked against the plan and their SHA-256), and keep this run's finished shards if it fails")
  boolean resume;

  @Option(names = "--dry-run", description = "print the plan (shards, tensors, bytes, memory) and exit")
  boolean dryRun;

  @Override
  public Integer call() throws IOException {
    if (partitions < 0) {
      throw new ConfigException("--partitions must be at least 1, got " + partitions);
    }
    MergeConfig cfg = load(config);
    var out = spec.commandLine().getOut();
    if (dryRun) {
      // Without a cluster to ask, assume local mode's parallelism (one task per core).
      int p = partitions > 0 ? partitions : Runtime.getRuntime().availableProcessors();
      MergePlan plan = MergeJob.plan(sparkOptions.hadoop(), cfg, p);
      out.println(MergeJob.describe(plan));
      if (partitions == 0) {
        out.println("(no --partitions given: planned for " + p + " parallel tasks, as local mode on this machine would run)");
      }
      return 0;
    }
    SparkSessions.preflight(this.out, overwrite, cfg, sparkOptions.confs);
    long sessionStart = System.currentTimeMillis();
    try (SparkSession spark = sparkOptions.create("sparkmerge merge " + cfg.mergeMethod())) {
      long sessionMs = System.currentTimeMillis() - sessionStart;
      MergeJob.Outcome o = MergeJob.run(spark, cfg, new MergeJob.Options(this.out, overwrite, partitions, System.out, resume));
      out.println(String.format(Locale.ROOT, "merged %d tensors (%s) into %s: %d shard(s), %.3f GB written; timings %s ms%s",
          o.plan().tensorCount(), o.plan().method(), o.out(), o.plan().shards().size(), o.bytesWritten() / 1e9, o.timingsMs(),
          o.warnings().isEmpty() ? "" : "; " + o.warnings().size() + " warning(s) in sparkmerge.json"));
      if (spec.commandLine().getParent() != null && spec.commandLine().getParent().getCommand() instanceof Main m && m.verbose) {
        // issue 17's fixed cost, phase by phase: what precedes the first task, and the commit after the last
        long jvmStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
        out.println(String.format(Locale.ROOT, "phases: JVM start to Spark session start (JVM, CLI, config, preflight) %d ms, Spark session %d ms, then %s ms",
            sessionStart - jvmStart, sessionMs, o.timingsMs()));
      }
      return 0;
    }
  }

  static MergeConfig load(String path) throws IOException {
    try {
      return ConfigLoader.parse(Files.readString(java.nio.file.Path.of(path), StandardCharsets.UTF_8), path);
    } catch (NoSuchFileException e) {
      throw new ConfigException(path + ": config file not found");
    }
  }
}
