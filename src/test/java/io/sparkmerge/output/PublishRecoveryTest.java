package io.sparkmerge.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.io.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The publish interrupted at each {@link CommitStep} in turn (the hook throws there and nothing runs
 * after it, as when the driver is killed): at that instant the complete old or the complete new output
 * exists (at OUT, or whole at the place the journal names), and {@link OutputLifecycle#recover} leaves
 * OUT complete: the new output once the journal is written, the old one before. Recovering again
 * changes nothing. The same with a two-file output (scopes' JSON + Parquet).
 */
class PublishRecoveryTest {
  @TempDir Path tmp;

  static final class Killed extends RuntimeException {}

  static final Map<String, String> OLD = Map.of("_SUCCESS", "", "model.safetensors", "old weights", "config.json", "old");
  static final Map<String, String> NEW = Map.of("_SUCCESS", "", "model-00001-of-00002.safetensors", "new 1",
      "model-00002-of-00002.safetensors", "new 2", "sparkmerge.json", "{}");

  @Test
  void aPublishKilledAtEveryStepLeavesTheOldOrTheNewOutputAndRecoversToIt() throws IOException {
    Configuration conf = Storage.configuration();
    FileSystem fs = FileSystem.get(java.net.URI.create("file:///"), conf);
    for (CommitStep step : CommitStep.values()) {
      Path out = tmp.resolve("out-" + step);
      Path work = tmp.resolve(".out-" + step + ".sparkmerge");
      write(out, OLD);
      Path fresh = work.resolve("run-x/new");
      write(fresh, NEW);
      Publisher p = Publisher.of(fs, conf, path(work));
      Publisher.Move move = new Publisher.Move(path(fresh), path(out), path(work.resolve("old-x")));
      assertThrows(Killed.class, () -> p.publish(List.of(move), s -> {
        if (s == step) {
          throw new Killed();
        }
      }), step.toString());
      // at the instant of the kill
      Map<String, String> atOut = Files.exists(out) ? read(out) : null;
      boolean journal = Files.exists(work.resolve("journal.json"));
      if (atOut == null) {
        assertTrue(journal, step + ": OUT is missing only while a journal names where the outputs are");
        assertEquals(OLD, read(work.resolve("old-x")), step + ": the old output is whole aside");
        assertEquals(NEW, read(fresh), step + ": the new output is whole in the work directory");
      } else {
        assertTrue(atOut.equals(OLD) || atOut.equals(NEW), step + ": OUT is the complete old or new output: " + atOut.keySet());
      }
      String done = OutputLifecycle.recover(conf, out.toString(), OutputLifecycle.Settings.DEFAULT);
      assertNotNull(done);
      Map<String, String> expected = step == CommitStep.STAGED ? OLD : NEW;
      assertEquals(expected, read(out), step + ": after recovery OUT is " + (expected == OLD ? "the old" : "the new") + " output");
      assertFalse(Files.exists(work.resolve("journal.json")), step + ": journal gone");
      assertFalse(Files.exists(work.resolve("old-x")), step + ": the old output deleted once the new one is in place");
      OutputLifecycle.recover(conf, out.toString(), OutputLifecycle.Settings.DEFAULT);
      assertEquals(expected, read(out), step + ": recovering twice changes nothing");
    }
  }

  @Test
  void aTwoFileOutputIsRecoveredWhole() throws IOException {
    Configuration conf = Storage.configuration();
    FileSystem fs = FileSystem.get(java.net.URI.create("file:///"), conf);
    for (CommitStep step : List.of(CommitStep.OLD_MOVED_ASIDE, CommitStep.NEW_MOVED_IN)) {
      Path dir = tmp.resolve("scopes-" + step);
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("s.json"), "old json");
      write(dir.resolve("s.parquet"), Map.of("part-0", "old rows"));
      Path work = dir.resolve(".s.json.sparkmerge");
      Files.writeString(Files.createDirectories(work.resolve("run-x/new")).resolve("s.json"), "new json");
      write(work.resolve("run-x/new/s.parquet"), Map.of("part-0", "new rows"));
      Files.createDirectories(work.resolve("old-x"));
      Publisher p = Publisher.of(fs, conf, path(work));
      List<Publisher.Move> moves = List.of(
          new Publisher.Move(path(work.resolve("run-x/new/s.parquet")), path(dir.resolve("s.parquet")), path(work.resolve("old-x/s.parquet"))),
          new Publisher.Move(path(work.resolve("run-x/new/s.json")), path(dir.resolve("s.json")), path(work.resolve("old-x/s.json"))));
      assertThrows(Killed.class, () -> p.publish(moves, s -> {
        if (s == step) {
          throw new Killed();
        }
      }));
      OutputLifecycle.recover(conf, dir.resolve("s.json").toString(), OutputLifecycle.Settings.DEFAULT);
      assertEquals("new json", Files.readString(dir.resolve("s.json")), step.toString());
      assertEquals(Map.of("part-0", "new rows"), read(dir.resolve("s.parquet")), step.toString());
    }
  }

  static org.apache.hadoop.fs.Path path(Path p) {
    return new org.apache.hadoop.fs.Path(p.toUri());
  }

  static void write(Path dir, Map<String, String> files) throws IOException {
    Files.createDirectories(dir);
    for (Map.Entry<String, String> e : files.entrySet()) {
      Files.writeString(dir.resolve(e.getKey()), e.getValue());
    }
  }

  static Map<String, String> read(Path dir) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        m.put(p.getFileName().toString(), Files.readString(p, StandardCharsets.UTF_8));
      }
    }
    return m;
  }
}
