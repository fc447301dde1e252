package io.sparkmerge.cli;

import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
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

    @picocli.CommandLine.Option(names = "--progress", paramLabel = "text|json|none", converter = ProgressMode.class,
        description = "progress of the Spark stages: a text line (default); json: one JSON event per line on stdout "
            + "(shards, tensors, bytes, GB/s, ETA; a final event with status, exit code and OUT), all other output on stderr; none")
    io.sparkmerge.job.ProgressOutput.Mode progress = io.sparkmerge.job.ProgressOutput.Mode.TEXT;

    SparkSession create(String appName) {
      return SparkSessions.create(appName, master, confs);
    }

    /** The Hadoop configuration of this command's work done without Spark (e.g. a dry run's plan). */
    Configuration hadoop() {
      return io.sparkmerge.io.Storage.configuration(settings(confs));
    }
  }

  /** {@code --progress}'s value, any case. */
  static final class ProgressMode implements picocli.CommandLine.ITypeConverter<io.sparkmerge.job.ProgressOutput.Mode> {
    @Override
    public io.sparkmerge.job.ProgressOutput.Mode convert(String s) {
      return io.sparkmerge.job.ProgressOutput.Mode.parse(s);
    }
  }

  /** {@code --conf spark.hadoop.K=V} for the commands that run without Spark: S3A endpoint, credentials, ... (a picocli mixin). */
  static final class HadoopOptions {
    @picocli.CommandLine.Option(names = "--conf", paramLabel = "spark.hadoop.K=V",
        description = "Hadoop setting for the file systems read and written, as Spark commands take it (repeatable), "
            + "e.g. spark.hadoop.fs.s3a.endpoint=http://minio:9000")
    List<String> confs = new java.util.ArrayList<>();

    Configuration hadoop() {
      return io.sparkmerge.io.Storage.configuration(settings(confs));
    }
  }

  /** Parses {@code key=value} arguments of --conf; a malformed one is a usage error (exit 2). */
  static List<Map.Entry<String, String>> settings(List<String> confs) {
    List<Map.Entry<String, String>> l = new java.util.ArrayList<>();
    for (String kv : confs) {
      int i = kv.indexOf('=');
      if (i <= 0) {
        throw new io.sparkmerge.ConfigException("--conf '" + kv + "' must be key=value");
      }
      l.add(Map.entry(kv.substring(0, i), kv.substring(i + 1)));
    }
    return l;
  }

  /**
   * The output lifecycle's check (the overlap rule, an existing output needs --overwrite) before a Spark
   * session starts, so a mistaken path costs nothing; the job checks again, authoritatively, under its lock.
   * The command's {@code --conf spark.hadoop.*} settings apply (an S3 endpoint and its credentials).
   */
  static void preflight(String out, boolean overwrite, io.sparkmerge.config.MergeConfig cfg, List<String> confs)
      throws java.io.IOException {
    io.sparkmerge.output.OutputLifecycle.directory(io.sparkmerge.io.Storage.configuration(settings(confs)), out, overwrite,
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
    for (Map.Entry<String, String> kv : settings(confs)) {
      conf.set(kv.getKey(), kv.getValue());
    }
    SparkSession spark = SparkSession.builder().appName(appName).config(conf).getOrCreate();
    // A session that already existed (an embedding application, the tests) keeps its Hadoop configuration; the
    // spark.hadoop.* settings of this command (e.g. an S3A endpoint) must reach the FileSystems it opens all the same.
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    for (scala.Tuple2<String, String> kv : conf.getAllWithPrefix("spark.hadoop.")) {
      hadoop.set(kv._1(), kv._2());
    }
    return spark;
  }
}
