package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.InputDataException;
import io.sparkmerge.io.CheckpointDiscovery.Checkpoint;
import io.sparkmerge.math.WsmWeights;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** WSM end to end on a generated run: one-shot merge, scheduled merging with a restart, and the error cases. */
class CheckpointMergeJobTest {
  @TempDir static Path gen;
  @TempDir Path work;
  /** checkpoints of steps 100..500 (the generated base and four "fine-tunes" stand in for a run's checkpoints) */
  static List<Path> ckpts = new ArrayList<>();

  @BeforeAll
  static void generate() throws IOException {
    var dirs = Checkpoints.tinyFamily(gen.resolve("family"), 11, 4);
    for (int i = 0; i < dirs.size(); i++) {
      ckpts.add(Path.of(dirs.get(i).toUri().getPath()));
    }
  }

  private static void linkCheckpoint(Path root, String name, int index) throws IOException {
    Path dst = root.resolve(name);
    Files.createDirectories(dst);
    try (var s = Files.list(ckpts.get(index))) {
      for (Path f : s.toList()) {
        Files.copy(f, dst.resolve(f.getFileName()));
      }
    }
  }

  private static CheckpointMergeJob.Options opts(Path root, int k, WsmWeights.Result w, PrintStream console) {
    return new CheckpointMergeJob.Options(root.toString(), null, k, w, 2, console);
  }

  private static Map<String, double[]> weightedSum(int[] indices, double[] c) throws IOException {
    Map<String, double[]> out = null;
    for (int t = 0; t < indices.length; t++) {
      Map<String, double[]> m = Checkpoints.read(ckpts.get(indices[t]).toString());
      if (out == null) {
        out = new java.util.TreeMap<>();
        for (var e : m.entrySet()) {
          out.put(e.getKey(), new double[e.getValue().length]);
        }
      }
      for (var e : m.entrySet()) {
        double[] o = out.get(e.getKey());
        for (int i = 0; i < o.length; i++) {
          o[i] += c[t] * e.getValue()[i];
        }
      }
    }
    return out;
  }

  private static void assertMatches(Map<String, double[]> ref, String dir) throws IOException {
    Map<String, double[]> got = Checkpoints.read(dir);
    assertEquals(ref.keySet(), got.keySet());
    for (String n : ref.keySet()) {
      assertTrue(Checkpoints.relError(got.get(n), ref.get(n)) <= 1e-5, n);
    }
  }

  @Test
  void oneShotMergeEqualsTheWeightedSumOfTheNewestWindow() throws IOException {
    Path root = work.resolve("run");
    String[] names = {"checkpoint-100", "step_200", "global_step300", "iter_0000400", "checkpoint-500"};
    for (int i = 0; i < names.length; i++) {
      linkCheckpoint(root, names[i], i);
    }
    // k = 3, 1-sqrt: w = [1, 1 - sqrt(1/3), 1 - sqrt(2/3)] → c = [sqrt(1/3), sqrt(2/3) - sqrt(1/3), 1 - sqrt(2/3)]
    double[] c = {Math.sqrt(1 / 3.0), Math.sqrt(2 / 3.0) - Math.sqrt(1 / 3.0), 1 - Math.sqrt(2 / 3.0)};
    String out = work.resolve("out").toString();
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    CheckpointMergeJob.mergeNewest(SparkTestSession.get(), opts(root, 3, WsmWeights.of("1-sqrt", 3, 0), new PrintStream(console)),
        out, false);
    assertMatches(weightedSum(new int[] {2, 3, 4}, c), out);
    assertTrue(console.toString().contains("iter_0000400"), console.toString());
    JsonNode wsm = new ObjectMapper().readTree(Path.of(out, "sparkmerge.json").toFile()).get("wsm");
    assertEquals("1-sqrt", wsm.get("schedule").asText());
    assertEquals(500, wsm.get("step").asLong());
    JsonNode cps = wsm.get("checkpoints");
    assertEquals("anchor", cps.get(0).get("role").asText());
    assertEquals(200, cps.get(0).get("step").asLong());
    assertEquals(0.0, cps.get(0).get("weight").asDouble());
    for (int j = 0; j < 3; j++) {
      assertEquals(300 + 100 * j, cps.get(j + 1).get("step").asLong());
      assertEquals(c[j], cps.get(j + 1).get("weight").asDouble(), 1e-12);
    }
  }

