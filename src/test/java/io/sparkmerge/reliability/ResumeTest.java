package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.SparkTestSession;
import io.sparkmerge.testing.WorkDirs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code merge --resume}: a run that fails part-way keeps its finished shards in staging; the next
 * run with --resume reuses the ones that match the plan and their SHA-256, computes only the rest, and
 * its output is byte for byte the output of a clean run.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ResumeTest {
  @TempDir static Path family;
  @TempDir Path work;
  static MergeConfig cfg;
  static final int SHARDS = 4;

  @BeforeAll
  static void generate() throws IOException {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(family, 9, 2);
    cfg = Configs.parse(Configs.twoFineTunes("dare_ties", 0.6, 0.5, 0.4, 0.7, 17), dirs);
  }

  @AfterEach
  void clearFaults() {
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.failPartition");
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.failAttempts");
  }

  static String run(Path out, boolean resume) throws IOException {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    MergeJob.run(SparkTestSession.get(), cfg, new MergeJob.Options(out.toString(), false, SHARDS,
        new PrintStream(console, true, StandardCharsets.UTF_8), resume));
    return console.toString(StandardCharsets.UTF_8);
  }

  static void fail(int partition) {
    SparkTestSession.get().conf().set("spark.sparkmerge.test.failPartition", String.valueOf(partition));
    SparkTestSession.get().conf().set("spark.sparkmerge.test.failAttempts", "100");
  }

  static Path staging(Path out) throws IOException {
    return WorkDirs.scratch(out);
  }

  static List<Path> finished(Path staging) throws IOException {
    try (Stream<Path> s = Files.list(staging)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".safetensors.result")).sorted().toList();
    }
  }

  static void assertSameFiles(Path expected, Path got) throws IOException {
    try (Stream<Path> s = Files.list(expected)) {
      for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList()) {
        assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(got.resolve(p.getFileName())), p.getFileName() + " differs");
      }
    }
    assertEquals(Checkpoints.rawBytes(expected.toString()).keySet(), Checkpoints.rawBytes(got.toString()).keySet());
  }

  @Test
  void resumedRunReusesVerifiedShardsRecomputesChangedOnesAndEqualsACleanRun() throws IOException {
    Path clean = work.resolve("clean");
    run(clean, false);

    Path out = work.resolve("out");
    fail(SHARDS - 1);
    assertThrows(Exception.class, () -> run(out, true));
    Path staging = staging(out);
    List<Path> kept = finished(staging);
    // tasks start in partition order on two cores: shards 0 and 1 finish before shard 3 can start
    assertTrue(kept.size() >= 2 && kept.size() < SHARDS, "the failed run kept its finished shards: " + kept);
    assertTrue(Files.notExists(out) && !WorkDirs.locked(out), "no output and no live lock after the failed run");

    // One kept shard changes on disk (one byte of its last tensor): it must be computed again.
    Path changed = staging.resolve(kept.get(1).getFileName().toString().replace(".result", ""));
    byte[] b = Files.readAllBytes(changed);
    b[b.length - 1] ^= 0x01;
    Files.write(changed, b);
    // Another kept shard gets a fault: it must be reused, not computed again (or the job fails).
    fail(partition(kept.get(0)));
    String log = run(out, true);
    assertTrue(log.contains("reusing " + (kept.size() - 1) + " of " + SHARDS + " shards"), log);
    assertSameFiles(clean, out);
    assertEquals(List.of(), WorkDirs.leftovers(out), "staging gone after the publish");
  }

  /**
   * Issue 16 defect 5: shards built from input data that changed since (headers intact) are not reused.
   * The fingerprint covers every input file's length, modification time and file-system checksum.
   */
  @Test
  void resumeDoesNotReuseShardsBuiltFromChangedInputData() throws IOException {
    Path copy = work.resolve("family");
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(copy, 9, 2);
    MergeConfig local = Configs.parse(Configs.twoFineTunes("dare_ties", 0.6, 0.5, 0.4, 0.7, 17), dirs);
    Path out = work.resolve("out");
    fail(SHARDS - 1);
    assertThrows(Exception.class, () -> runWith(local, out, true));
    assertFalse(finished(staging(out)).isEmpty(), "the failed run kept finished shards");
    clearFaults();

    // change one data byte of FT1 (the header stays as it was), as a rewritten checkpoint would
    Path ft1 = Path.of(dirs.get(1).toString(), "model.safetensors");
    byte[] b = Files.readAllBytes(ft1);
    b[b.length - 3] ^= 0x40;
    Files.write(ft1, b);
    String log = runWith(local, out, true);
    assertFalse(log.contains("resuming run"), "a run over changed data adopts nothing: " + log);
    Path clean = work.resolve("clean");
    runWith(local, clean, false);
    assertSameFiles(clean, out);
  }

  static String runWith(MergeConfig c, Path out, boolean resume) throws IOException {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    MergeJob.run(SparkTestSession.get(), c, new MergeJob.Options(out.toString(), false, SHARDS,
        new PrintStream(console, true, StandardCharsets.UTF_8), resume));
    return console.toString(StandardCharsets.UTF_8);
  }

  private static int partition(Path result) {
    String n = result.getFileName().toString();
    return Integer.parseInt(n.substring("part-".length(), "part-".length() + 5));
  }
}
