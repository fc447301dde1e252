package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.Checkpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sparkmerge checkpoints` through the CLI: printed weights, --once output layout, usage errors. */
class CheckpointsCommandTest {
  @TempDir Path work;

  @Test
  void usageErrorsExitTwoBeforeAnyWork() {
    MainTest.Run r = MainTest.run("checkpoints", work.toString(), work.resolve("o").toString(), "--window", "3", "--weights", "1,0.5");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--weights has 2 values but --window is 3"), r.err());
    r = MainTest.run("checkpoints", work.toString(), work.resolve("o").toString(), "--window", "3", "--schedule", "cosin");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("cosine"), r.err());
  }

  @Test
  void oncePrintsTheWeightsAndWritesAVersionedOutput() throws IOException {
    Path root = work.resolve("run");
    var dirs = Checkpoints.tinyFamily(work.resolve("gen"), 5, 3);
    Files.createDirectories(root);
    for (int i = 0; i < dirs.size(); i++) {
      Files.move(Path.of(dirs.get(i).toUri().getPath()), root.resolve("global_step" + (i + 1) * 1000));
    }
    Path out = work.resolve("wsm");
    MainTest.Run r = MainTest.run("checkpoints", root.toString(), out.toString(), "--window", "4", "--schedule", "1-sqrt", "--once",
        "--master", "local[2]");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("[0.5000, 0.2071, 0.1589, 0.1340]"), r.out());
    assertTrue(r.out().contains("merged steps [4000]"), r.out());
    assertEquals("step-4000", Files.readString(out.resolve("latest")).trim());
    assertTrue(Files.exists(out.resolve("step-4000").resolve("_SUCCESS")));
  }
}
