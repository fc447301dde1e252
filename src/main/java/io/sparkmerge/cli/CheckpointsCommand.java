package io.sparkmerge.cli;

import io.sparkmerge.ConfigException;
import io.sparkmerge.job.CheckpointMergeJob;
import io.sparkmerge.job.WsmWindow;
import io.sparkmerge.math.WsmWeights;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(mixinStandardHelpOptions = true, name = "checkpoints",
    description = {"WSM: merge the newest --window checkpoints (or those of the newest --window-steps training steps) of one constant-LR run under ROOT (checkpoint-1000, step_2000, "
        + "global_step3000, iter_0004000, ...) with Theorem 3.1 weights of a decay --schedule, so the result approximates the "
        + "run with that LR decay.",
        "With --watch or --once, OUT is a directory of versioned merges OUT/step-<N>/ and a pointer file OUT/latest."},
    footer = {"", "Examples:", "  sparkmerge checkpoints /runs/r1 /models/r1-wsm --window 4 --schedule 1-sqrt",
        "  sparkmerge checkpoints /runs/r1 /models/r1-wsm-steps --window-steps 2000 --stride 2 --schedule cosine",
        "  sparkmerge checkpoints /runs/r1 /models/r1-wsm-custom --window 8 --weights 1,0.9,0.8,0.6,0.4,0.3,0.2,0.1",
        "  sparkmerge checkpoints hdfs:///runs/r1 hdfs:///wsm/r1 --window 4 --schedule cosine --once      # from cron/Airflow",
        "  sparkmerge checkpoints /runs/r1 /wsm/r1 --window 4 --schedule linear --watch --poll-interval 300"})
final class CheckpointsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "ROOT", description = "directory holding the run's checkpoint directories")
  String root;

  @Parameters(index = "1", paramLabel = "OUT", description = "output directory (with --watch/--once: parent of step-<N>/ and latest)")
  String out;

  @Option(names = "--window", description = "k: merge the k newest complete checkpoints (or give --window-steps)")
  int window;

  @Option(names = "--window-steps", description = "S: merge the checkpoints of the newest S training steps, however many fall "
      + "in them (the anchor is the newest checkpoint at or before step s_newest - S); the merge duration of the paper")
  long windowSteps;

  @Option(names = "--stride", description = "N: take every N-th complete checkpoint, counting back from the newest (default 1); "
      + "the interval between merged checkpoints")
  int stride = 1;

  @Option(names = "--schedule", description = "decay curve: linear (the plain mean), cosine, 1-sqrt, ema (default linear)")
  String schedule;

  @Option(names = "--ema-alpha", description = "alpha of --schedule ema: c_j proportional to alpha^(k-j) (default 0.5)")
  double emaAlpha = 0.5;

  @Option(names = "--weights", split = ",", description = "custom curve: LR multipliers w1..wk of the window's intervals "
      + "(oldest first, w1 <= 1, non-increasing); Theorem 3.1 turns them into merge weights (w1 < 1 weighs the checkpoint "
      + "before the window)")
  double[] weights;

  @Option(names = "--marker", description = "a checkpoint is complete when this file exists in it (default: when every "
      + "shard its index lists is present and whole)")
  String marker;

  @Option(names = "--watch", description = "keep polling ROOT and merge the newest window whenever a new complete checkpoint appears")
  boolean watch;

  @Option(names = "--once", description = "one pass of --watch (merge the newest window if not merged yet), then exit; for cron/Airflow")
  boolean once;

  @Option(names = "--poll-interval", description = "seconds between polls of --watch (default 60)")
  double pollInterval = 60;

  @Option(names = "--max-polls", description = "stop --watch after this many polls (default 0: run until killed)")
  int maxPolls = 0;

  @Option(names = "--partitions", description = "at least N output shards / Spark tasks (default: Spark's default parallelism)")
  int partitions = 0;

  @picocli.CommandLine.Mixin SparkSessions.Options sparkOptions;

  @Option(names = "--overwrite", description = "replace an existing, non-empty OUT (one-shot mode)")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    if (weights != null && schedule != null) {
      throw new ConfigException("give either --schedule or --weights, not both");
    }
    if (watch && once) {
      throw new ConfigException("give either --watch (keep polling) or --once (one pass), not both");
    }
    if (!(pollInterval >= 0) || Double.isInfinite(pollInterval) || maxPolls < 0 || partitions < 0) {
      throw new ConfigException("--poll-interval must be a finite number of seconds and --max-polls and --partitions must not be"
          + " negative; got --poll-interval " + pollInterval + ", --max-polls " + maxPolls + ", --partitions " + partitions);
    }
    if ((window > 0) == (windowSteps > 0) || window < 0 || windowSteps < 0) {
      throw new ConfigException("give one of --window k (the k newest checkpoints) or --window-steps S (the newest S training "
          + "steps), a positive number");
    }
    if (stride < 1) {
      throw new ConfigException("--stride must be at least 1, got " + stride);
    }
    if (weights != null && window == 0) {
      throw new ConfigException("--weights gives one multiplier per checkpoint of the window: use it with --window k, not --window-steps");
    }
    if (weights != null && weights.length != window) {
      throw new ConfigException("--weights has " + weights.length + " values but --window is " + window + "; give one per checkpoint");
    }
    String sched = schedule == null ? "linear" : schedule.toLowerCase(Locale.ROOT);
    IntFunction<WsmWeights.Result> weigher = k -> weights != null ? WsmWeights.custom(weights) : WsmWeights.of(sched, k, emaAlpha);
    var console = spec.commandLine().getOut();
    // validates the schedule before any Spark work; with --window-steps the window's size (and weights) come per merge
    WsmWeights.Result w = weigher.apply(window > 0 ? window : 1);
    if (window > 0) {
      console.println("weights " + w + " (equal step gaps; uneven gaps are weighed by their steps)");
    }
    var o = new CheckpointMergeJob.Options(root, marker, new WsmWindow.Rule(window, windowSteps, stride, weigher), partitions, System.out);
    // an OUT that overlaps ROOT would be taken for checkpoints, or delete them (exit 2 before Spark starts)
    io.sparkmerge.output.OverlapRule.check(io.sparkmerge.io.Storage.configuration(SparkSessions.settings(sparkOptions.confs)),
        List.of(io.sparkmerge.output.OutputPath.parse(out)), List.of(new io.sparkmerge.output.OverlapRule.Input("checkpoint ROOT", root)));
    try (SparkSession spark = sparkOptions.create("sparkmerge checkpoints")) {
      if (watch || once) {
        List<Long> merged = CheckpointMergeJob.watch(spark, o, out, once, Math.round(pollInterval * 1000), maxPolls);
        console.println(merged.isEmpty() ? "no new step merged" : "merged steps " + merged);
      } else {
        var r = CheckpointMergeJob.mergeNewest(spark, o, out, overwrite);
        console.println(String.format(Locale.ROOT, "merged %d tensors into %s: %.3f GB written", r.plan().tensorCount(), r.out(),
            r.bytesWritten() / 1e9));
      }
      return 0;
    }
  }
}
