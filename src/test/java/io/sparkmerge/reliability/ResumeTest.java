package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.cli.ConfigLoader;
import io.sparkmerge.plan.MergeConfig;
import io.sparkmerge.spark.MergeJob;
import io.sparkmerge.synth.FamilyPreset;
import io.sparkmerge.synth.ModelFamilyGenerator;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.SparkTestSession;
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
    List<org.apache.hadoop.fs.Path> dirs = new ModelFamilyGenerator(FamilyPreset.of("tiny"), 9).generate(Checkpoints.localFs(),
        new org.apache.hadoop.fs.Path(family.toString()), 2);
    cfg = ConfigLoader.parse("""
        merge_method: dare_ties
        base_model: BASE
        models:
          - model: FT1
            parameters: {weight: 0.6, density: 0.5}
          - model: FT2
            parameters: {weight: 0.4, density: 0.7}
        seed: 17
        """.replace("BASE", dirs.get(0).toString()).replace("FT1", dirs.get(1).toString()).replace("FT2", dirs.get(2).toString()),
        "resume.yml");
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
    try (Stream<Path> s = Files.list(out)) {
      return s.filter(p -> p.getFileName().toString().startsWith("_staging-")).findFirst().orElseThrow();
    }
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
  void resumedRunReusesVerifiedShardsAndEqualsACleanRun() throws IOException {
    Path clean = work.resolve("clean");
    run(clean, false);

    Path out = work.resolve("out");
    fail(SHARDS - 1);
    assertThrows(Exception.class, () -> run(out, true));
    Path staging = staging(out);
    List<Path> kept = finished(staging);
    assertTrue(!kept.isEmpty() && kept.size() < SHARDS, "the failed run kept its finished shards: " + kept);
    assertTrue(Files.notExists(out.resolve("_SUCCESS")) && Files.notExists(out.resolve("_sparkmerge.lock")));

    // Resume with a fault on a shard that was kept: it must be reused, not computed again (or the job fails).
    String firstKept = kept.get(0).getFileName().toString();
    int keptPartition = Integer.parseInt(firstKept.substring("part-".length(), "part-".length() + 5));
    fail(keptPartition);
    String log = run(out, true);
    assertTrue(log.contains("reusing " + kept.size() + " of " + SHARDS + " shards"), log);
    assertSameFiles(clean, out);
    try (Stream<Path> s = Files.list(out)) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("_staging")), "staging gone after commit");
    }
  }

  @Test
  void aShardThatChangedSinceItWasWrittenIsComputedAgain() throws IOException {
    Path clean = work.resolve("clean");
    run(clean, false);
    Path out = work.resolve("out");
    fail(SHARDS - 1);
    assertThrows(Exception.class, () -> run(out, true));
    Path staging = staging(out);
    List<Path> kept = finished(staging);
    // flip one byte of the last tensor in the first kept shard
    Path shard = staging.resolve(kept.get(0).getFileName().toString().replace(".result", ""));
    byte[] b = Files.readAllBytes(shard);
    b[b.length - 1] ^= 0x01;
    Files.write(shard, b);
    clearFaults();
    String log = run(out, true);
    assertTrue(log.contains("reusing " + (kept.size() - 1) + " of " + SHARDS + " shards"), log);
    assertSameFiles(clean, out);
  }
}
