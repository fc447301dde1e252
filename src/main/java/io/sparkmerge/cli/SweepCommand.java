package io.sparkmerge.cli;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.SweepJob;
import io.sparkmerge.plan.SweepPlan;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(mixinStandardHelpOptions = true, name = "sweep",
    description = "Merge many candidates of CONFIG (a grid of parameter values) in one pass over the inputs, "
        + "score them with --eval and keep the best: OUT/candidates/<id>/, OUT/leaderboard.csv and .parquet, OUT/best.",
    footer = {"", "Examples:", "  sparkmerge sweep jobs/ties.yml out --grid lambda=0.1:10:log:9 --eval 'python score.py {model}' --refine 3",
        "  sparkmerge sweep jobs/ties.yml out-ties --grid lambda=0.5,1,2 --grid density=0.1,0.2,0.5",
        "  sparkmerge sweep jobs/ties.yml /shared/out-ex --grid lambda=0.25:4:log:5 --eval ./score.sh --eval-on executors",
        "  sparkmerge sweep jobs/linear.yml out-linear --grid models.1.weight=0.2:0.8:lin:4 --eval ./score.sh --keep best"})
final class SweepCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CONFIG", description = "merge config (YAML); the grid's values override its parameters")
  String config;

  @Parameters(index = "1", paramLabel = "OUT", description = "output directory (must not exist or be empty)")
  String out;

  @picocli.CommandLine.Mixin SparkSessions.Options sparkOptions;

  @Option(names = "--grid", required = true, paramLabel = "NAME=VALUES",
      description = "a grid axis: NAME=a:b:log:n (n log-spaced values), NAME=a:b:lin:n, or NAME=v1,v2,...; NAME is a "
          + "method-wide parameter (lambda, density, ...) or models.I.NAME for model I's; repeat for a product grid")
  List<String> grid = new ArrayList<>();

  @Option(names = "--eval", paramLabel = "CMD", description = "scores a candidate: run with sh -c (see --eval-on), {model} "
      + "replaced by its path; its last stdout line is a JSON object with \"score\" (higher is better) and any other metrics")
  String eval;

  @Option(names = "--eval-on", paramLabel = "driver|executors", description = "where --eval runs: on the driver, one "
      + "candidate after the other (default), or as Spark tasks, one per candidate; with executors, {model} must be "
      + "reachable from every executor (OUT on shared storage)")
  String evalOn = "driver";

  @Option(names = "--eval-timeout", paramLabel = "S", description = "seconds an eval may run before it is killed and the "
      + "candidate marked failed (default ${DEFAULT-VALUE})")
  double evalTimeout = 600;

  @Option(names = "--refine", paramLabel = "N", description = "up to N rounds after the grid that zoom in around the best "
      + "value (log-space midpoints) or extend an axis whose best value is at its edge (needs --eval)")
  int refine = 0;

  @Option(names = "--keep", paramLabel = "best|all", description = "keep all candidates (default) or only the best (needs --eval)")
  String keep = "all";

  @Option(names = "--partitions", description = "at least N output shards / Spark tasks (default: Spark's default parallelism)")
  int partitions = 0;

  @Override
  public Integer call() throws IOException {
    if (!keep.equals("all") && !keep.equals("best")) {
      throw new ConfigException("--keep " + keep + ": use best or all");
    }
    if (!evalOn.equals("driver") && !evalOn.equals("executors")) {
      throw new ConfigException("--eval-on " + evalOn + ": use driver or executors");
    }
    if (eval == null && evalOn.equals("executors")) {
      throw new ConfigException("--eval-on executors needs --eval (the command to run there)");
    }
    if (eval == null && (refine > 0 || keep.equals("best"))) {
      throw new ConfigException("--refine and --keep best need --eval (a score to compare candidates by)");
    }
    if (refine < 0 || partitions < 0 || !(evalTimeout > 0)) {
      throw new ConfigException("--refine and --partitions must be ≥ 0 and --eval-timeout > 0");
    }
    List<SweepPlan.Axis> axes = new ArrayList<>();
    for (String g : grid) {
      SweepPlan.Axis a = SweepPlan.Axis.parse(g);
      if (axes.stream().anyMatch(b -> b.name().equals(a.name()))) {
        throw new ConfigException("--grid " + a.name() + " is given twice");
      }
      axes.add(a);
    }
    MergeConfig cfg = MergeCommand.load(config);
    try (SparkSession spark = sparkOptions.create("sparkmerge sweep " + cfg.mergeMethod())) {
      SweepJob.Outcome o = SweepJob.run(spark, cfg, new SweepJob.Options(out, axes, eval, evalTimeout, refine, keep.equals("all"),
          partitions, System.out, evalOn.equals("executors")));
      spec.commandLine().getOut().println("swept " + o.rows().size() + " candidate(s) in " + o.rounds() + " round(s) into " + o.out()
          + (o.best() == null ? "" : "; best: candidates/" + o.best()));
      return 0;
    }
  }
}