  @Test
  void incompatibleCheckpointsAreAnErrorNamingBoth() throws IOException {
    Path root = work.resolve("run");
    linkCheckpoint(root, "checkpoint-100", 0);
    linkCheckpoint(root, "checkpoint-200", 1);
    // a checkpoint of another architecture: one tensor fewer (rewrite it without lm_head)
    Path other = root.resolve("checkpoint-300");
    Files.createDirectories(other);
    FileSystem fs = Checkpoints.localFs();
    var src = io.sparkmerge.io.ModelDirectory.open(fs, new org.apache.hadoop.fs.Path(ckpts.get(2).toString()));
    var info = src.tensors().get("model.norm.weight");
    try (var w = new io.sparkmerge.io.SafetensorsWriter(fs, new org.apache.hadoop.fs.Path(other.resolve("model.safetensors").toString()),
        List.of(new io.sparkmerge.io.SafetensorsWriter.TensorSpec(info.name(), info.dtype(), info.shape())), Map.of())) {
      w.write(java.nio.ByteBuffer.allocate((int) info.byteLength()));
    }
    InputDataException e = assertThrows(InputDataException.class, () -> CheckpointMergeJob.mergeNewest(SparkTestSession.get(),
        opts(root, 2, WsmWeights.of("linear", 2, 0), new PrintStream(new ByteArrayOutputStream())), work.resolve("out").toString(), false));
    assertTrue(e.getMessage().contains("checkpoint-200") && e.getMessage().contains("checkpoint-300"), e.getMessage());
  }

  private static List<Checkpoint> run(long... steps) {
    List<Checkpoint> cps = new ArrayList<>();
    for (long s : steps) {
      cps.add(new Checkpoint(s, new org.apache.hadoop.fs.Path("/r/checkpoint-" + s), null));
    }
    return cps;
  }

  private static WsmWindow.Rule rule(int k, long steps, int stride, String schedule) {
    return new WsmWindow.Rule(k, steps, stride, n -> WsmWeights.of(schedule, n, 0.5));
  }

  @Test
  void unequalGapsAreWeighedByTheirSteps() {
    // equal gaps: the schedule's weights themselves, no note
    WsmWindow even = WsmWindow.newest(run(100, 200, 300), rule(2, 0, 1, "linear"));
    assertNull(even.note());
    assertArrayEquals(new double[] {0.5, 0.5}, even.weights().window(), 0.0);
    // anchor 200, window 300, 500 (linear): the decay spans 300 steps; interval starts at 0 and 1/3 of it
    // → w = [1, 2/3] → c = [1/3, 2/3] (the plain mean would be [1/2, 1/2])
    WsmWindow win = WsmWindow.newest(run(100, 200, 300, 500), rule(2, 0, 1, "linear"));
    assertEquals(200, win.anchor().step());
    assertEquals(0.0, win.weights().anchor(), 0.0);
    assertEquals(1 / 3.0, win.weights().window()[0], 1e-15);
    assertEquals(2 / 3.0, win.weights().window()[1], 1e-15);
    assertTrue(win.note().contains("[200, 300, 500]"), win.note());
    assertNull(WsmWindow.newest(run(100, 200, 300, 500), rule(5, 0, 1, "linear")));
  }

  @Test
  void windowStepsAndStrideChooseTheCheckpoints() {
    List<Checkpoint> cps = run(100, 200, 300, 500, 600);
    // the newest 400 steps: anchor 200, window 300, 500, 600; linear over 400 steps: w = [1, 3/4, 1/4] → c = [1/4, 1/2, 1/4]
    WsmWindow w = WsmWindow.newest(cps, rule(0, 400, 1, "linear"));
    assertEquals(200, w.anchor().step());
    assertEquals(List.of(300L, 500L, 600L), w.checkpoints().stream().map(Checkpoint::step).toList());
    assertArrayEquals(new double[] {0.25, 0.5, 0.25}, w.weights().window(), 1e-15);
    // every 2nd checkpoint back from the newest: 100, 300, 600; no checkpoint at step 200, so the anchor is 100 and the
    // decay spans 500 steps: w = [1, 1 - 200/500] → c = [0.4, 0.6]
    WsmWindow s = WsmWindow.newest(cps, rule(0, 400, 2, "linear"));
    assertEquals(100, s.anchor().step());
    assertEquals(List.of(300L, 600L), s.checkpoints().stream().map(Checkpoint::step).toList());
    assertArrayEquals(new double[] {0.4, 0.6}, s.weights().window(), 1e-15);
    assertTrue(s.note().contains("no checkpoint at step 200"), s.note());
    // a count window with a stride: the 2 newest of 200, 400... here 300, 600 with anchor 100 (uneven: 200 then 300 steps)
    WsmWindow c = WsmWindow.newest(cps, rule(2, 0, 2, "linear"));
    assertEquals(List.of(300L, 600L), c.checkpoints().stream().map(Checkpoint::step).toList());
    assertArrayEquals(new double[] {0.4, 0.6}, c.weights().window(), 1e-15);
    // not enough history: nothing at or before step 600 - 1000
    assertNull(WsmWindow.newest(cps, rule(0, 1000, 1, "linear")));
  }

