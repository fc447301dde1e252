package io.sparkmerge.job;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.exec.ShardResult;
import io.sparkmerge.output.Leaderboard;
import io.sparkmerge.output.OutputLifecycle;
import io.sparkmerge.output.OutputPath;
import io.sparkmerge.output.OutputLock;
import io.sparkmerge.output.OverlapRule;
import io.sparkmerge.output.Staging;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.SweepPlan;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * {@code sparkmerge sweep}: many candidates of one merge config, one pass over the inputs per round.
 * Each round plans every candidate ({@link SweepPlan}), runs one Spark task per output shard that
 * writes that shard of every candidate ({@link SweepStage}), and publishes each candidate through its own
 * output lifecycle ({@link OutputLifecycle}: staged, committed like a merge with a manifest naming its
 * parameters, then published whole as {@code OUT/candidates/<id>/}); then evaluates it
 * ({@link CandidateEval}), records it in the {@link Leaderboard} and moves {@code OUT/best}. The sweep
 * holds OUT's lock throughout. {@code --refine} adds rounds around the best value.
 */
public final class SweepJob {

  /**
   * @param eval the evaluation command ({@code {model}}: the candidate's path), or null
   * @param refine refinement rounds after the grid (needs eval)
   * @param keepAll keep every candidate; false: only the best stays (needs eval)
   * @param evalOnExecutors run each candidate's eval as a Spark task (one per candidate) instead of on the driver
   */
  public record Options(String out, List<SweepPlan.Axis> axes, String eval, double evalTimeoutSeconds, int refine,
      boolean keepAll, int partitions, PrintStream console, boolean evalOnExecutors) {
    public Options(String out, List<SweepPlan.Axis> axes, String eval, double evalTimeoutSeconds, int refine, boolean keepAll,
        int partitions, PrintStream console) {
      this(out, axes, eval, evalTimeoutSeconds, refine, keepAll, partitions, console, false);
    }
  }

  /** What a finished sweep produced: its rows, the best candidate's id (null without scores), the rounds run. */
  public record Outcome(String out, List<Leaderboard.Row> rows, String best, int rounds) {}

  private SweepJob() {}

  public static Outcome run(SparkSession spark, MergeConfig cfg, Options o) throws IOException {
    if (o.eval() == null && (o.refine() > 0 || !o.keepAll())) {
      throw new ConfigException("--refine and --keep best need --eval (a score to compare candidates by)");
    }
    Configuration conf = io.sparkmerge.io.Storage.apply(spark.sparkContext().hadoopConfiguration());
    List<OverlapRule.Input> inputs = OverlapRule.inputsOf(cfg);
    OutputLifecycle.Settings settings = OutputLifecycle.Settings.of(spark.conf());
    // the check (exit 2 on an OUT that overlaps an input, exit 4 on a non-empty one) before anything is read
    Path given = OutputPath.parse(o.out());
    FileSystem fs = given.getFileSystem(conf);
    Path out = fs.makeQualified(given);
    OverlapRule.check(conf, List.of(out), inputs);
    checkEmpty(fs, out);
    int partitions = o.partitions() > 0 ? o.partitions() : spark.sparkContext().defaultParallelism();
    String runId = MergeJob.newRunId();
    StageRunner runner = new StageRunner(spark, runId, o.console());
    try (OutputLock lock = OutputLifecycle.holdLock(conf, o.out(), inputs, settings, "sweep-" + runId, runner::cancelAll)) {
      fs.mkdirs(out);
      Leaderboard board = new Leaderboard(conf, fs, out, o.axes().stream().map(SweepPlan.Axis::name).toList());
      CandidateEval eval = o.eval() == null ? null : new CandidateEval(o.eval(), o.evalTimeoutSeconds());
      List<SweepPlan.Axis> axes = o.axes();
      List<SweepPlan.Candidate> todo = SweepPlan.grid(axes);
      Set<String> tried = new HashSet<>();
      int round = 0;
      Context x = new Context(spark, conf, fs, cfg, out, inputs, settings, runner, board, eval, o, partitions);
      while (true) {
        o.console().println(String.format(Locale.ROOT, "sweep round %d: %d candidate(s) in one pass", round, todo.size()));
        runRound(x, axes, todo, round);
        todo.forEach(c -> tried.add(c.id()));
        Optional<Leaderboard.Row> best = board.best();
        if (round >= o.refine() || best.isEmpty()) {
          break;
        }
        SweepPlan.Refinement r = SweepPlan.refine(axes, best.get().params(), tried);
        if (r.candidates().isEmpty()) {
          break;
        }
        axes = r.axes();
        todo = r.candidates();
        round++;
      }
      board.writeParquet(spark);
      fs.create(new Path(out, OutputLifecycle.SUCCESS), true).close(); // the sweep finished
      String best = board.best().map(Leaderboard.Row::id).orElse(null);
      o.console().println("sweep done: " + board.rows().size() + " candidate(s), best " + (best == null ? "(no scores)" : best));
      return new Outcome(out.toString(), board.rows(), best, round + 1);
    }
  }

