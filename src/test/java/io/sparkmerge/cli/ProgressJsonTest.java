package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --progress json}: a real merge (Spark local) prints only JSON events on stdout, one per line:
 * progress events with counters that never go back, an ETA absent early and sane when given, and one
 * final event with status, exit code and OUT; the summary line goes to stderr.
 */
class ProgressJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path family;
  @TempDir Path work;

  @BeforeAll
  static void generate() {
    MainTest.Run r = MainTest.run("synth", family.resolve("f").toString(), "--family", "small", "--fine-tunes", "2");
    assertEquals(0, r.code(), r.err());
  }

  private Path config() throws IOException {
    Path f = family.resolve("f");
    Path cfg = work.resolve("ties.yml");
    Files.writeString(cfg, "merge_method: ties\nbase_model: " + f.resolve("base") + "\nmodels:\n"
        + "  - model: " + f.resolve("ft-1") + "\n    parameters: {weight: 0.5, density: 0.5}\n"
        + "  - model: " + f.resolve("ft-2") + "\n    parameters: {weight: 0.5, density: 0.5}\n");
    return cfg;
  }

  /** TIES on a tiny family: for the analysis commands (SVDs of the small family take minutes). */
  private Path tinyConfig() throws IOException {
    List<org.apache.hadoop.fs.Path> d = io.sparkmerge.testing.Checkpoints.tinyFamily(work.resolve("tiny"), 3, 2);
    Path cfg = work.resolve("tiny.yml");
    Files.writeString(cfg, io.sparkmerge.testing.Configs.withPaths(MainTest.TIES, d));
    return cfg;
  }

  private static List<JsonNode> events(String stdout) throws IOException {
    List<JsonNode> l = new ArrayList<>();
    for (String line : stdout.split("\n")) {
      l.add(JSON.readTree(line)); // every line is one JSON object, or this throws
      assertTrue(l.get(l.size() - 1).isObject(), line);
    }
    return l;
  }

  @Test
  void aMergePrintsJsonEventsOnlyOnStdout() throws IOException {
    String out = work.resolve("out").toString();
    MainTest.Run r = MainTest.run("merge", config().toString(), out, "--master", "local[2]", "--partitions", "12",
        "--progress", "json", "--conf", "spark.sparkmerge.progressIntervalMs=100", "--conf", "spark.executor.heartbeatInterval=300ms");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("merged "), "the summary goes to stderr: " + r.err());
    System.err.println("--progress json events:\n" + r.out()); // for the test log
    List<JsonNode> ev = events(r.out().strip());
    JsonNode end = ev.get(ev.size() - 1);
    assertEquals("end", end.get("event").asText());
    assertEquals("ok", end.get("status").asText());
    assertEquals(0, end.get("exit_code").asInt());
    assertEquals(out, end.get("out").asText());
    assertEquals("merge", end.get("command").asText());
    List<JsonNode> progress = ev.subList(0, ev.size() - 1);
    assertTrue(progress.size() >= 2, "progress events: " + r.out());
    JsonNode last = progress.get(progress.size() - 1);
    double total = last.get("elapsed_s").asDouble();
    String[] counters = {"shards_done", "tensors_done", "bytes_read", "planned_bytes_done", "bytes_written", "elapsed_s"};
    JsonNode prev = null;
    for (JsonNode e : progress) {
      assertEquals("progress", e.get("event").asText());
      assertEquals("merge ties", e.get("stage").asText());
      assertEquals(12, e.get("shards_total").asInt());
      assertTrue(e.get("planned_bytes_done").asLong() <= e.get("planned_bytes").asLong(), e.toString());
      for (String c : counters) {
        assertTrue(prev == null || e.get(c).asDouble() >= prev.get(c).asDouble(), c + " went back: " + prev + " -> " + e);
      }
      if (e.has("eta_s")) {
        double share = e.get("planned_bytes_done").asDouble() / e.get("planned_bytes").asDouble();
        double left = total - e.get("elapsed_s").asDouble();
        assertTrue(share >= 0.05, "no ETA before 5% of the planned bytes: " + e);
        assertTrue(e.get("eta_s").asDouble() <= 5 * left + 3, "ETA " + e.get("eta_s") + " s with " + left + " s left: " + e);
      }
      prev = e;
    }
    assertEquals(12, last.get("shards_done").asInt());
    assertEquals(last.get("tensors_total").asLong(), last.get("tensors_done").asLong());
    assertEquals(last.get("planned_bytes").asLong(), last.get("planned_bytes_done").asLong());
    assertTrue(last.get("bytes_written").asLong() > 0, last.toString());
    assertEquals(0, last.get("eta_s").asInt());
    assertTrue(progress.stream().anyMatch(e -> e.get("shards_done").asInt() < 12), "no event before the end: " + r.out());
  }

  /** A run whose out is also what the jobs print on System.out (their console). */
  private static MainTest.Run withSystemOut(String... args) {
    java.io.PrintStream saved = System.out;
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      MainTest.Run r = MainTest.run(args);
      return new MainTest.Run(r.code(), r.out() + buf.toString(java.nio.charset.StandardCharsets.UTF_8), r.err());
    } finally {
      System.setOut(saved);
    }
  }

  @Test
  void aFailedCommandEndsWithAFailedEventAndNoneModePrintsNothing() throws IOException {
    Path cfg = config();
    Path out = work.resolve("exists");
    Files.createDirectories(out.resolve("x"));
    MainTest.Run failed = MainTest.run("merge", cfg.toString(), out.toString(), "--progress", "json");
    assertEquals(4, failed.code(), failed.err());
    List<JsonNode> ev = events(failed.out().strip());
    assertEquals(1, ev.size(), failed.out());
    assertEquals("failed", ev.get(0).get("status").asText());
    assertEquals(4, ev.get(0).get("exit_code").asInt());
    MainTest.Run bad = MainTest.run("merge", cfg.toString(), out.toString(), "--progress", "yaml");
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("--progress must be text, json or none"), bad.err());
    Path tiny = tinyConfig();
    MainTest.Run none = withSystemOut("stats", tiny.toString(), work.resolve("stats").toString(), "--master", "local[2]",
        "--progress", "none");
    assertEquals(0, none.code(), none.err());
    assertFalse(none.out().contains("[stats"), none.out());
    MainTest.Run text = withSystemOut("subspaces", tiny.toString(), work.resolve("sub").toString(), "--master", "local[2]");
    assertEquals(0, text.code(), text.err());
    assertTrue(text.out().contains("[subspaces] shards "), "subspaces prints progress like the others: " + text.out());
  }
}