  @Test
  void windowStepsMergeThroughTheSparkJobEqualsTheStepWeightedSum() throws IOException {
    Path root = work.resolve("run");
    long[] steps = {100, 200, 300, 500, 600};
    for (int i = 0; i < steps.length; i++) {
      linkCheckpoint(root, "checkpoint-" + steps[i], i);
    }
    // cosine over the newest 400 steps (anchor 200; intervals start at 0, 1/4, 3/4 of the span):
    // w = [1, (1 + cos(pi/4))/2, (1 + cos(3pi/4))/2] = [1, 0.8535534, 0.1464466] → c = [0.1464466, 0.7071068, 0.1464466]
    double[] c = {0.1464466, 0.7071068, 0.1464466};
    String out = work.resolve("out").toString();
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    var o = new CheckpointMergeJob.Options(root.toString(), null, rule(0, 400, 1, "cosine"), 2, new PrintStream(console));
    CheckpointMergeJob.mergeNewest(SparkTestSession.get(), o, out, false);
    assertMatches(weightedSum(new int[] {2, 3, 4}, c), out);
    assertTrue(console.toString().contains("uneven step gaps [200, 300, 500, 600]"), console.toString());
    JsonNode cps = new ObjectMapper().readTree(Path.of(out, "sparkmerge.json").toFile()).get("wsm").get("checkpoints");
    assertEquals(200, cps.get(0).get("step").asLong());
    for (int j = 0; j < 3; j++) {
      assertEquals(c[j], cps.get(j + 1).get("weight").asDouble(), 1e-7);
    }
  }

  @Test
  void watchMergesANewCheckpointOnceAndARestartRedoesNothing() throws Exception {
    Path root = work.resolve("run");
    linkCheckpoint(root, "checkpoint-100", 0);
    linkCheckpoint(root, "checkpoint-200", 1);
    Path out = work.resolve("wsm");
    var fs = Checkpoints.localFs();
    var outH = new org.apache.hadoop.fs.Path(out.toString());
    var w = WsmWeights.of("linear", 2, 0);
    AtomicReference<Object> result = new AtomicReference<>();
    Thread watcher = new Thread(() -> {
      try {
        result.set(CheckpointMergeJob.watch(SparkTestSession.get(), opts(root, 2, w, new PrintStream(new ByteArrayOutputStream())),
            out.toString(), false, 150, 30));
      } catch (Throwable t) {
        result.set(t);
      }
    });
    watcher.start();
    waitFor(() -> CheckpointMergeJob.latest(fs, outH) == 200, watcher);
    // step 300 appears while the watcher runs: first its index without the shard (being copied), then the shard
    Path c3 = root.resolve("checkpoint-300");
    Files.createDirectories(c3);
    Files.writeString(c3.resolve("model.safetensors.index.json"), indexFor("model-00001-of-00001.safetensors"));
    Thread.sleep(1000);
    assertTrue(!Files.exists(out.resolve("step-300")), "an incomplete checkpoint must not be merged");
    Files.copy(ckpts.get(2).resolve("model.safetensors"), c3.resolve("model-00001-of-00001.safetensors"));
    waitFor(() -> CheckpointMergeJob.latest(fs, outH) == 300, watcher);
    watcher.join(60_000);
    assertEquals(List.of(200L, 300L), result.get(), String.valueOf(result.get()));
    assertEquals("step-300", Files.readString(out.resolve("latest")).trim());
    assertMatches(weightedSum(new int[] {1, 2}, new double[] {0.5, 0.5}), out.resolve("step-300").toString());
    assertMatches(weightedSum(new int[] {0, 1}, new double[] {0.5, 0.5}), out.resolve("step-200").toString());

    // a restarted (cron) pass finds step 300 merged in its manifest and does nothing
    long stamp = Files.getLastModifiedTime(out.resolve("step-300").resolve("sparkmerge.json")).toMillis();
    Files.delete(out.resolve("latest"));  // as if the previous run died between the merge and the pointer update
    var again = CheckpointMergeJob.watch(SparkTestSession.get(), opts(root, 2, w, new PrintStream(new ByteArrayOutputStream())),
        out.toString(), true, 0, 0);
    assertEquals(List.of(), again);
    assertEquals(stamp, Files.getLastModifiedTime(out.resolve("step-300").resolve("sparkmerge.json")).toMillis());
    assertEquals("step-300", Files.readString(out.resolve("latest")).trim());
  }

  private static String indexFor(String shard) throws IOException {
    var md = io.sparkmerge.io.ModelDirectory.open(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(ckpts.get(2).toString()));
    StringBuilder sb = new StringBuilder("{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
    String sep = "";
    for (String n : md.tensors().keySet()) {
      sb.append(sep).append('"').append(n).append("\": \"").append(shard).append('"');
      sep = ", ";
    }
    return sb.append("}}").toString();
  }

  interface Check {
    boolean ok() throws Exception;
  }

  private static void waitFor(Check c, Thread watcher) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (!c.ok()) {
      if (!watcher.isAlive() || System.currentTimeMillis() > deadline) {
        throw new AssertionError("the watcher stopped or timed out before the expected merge");
      }
      Thread.sleep(100);
    }
  }
}
