package io.sparkmerge.cli;

import io.sparkmerge.config.MergeConfig;
import java.io.IOException;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * What the commands that analyse a config's models share (masks, stats, subspaces): CONFIG and OUT,
 * the Spark options, {@code --overwrite} and {@code --report}; the config is loaded, the job runs in a
 * Spark session named after the command, and the HTML report follows when asked for.
 */
abstract class AnalysisCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "CONFIG", description = "the config whose models are analysed (what is read of it: see above)")
  String config;

  @Parameters(index = "1", paramLabel = "OUT", description = "output directory")
  String out;

  @Mixin SparkSessions.Options sparkOptions;

  @Mixin OverwriteOption output;

  @Mixin ReportWriter.Option reportOption;

  /** Checks the command's own options before anything is read. */
  void checkOptions() {}

  /** Runs the command's job. */
  abstract void run(SparkSession spark, MergeConfig cfg) throws IOException;

  @Override
  public Integer call() throws IOException {
    checkOptions();
    MergeConfig cfg = MergeCommand.load(config);
    SparkSessions.preflight(out, output.overwrite, cfg, sparkOptions.confs);
    try (SparkSession spark = sparkOptions.create("sparkmerge " + getClass().getAnnotation(Command.class).name())) {
      run(spark, cfg);
    }
    reportOption.writeIfAsked(sparkOptions.hadoop(), out, output.overwrite);
    return 0;
  }
}
