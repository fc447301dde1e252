package io.sparkmerge.cli;

import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Builds the SparkSession a command runs in: spark-submit's settings when present, else local mode. */
final class SparkSessions {
  private SparkSessions() {}

  /** The {@code --master} and {@code --conf} options every Spark command takes (a picocli mixin). */
  static final class Options {
    @picocli.CommandLine.Option(names = "--master", description = "Spark master (default: spark-submit's, else local[*])")
    String master;

    @picocli.CommandLine.Option(names = "--conf", description = "Spark setting key=value (repeatable)")
    List<String> confs = new java.util.ArrayList<>();

    SparkSession create(String appName) {
      return SparkSessions.create(appName, master, confs);
    }
  }

  /**
   * The output lifecycle's check (the overlap rule, an existing output needs --overwrite) before a Spark
   * session starts, so a mistaken path costs nothing; the job checks again, authoritatively, under its lock.
   */
  static void preflight(String out, boolean overwrite, io.sparkmerge.config.MergeConfig cfg) throws java.io.IOException {
    io.sparkmerge.output.OutputLifecycle.directory(io.sparkmerge.io.Storage.configuration(), out, overwrite,
        io.sparkmerge.output.OverlapRule.inputsOf(cfg), io.sparkmerge.output.OutputLifecycle.Settings.DEFAULT);
  }

  static SparkSession create(String appName, String master, List<String> confs) {
    SparkConf conf = new SparkConf(true);
    if (master != null) {
      conf.setMaster(master);
    } else if (!conf.contains("spark.master")) {
      conf.setMaster("local[*]");
    }
    conf.setIfMissing("spark.ui.showConsoleProgress", "false");
    for (String[] kv : io.sparkmerge.io.Storage.SPARK_SETTINGS) {
      conf.setIfMissing(kv[0], kv[1]);
    }
    // One shard = one task; Spark's own retries and speculation are safe because attempts never share files.
    conf.setIfMissing("spark.task.maxFailures", "4");
    for (String kv : confs) {
      int i = kv.indexOf('=');
      if (i <= 0) {
        throw new io.sparkmerge.ConfigException("--conf '" + kv + "' must be key=value");
      }
      conf.set(kv.substring(0, i), kv.substring(i + 1));
    }
    return SparkSession.builder().appName(appName).config(conf).getOrCreate();
  }
}
