package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.output.Leaderboard;
import io.sparkmerge.plan.SweepPlan;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * sparkmerge sweep through the real Spark job on a generated family: every candidate of a one-pass sweep
 * equals, bit for bit, the single merge with that parameter value (written out in the config text);
 * failing and hanging evals mark their candidates failed and the sweep goes on; refine finds the peak
 * of a known score curve beyond the grid's edge; --keep best leaves the best only.
 */
public class SweepJobTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 5, 2);
  }

  private static String config(String method, String model1, String model2, String global) {
    return String.format(Locale.ROOT, """
        merge_method: %s
        base_model: BASE
        models:
          - model: FT1
            parameters: {%s}
          - model: FT2
            parameters: {%s}
        parameters: {%s}
        seed: 7
        """, method, model1, model2, global);
  }

  private SweepJob.Outcome sweep(String yaml, Path out, List<String> grid, String eval, int refine, boolean keepAll)
      throws IOException {
    MergeConfig cfg = Configs.parse(yaml, dirs);
    List<SweepPlan.Axis> axes = grid.stream().map(SweepPlan.Axis::parse).toList();
    return SweepJob.run(SparkTestSession.get(), cfg, new SweepJob.Options(out.toString(), axes, eval, 3, refine, keepAll, 3,
        new PrintStream(new ByteArrayOutputStream())));
  }

  /** Sweeps the grid, then merges each candidate's config text on its own and compares every tensor's bytes. */
  private void assertCandidatesEqualSingleMerges(String name, String template, List<String> grid, Map<String, String> texts)
      throws IOException {
    Path out = work.resolve(name);
    SweepJob.Outcome o = sweep(template, out, grid, null, 0, true);
    assertEquals(texts.size(), o.rows().size(), "one candidate per grid point");
    for (Map.Entry<String, String> e : texts.entrySet()) {
      Path cand = out.resolve("candidates").resolve(e.getKey());
      assertTrue(Files.exists(cand.resolve("_SUCCESS")), "candidate " + e.getKey() + " committed");
      String single = work.resolve(name + "-single-" + e.getKey()).toString();
      MergeJob.run(SparkTestSession.get(), Configs.parse(e.getValue(), dirs),
          new MergeJob.Options(single, false, 3, new PrintStream(new ByteArrayOutputStream())));
      Map<String, byte[]> want = Checkpoints.rawBytes(single);
      Map<String, byte[]> got = Checkpoints.rawBytes(cand.toString());
      assertEquals(want.keySet(), got.keySet());
      want.forEach((t, b) -> assertArrayEquals(b, got.get(t), name + " " + e.getKey() + ": tensor " + t));
      assertTrue(Files.readString(cand.resolve("sparkmerge.json")).contains("\"candidate\" : \"" + e.getKey() + "\""),
          "the manifest names the candidate");
    }
    assertTrue(Files.exists(out.resolve("leaderboard.csv")) && Files.exists(out.resolve("leaderboard.parquet"))
        && Files.exists(out.resolve("_SUCCESS")));
  }

  @Test
  void linearCandidatesEqualSingleMerges() throws IOException {
    String t = config("linear", "weight: 0.5", "weight: %s", "normalize: true");
    assertCandidatesEqualSingleMerges("linear", String.format(t, "0.5"), List.of("models.1.weight=0.2,0.9"),
        Map.of("models-1-weight=0.2", String.format(t, "0.2"), "models-1-weight=0.9", String.format(t, "0.9")));
  }

  /** Candidates λ = 0.5 and 1.7 of a template with %s for λ, against the single merges. */
  private void assertLambdaCandidates(String name, String template) throws IOException {
    assertCandidatesEqualSingleMerges(name, String.format(template, "1"), List.of("lambda=0.5,1.7"),
        Map.of("lambda=0.5", String.format(template, "0.5"), "lambda=1.7", String.format(template, "1.7")));
  }

  @Test
  void taskArithmeticCandidatesEqualSingleMerges() throws IOException {
    assertLambdaCandidates("ta", config("task_arithmetic", "weight: 0.6", "weight: 0.4", "lambda: %s"));
  }

  @Test
  void tiesCandidatesOverLambdaAndDensityEqualSingleMerges() throws IOException {
    String t = config("ties", "weight: 0.6, density: %2$s", "weight: 0.4, density: %2$s", "lambda: %1$s");
    Map<String, String> texts = new java.util.LinkedHashMap<>();
    for (String l : List.of("0.5", "1.7")) {
      for (String d : List.of("0.3", "0.8")) {
        texts.put("lambda=" + l + "_density=" + d, String.format(t, l, d));
      }
    }
    assertCandidatesEqualSingleMerges("ties", String.format(t, "1", "0.5"), List.of("lambda=0.5,1.7", "density=0.3,0.8"), texts);
  }

  @Test
  void dareTiesCandidatesEqualSingleMerges() throws IOException {
    assertLambdaCandidates("dare", config("dare_ties", "weight: 0.6, density: 0.5", "weight: 0.4, density: 0.5", "lambda: %s"));
  }

  @Test
  void isoCCandidatesEqualSingleMerges() throws IOException {
    assertLambdaCandidates("iso_c", config("iso_c", "weight: 1", "weight: 1", "lambda: %s"));
  }

  /** A λ sweep of TIES plans one float64 Δ per chunk element more per task; Iso-C's (no DeltaMerge) plans what a merge does. */
  @Test
  void aLambdaSweepPlansTheDeltaMergesFloat64DeltaPerChunk() {
    var conf = new org.apache.hadoop.conf.Configuration();
    io.sparkmerge.plan.MergePlan ties = MergeJob.plan(conf, Configs.parse(config("ties", "weight: 0.6, density: 0.5",
        "weight: 0.4, density: 0.5", "lambda: 1"), dirs), 2);
    long largest = ties.shards().stream().flatMap(s -> s.tensors().stream()).filter(t -> !t.isRawCopy())
        .mapToLong(io.sparkmerge.plan.TensorTask::numel).max().orElseThrow();
    assertEquals(ties.peakMemoryBytes() + 8 * largest, io.sparkmerge.plan.Planner.forLambdaSweep(ties).peakMemoryBytes(),
        "tiny tensors fit one chunk: Δ of the largest, 8 bytes an element");
    io.sparkmerge.plan.MergePlan isoC = MergeJob.plan(conf, Configs.parse(config("iso_c", "weight: 1", "weight: 1", "lambda: 1"),
        dirs), 2);
    assertEquals(isoC.peakMemoryBytes(), io.sparkmerge.plan.Planner.forLambdaSweep(isoC).peakMemoryBytes());
  }

  /** A fake eval: score −(ln(λ/peak))², exit 3 at λ = fail, hang at λ = hang. */
  private Path evalScript(double peak, double fail, double hang) throws IOException {
    Path py = work.resolve("score.py");
    Files.writeString(py, String.format(Locale.ROOT, """
        import json, math, sys, time
        lam = json.load(open(sys.argv[1] + '/sparkmerge.json'))['sweep']['parameters']['lambda']
        if abs(lam - %s) < 1e-12: sys.exit(3)
        if abs(lam - %s) < 1e-12: time.sleep(120)
        print('scoring', sys.argv[1])
        print(json.dumps({'score': -math.log(lam / %s) ** 2, 'lam': lam}))
        """, fail, hang, peak));
    return py;
  }

  /** λ = 0.5 failed (exit 3), λ = 1 scored −(ln(1/0.9))² and is the best, λ = 2 timed out. */
  private static void assertFailedOkTimedOut(SweepJob.Outcome o) {
    Map<String, Leaderboard.Row> rows = o.rows().stream().collect(Collectors.toMap(Leaderboard.Row::id, r -> r));
    assertEquals("failed", rows.get("lambda=0.5").status());
    assertTrue(rows.get("lambda=0.5").error().contains("status 3"), rows.get("lambda=0.5").error());
    assertEquals("failed", rows.get("lambda=2").status());
    assertTrue(rows.get("lambda=2").error().contains("timed out"), rows.get("lambda=2").error());
    assertEquals("ok", rows.get("lambda=1").status());
    assertEquals(-Math.pow(Math.log(1 / 0.9), 2), rows.get("lambda=1").score(), 1e-12);
    assertEquals("lambda=1", o.best());
  }

  @Test
  void failingAndHangingEvalsMarkTheirCandidatesFailedAndTheSweepGoesOn() throws IOException {
    String yaml = config("task_arithmetic", "weight: 0.5", "weight: 0.5", "lambda: 1");
    Path py = evalScript(0.9, 0.5, 2.0);
    long t0 = System.currentTimeMillis();
    SweepJob.Outcome o = sweep(yaml, work.resolve("evals"), List.of("lambda=0.5,1,2"), "/usr/bin/python3 " + py + " {model}", 0, true);
    assertFailedOkTimedOut(o);
    assertEquals("lambda=1", Leaderboard.bestOf(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(work.resolve("evals").toString())));
    assertTrue(System.currentTimeMillis() - t0 < 60_000, "the hanging eval was killed at its timeout");
    String csv = Files.readString(work.resolve("evals/leaderboard.csv"));
    assertTrue(csv.startsWith("id,round,lambda,status,score,metrics,error,eval_seconds\n"), csv);
    assertTrue(csv.contains("\"{\"\"lam\"\":1.0}\""), csv);
  }

  /**
   * --eval-on executors: the same statuses, scores and timeout as the driver's evals, and the evals ran as
   * Spark tasks side by side (local[2]: the hanging eval of λ = 2 started before the eval of λ = 1 ended; on
   * the driver they run one after the other).
   */
  @Test
  void evalsOnExecutorsRunAsTasksWithTheDriversSemantics() throws IOException, InterruptedException {
    String yaml = config("task_arithmetic", "weight: 0.5", "weight: 0.5", "lambda: 1");
    Path marks = Files.createDirectories(work.resolve("marks"));
    Path py = work.resolve("timed.py");
    Files.writeString(py, String.format(Locale.ROOT, """
        import json, math, sys, time
        lam = json.load(open(sys.argv[1] + '/sparkmerge.json'))['sweep']['parameters']['lambda']
        open('%1$s/start-%%s' %% lam, 'w').write(repr(time.time()))
        if lam == 0.5: sys.exit(3)
        if lam == 2: time.sleep(120)
        time.sleep(1.5)
        open('%1$s/end-%%s' %% lam, 'w').write(repr(time.time()))
        print(json.dumps({'score': -math.log(lam / 0.9) ** 2}))
        """, marks));
    MergeConfig cfg = Configs.parse(yaml, dirs);
    List<SweepPlan.Axis> axes = List.of(SweepPlan.Axis.parse("lambda=0.5,1,2"));
    Path out = work.resolve("on-executors");
    SweepJob.Outcome o = SweepJob.run(SparkTestSession.get(), cfg, new SweepJob.Options(out.toString(), axes,
        "/usr/bin/python3 " + py + " {model}", 5, 0, true, 3, new PrintStream(new ByteArrayOutputStream()), true));
    assertEquals(List.of("lambda=0.5", "lambda=1", "lambda=2"), o.rows().stream().map(Leaderboard.Row::id).toList(),
        "rows in candidate order");
    assertFailedOkTimedOut(o);
    double start2 = Double.parseDouble(Files.readString(marks.resolve("start-2.0")));
    double end1 = Double.parseDouble(Files.readString(marks.resolve("end-1.0")));
    assertTrue(start2 < end1, "the evals of λ = 1 and λ = 2 overlapped (tasks side by side): " + start2 + " vs " + end1);
  }

  @Test
  void refineZoomsInLogSpaceAndExtendsAGridWhoseBestIsAtItsEdge() throws IOException {
    double peak = 3.0;
    String yaml = config("task_arithmetic", "weight: 0.5", "weight: 0.5", "lambda: 1");
    Path py = evalScript(peak, -1, -1);
    Path out = work.resolve("refine");
    SweepJob.Outcome o = sweep(yaml, out, List.of("lambda=0.01:1:log:3"), "/usr/bin/python3 " + py + " {model}", 4, false);
    double best = o.rows().stream().filter(r -> r.id().equals(o.best())).findFirst().orElseThrow().params().get("lambda");
    assertTrue(best > 1, "the grid's edge (1) was extended: best " + best);
    assertTrue(Math.abs(Math.log(best / peak)) < Math.log(1.25), "refined best " + best + " within 25 % of the peak " + peak);
    assertTrue(o.rounds() > 2, "refinement rounds ran: " + o.rounds());
    // --keep best: only the best candidate stays, and OUT/best names it
    List<String> left = new ArrayList<>();
    try (var s = Files.list(out.resolve("candidates"))) {
      s.map(p -> p.getFileName().toString()).forEach(left::add);
    }
    // the losers' hidden lifecycle work directories (.<id>.sparkmerge/) are removed with them
    assertEquals(List.of("." + o.best() + ".sparkmerge", o.best()), left.stream().sorted().toList());
    assertEquals(o.best(), Leaderboard.bestOf(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(out.toString())));
    try (var s = Files.list(out)) {
      assertEquals(List.of("_SUCCESS", "best", "candidates", "leaderboard.csv", "leaderboard.parquet"),
          s.map(p -> p.getFileName().toString()).sorted().toList(), "nothing else in OUT");
    }
  }

  /** The published candidates (not the hidden lifecycle work directories beside them). */
  public static List<String> published(Path out) throws IOException {
    if (!Files.isDirectory(out.resolve("candidates"))) {
      return List.of();
    }
    try (var s = Files.list(out.resolve("candidates"))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
    }
  }

  @Test
  void aFailedRoundLeavesNoCandidate() throws IOException {
    String yaml = config("task_arithmetic", "weight: 0.5", "weight: 0.5", "lambda: 1");
    var conf = SparkTestSession.get().conf();
    conf.set("spark.sparkmerge.test.failPartition", "1");
    conf.set("spark.sparkmerge.test.failAttempts", "100");
    Path out = work.resolve("failed");
    try {
      org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> sweep(yaml, out, List.of("lambda=0.5,1"), null, 0, true));
    } finally {
      conf.unset("spark.sparkmerge.test.failPartition");
      conf.unset("spark.sparkmerge.test.failAttempts");
    }
    assertEquals(List.of(), published(out), "no candidate published");
    assertFalse(Files.exists(out.resolve("_SUCCESS")));
    assertNull(Leaderboard.bestOf(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(out.toString())));
  }
}