  /**
   * Exit 4 unless OUT is absent, empty, or holds only what a killed sweep left: {@code candidates/} with
   * no published candidate (only hidden lifecycle work directories, taken over by this run).
   */
  private static void checkEmpty(FileSystem fs, Path out) throws IOException {
    if (!fs.exists(out)) {
      return;
    }
    if (!fs.getFileStatus(out).isDirectory()) {
      throw new io.sparkmerge.OutputExistsException(out + " exists and is a file; choose another output path");
    }
    for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(out)) {
      boolean leftover = st.getPath().getName().equals(Leaderboard.CANDIDATES) && st.isDirectory()
          && java.util.Arrays.stream(fs.listStatus(st.getPath())).allMatch(c -> c.getPath().getName().startsWith("."));
      if (!leftover) {
        throw new io.sparkmerge.OutputExistsException(out + " exists and is not empty (" + st.getPath().getName()
            + "); a sweep writes into a new or empty directory: choose another output path or remove it");
      }
    }
  }

  /** What a round needs of the sweep. */
  private record Context(SparkSession spark, Configuration conf, FileSystem fs, MergeConfig cfg, Path out,
      List<OverlapRule.Input> inputs, OutputLifecycle.Settings settings, StageRunner runner, Leaderboard board,
      CandidateEval eval, Options o, int partitions) {}

  private static void runRound(Context x, List<SweepPlan.Axis> axes, List<SweepPlan.Candidate> todo, int round) throws IOException {
    long t0 = System.currentTimeMillis();
    List<SweepPlan.Candidate> cands = new ArrayList<>();
    List<MergeConfig> cfgs = new ArrayList<>();
    List<SideInputPasses.Resolved> plans = new ArrayList<>();
    List<OutputLifecycle> outputs = new ArrayList<>();
    for (SweepPlan.Candidate c : todo) {
      try {
        MergeConfig cc = SweepPlan.configFor(x.cfg(), axes, c);
        OutputLifecycle l = OutputLifecycle.directory(x.conf(), candidateDir(x.out(), c.id()).toString(), false, x.inputs(),
            x.settings());
        SideInputPasses.Resolved r = SideInputPasses.resolve(x.spark(), MergeJob.plan(x.conf(), cc, x.partitions()), x.partitions(),
            x.o().console());
        if (!plans.isEmpty()) {
          sameLayout(plans.get(0).plan(), r.plan(), c.id());
        }
        cands.add(c);
        cfgs.add(cc);
        plans.add(r);
        outputs.add(l);
      } catch (ConfigException e) {
        x.o().console().println("candidate " + c.id() + " refused: " + e.getMessage());
        x.board().add(new Leaderboard.Row(c.id(), round, c.values(), "invalid", Double.NaN, Map.of(), e.getMessage(), 0));
      }
    }
    if (cands.isEmpty()) {
      return;
    }
    if (round == 0) {
      boolean lambdas = axes.stream().anyMatch(a -> a.name().equals("lambda"));
      x.o().console().println(MergeJob.describe(lambdas ? io.sparkmerge.plan.Planner.forLambdaSweep(plans.get(0).plan())
          : plans.get(0).plan()));
    }
    Staging[] staged = new Staging[cands.size()];
    long[] stage = new long[2];
    // each candidate's lifecycle is open (locked, staged) while the one stage writes all of them; each
    // publishes its candidate, complete, when its work returns
    open(x, outputs, 0, staged, () -> {
      stage[0] = System.currentTimeMillis();
      List<List<ShardResult>> results = SweepStage.run(x.runner(), plans.stream().map(SideInputPasses.Resolved::plan).toList(),
          java.util.Arrays.stream(staged).map(s -> s.scratch().toString()).toList());
      stage[1] = System.currentTimeMillis();
      return results;
    }, (c, staging, results) -> {
      Map<String, Long> timings = new LinkedHashMap<>(Map.of("plan", stage[0] - t0, "merge_all_candidates", stage[1] - stage[0]));
      Map<String, Object> sweep = new LinkedHashMap<>();
      sweep.put("candidate", cands.get(c).id());
      sweep.put("parameters", cands.get(c).values());
      sweep.put("round", round);
      sweep.put("candidates_in_pass", cands.size());
      MergeJob.commit(x.conf(), cfgs.get(c), plans.get(c).plan(), staging, outputs.get(c).out(), results.get(c), timings,
          System.currentTimeMillis(), x.o().console(), Map.of("sweep", sweep), plans.get(c).report());
    });
    score(x, cands, round);
  }

  /** The stage, run inside every candidate's lifecycle. */
  private interface Stage {
    List<List<ShardResult>> run() throws IOException;
  }

  /** Candidate c's commit into its staging, from the stage's results. */
  private interface Commit {
    void commit(int c, Staging staging, List<List<ShardResult>> results) throws IOException;
  }

  /** Opens candidate i's lifecycle (and, inside it, the next ones'); the innermost runs the stage; each commits on the way out. */
  private static List<List<ShardResult>> open(Context x, List<OutputLifecycle> outputs, int i, Staging[] staged, Stage stage,
      Commit commit) throws IOException {
    if (i == outputs.size()) {
      return stage.run();
    }
    return outputs.get(i).run(x.runner().runId() + "-" + i, x.runner()::cancelAll, staging -> {
      staged[i] = staging;
      List<List<ShardResult>> results = open(x, outputs, i + 1, staged, stage, commit);
      commit.commit(i, staging, results);
      return results;
    });
  }

  private static Path candidateDir(Path out, String id) {
    return new Path(new Path(out, Leaderboard.CANDIDATES), id);
  }

  /**
   * Evaluates the round's published candidates (on the driver one after the other, or as one Spark task each
   * with --eval-on executors), records their rows, moves OUT/best and, with --keep best, drops the losers.
   */
  private static void score(Context x, List<SweepPlan.Candidate> cands, int round) throws IOException {
    if (x.eval() == null) {
      for (SweepPlan.Candidate c : cands) {
        x.board().add(new Leaderboard.Row(c.id(), round, c.values(), "merged", Double.NaN, Map.of(), null, 0));
      }
      return;
    }
    List<String> paths = cands.stream().map(c -> candidateDir(x.out(), c.id()).toUri().getPath()).toList();
    if (x.o().evalOnExecutors()) {
      List<CandidateEval.Result> results = x.eval().onExecutors(x.runner(), paths);
      for (int i = 0; i < cands.size(); i++) {
        record(x, cands.get(i), round, results.get(i));
      }
      return;
    }
    for (int i = 0; i < cands.size(); i++) {
      record(x, cands.get(i), round, x.eval().evaluate(paths.get(i)));
    }
  }

  private static void record(Context x, SweepPlan.Candidate c, int round, CandidateEval.Result r) throws IOException {
    Leaderboard board = x.board();
    String before = board.best().map(Leaderboard.Row::id).orElse(null);
    board.add(new Leaderboard.Row(c.id(), round, c.values(), r.ok() ? "ok" : "failed", r.score(), r.metrics(), r.error(),
        r.seconds()));
    x.o().console().println(String.format(Locale.ROOT, "candidate %s: %s", c.id(), r.ok() ? "score " + r.score() : r.error()));
    String after = board.best().map(Leaderboard.Row::id).orElse(null);
    if (after != null && !after.equals(before)) {
      board.pointBestAt(after);
    }
    if (!x.o().keepAll()) {
      String loser = c.id().equals(after) ? before : c.id();
      if (loser != null) {
        // the candidate and its lifecycle's hidden work directory (lock generations; its lock is released)
        Path dir = candidateDir(x.out(), loser);
        x.fs().delete(dir, true);
        x.fs().delete(OutputPath.workDir(dir), true);
      }
    }
  }

  /** Candidates differ only in parameters, so their plans must have one layout (shards, tensors, files). */
  private static void sameLayout(MergePlan a, MergePlan b, String id) {
    boolean same = a.shards().size() == b.shards().size();
    for (int s = 0; same && s < a.shards().size(); s++) {
      ShardPlan x = a.shards().get(s);
      ShardPlan y = b.shards().get(s);
      same = x.fileName().equals(y.fileName()) && x.tensors().size() == y.tensors().size();
      for (int i = 0; same && i < x.tensors().size(); i++) {
        same = x.tensors().get(i).name().equals(y.tensors().get(i).name());
      }
    }
    if (!same) {
      throw new IllegalStateException("candidate " + id + " plans to other shards than the first candidate; a sweep's candidates"
          + " must share one layout (run them as separate merges)");
    }
  }
}
