package io.sparkmerge.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.InputDataException;
import io.sparkmerge.testing.Checkpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Discovery and ordering of a run's checkpoint directories (methods.md §5). */
class CheckpointDiscoveryTest {
  @TempDir Path root;

  @Test
  void stepNumbersOfTheNamingStyles() {
    assertEquals(1000, CheckpointDiscovery.stepOf("checkpoint-1000"));
    assertEquals(2000, CheckpointDiscovery.stepOf("step_2000"));
    assertEquals(3000, CheckpointDiscovery.stepOf("global_step3000"));
    assertEquals(4000, CheckpointDiscovery.stepOf("iter_0004000"));
    assertEquals(-1, CheckpointDiscovery.stepOf("logs"));
    assertEquals(-1, CheckpointDiscovery.stepOf("checkpoint-best"));
    assertEquals(-1, CheckpointDiscovery.stepOf("runs_step_5"));
  }

  @Test
  void ordersByStepNotByName() throws IOException {
    for (String d : new String[] {"iter_0004000", "checkpoint-1000", "global_step3000", "step_2000", "checkpoint-500", "logs"}) {
      Files.createDirectories(root.resolve(d));
      Files.writeString(root.resolve(d).resolve("DONE"), "");
    }
    Files.writeString(root.resolve("step_9"), "a file, not a checkpoint");
    List<CheckpointDiscovery.Checkpoint> cps = CheckpointDiscovery.discover(Checkpoints.localFs(),
        new org.apache.hadoop.fs.Path(root.toString()), "DONE");
    assertEquals(List.of(500L, 1000L, 2000L, 3000L, 4000L), cps.stream().map(CheckpointDiscovery.Checkpoint::step).toList());
    assertEquals("checkpoint-500", cps.get(0).dir().getName());
    assertTrue(cps.stream().allMatch(CheckpointDiscovery.Checkpoint::complete));
  }

  @Test
  void markerAndMissingShardsMakeACheckpointIncomplete() throws IOException {
    Files.createDirectories(root.resolve("checkpoint-1"));
    Files.writeString(root.resolve("checkpoint-1").resolve("model.safetensors.index.json"),
        "{\"metadata\": {\"total_size\": 4}, \"weight_map\": {\"w\": \"model-00001-of-00002.safetensors\"}}");
    var fs = Checkpoints.localFs();
    var r = new org.apache.hadoop.fs.Path(root.toString());
    CheckpointDiscovery.Checkpoint c = CheckpointDiscovery.discover(fs, r, null).get(0);
    assertFalse(c.complete());
    assertTrue(c.problem().contains("model-00001-of-00002.safetensors"), c.problem());
    assertFalse(CheckpointDiscovery.discover(fs, r, "_COMPLETE").get(0).complete());
    Files.writeString(root.resolve("checkpoint-1").resolve("_COMPLETE"), "");
    assertTrue(CheckpointDiscovery.discover(fs, r, "_COMPLETE").get(0).complete());
  }

  @Test
  void twoDirectoriesOfOneStepAreAnErrorNamingBoth() throws IOException {
    Files.createDirectories(root.resolve("checkpoint-100"));
    Files.createDirectories(root.resolve("step_100"));
    InputDataException e = assertThrows(InputDataException.class, () -> CheckpointDiscovery.discover(Checkpoints.localFs(),
        new org.apache.hadoop.fs.Path(root.toString()), null));
    assertTrue(e.getMessage().contains("checkpoint-100") && e.getMessage().contains("step_100"), e.getMessage());
  }

  /** Issue 16, defect 1: sparkmerge's own outputs (a watcher's step-N/, holding sparkmerge.json) are never checkpoints. */
  @Test
  void sparkmergeOutputsAreNeverTakenForCheckpoints() throws IOException {
    Files.createDirectories(root.resolve("checkpoint-100"));
    Files.createDirectories(root.resolve("step-200"));
    Files.writeString(root.resolve("step-200").resolve("sparkmerge.json"), "{}");
    Files.createDirectories(root.resolve("step_300"));
    List<CheckpointDiscovery.Checkpoint> cps = CheckpointDiscovery.discover(Checkpoints.localFs(),
        new org.apache.hadoop.fs.Path(root.toString()), null);
    assertEquals(List.of(100L, 300L), cps.stream().map(CheckpointDiscovery.Checkpoint::step).toList());
  }
}
