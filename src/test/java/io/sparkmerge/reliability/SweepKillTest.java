package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.job.SweepJob;
import io.sparkmerge.plan.SweepPlan;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.ChildJvm;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep driver killed while its tasks have written candidates' shards leaves no candidate under
 * OUT/candidates (a candidate appears there only when its lifecycle publishes it whole), and the next
 * sweep into the same OUT takes the dead driver's locks over, removes its staging and finishes.
 */
class SweepKillTest {
  @TempDir Path work;

  @Test
  void aKilledSweepLeavesNoPartialCandidateAndTheNextRunFinishes() throws Exception {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(work.resolve("family"), 9, 2);
    String yaml = Configs.withPaths(Configs.twoFineTunes("ties", 0.6, 0.5, 0.4, 0.5, 3), dirs);
    Path config = work.resolve("ties.yml");
    Files.writeString(config, yaml);
    Path out = work.resolve("sweep");
    File log = work.resolve("driver.log").toFile();
    Process driver = ChildJvm.start("1g", "io.sparkmerge.cli.Main", List.of("sweep", config.toString(), out.toString(),
        "--grid", "lambda=0.5,1,2", "--master", "local[2]", "--partitions", "2",
        "--conf", "spark.sparkmerge.test.slowPartition=1", "--conf", "spark.sparkmerge.test.slowMs=600000"), log);
    ChildJvm.killWhenReady(driver, () -> stagedAttempt(out), log);
    assertEquals(List.of(), io.sparkmerge.job.SweepJobTest.published(out), "no candidate published by the killed sweep");
    assertFalse(Files.exists(out.resolve("_SUCCESS")));

    SweepJob.Outcome o = SweepJob.run(SparkTestSession.get(), Configs.parse(Configs.twoFineTunes("ties", 0.6, 0.5, 0.4, 0.5, 3), dirs),
        new SweepJob.Options(out.toString(), List.of(SweepPlan.Axis.parse("lambda=0.5,1,2")), null, 10, 0, true, 2,
            new PrintStream(new ByteArrayOutputStream())));
    assertEquals(3, o.rows().size());
    try (Stream<Path> s = Files.list(out)) {
      List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
      assertEquals(List.of("_SUCCESS", "candidates", "leaderboard.csv", "leaderboard.parquet"), names);
    }
    for (String id : List.of("lambda=0.5", "lambda=1", "lambda=2")) {
      assertTrue(Files.exists(out.resolve("candidates").resolve(id).resolve("_SUCCESS")), id);
      assertFalse(Checkpoints.rawBytes(out.resolve("candidates").resolve(id).toString()).isEmpty());
    }
  }

  /** Whether some candidate's slow task has written its shard (OUT/_staging-run/<id>/_staging-run/part-00001-attempt-0). */
  private static boolean stagedAttempt(Path out) throws IOException {
    if (!Files.isDirectory(out)) {
      return false;
    }
    try (Stream<Path> s = Files.walk(out)) {
      return s.anyMatch(p -> p.getFileName().toString().equals("part-00001-attempt-0.safetensors"));
    }
  }
}
