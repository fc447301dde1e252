package io.sparkmerge.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.SparkmergeException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.output.ShardReuse;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import io.sparkmerge.io.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The planner reads headers ahead on a pool; the plan and the first error are those of reading them in config order. */
class HeaderReadAheadTest {
  static final String LINEAR = "merge_method: linear\nmodels:\n  - model: FT1\n  - model: FT2\n  - model: FT3\n";
  static final String TIES = "merge_method: ties\nbase_model: BASE\nmodels:\n  - model: FT1\n    parameters: {density: 0.5}\n"
      + "  - model: FT2\n    parameters: {density: 0.5}\n  - model: FT3\n    parameters: {density: 0.5}\n";

  @TempDir Path dir;

  static List<String> shas(ModelDirectory d) {
    return d.headers().stream().map(SafetensorsHeader::headerSha256).toList();
  }

  @Test
  void readAheadDirectoriesEqualDirectReadsAndAreTakenOnce() throws IOException {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(dir, 7, 3);
    MergeConfig cfg = Configs.parse(TIES, dirs);
    HeaderReadAhead ahead = new HeaderReadAhead(Storage.configuration(), HeaderReadAhead.paths(cfg));
    for (org.apache.hadoop.fs.Path p : dirs) {
      ModelDirectory got = ahead.take(p.toString());
      assertNotNull(got, p.toString());
      ModelDirectory direct = ModelDirectory.open(Checkpoints.localFs(), p);
      assertEquals(shas(direct), shas(got));
      assertEquals(direct.tensors().keySet(), got.tensors().keySet());
      assertNull(ahead.take(p.toString()), "a second open of the same path reads again itself");
    }
    assertNull(ahead.take(dir.resolve("not-named").toString()));
  }

  @Test
  void thePlanIsTheSameEveryTime() throws IOException {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(dir, 8, 3);
    for (String body : new String[] {LINEAR, TIES}) {
      MergeConfig cfg = Configs.parse(body, dirs);
      String first = ShardReuse.fingerprint(new Planner(Storage.configuration()).plan(cfg, 2, "r"), Storage.configuration());
      for (int i = 0; i < 4; i++) {
        assertEquals(first, ShardReuse.fingerprint(new Planner(Storage.configuration()).plan(cfg, 2, "r"), Storage.configuration()));
      }
    }
  }

  @Test
  void aBadHeaderFailsWithTheSequentialErrorNamingTheFirstBadEntry() throws IOException {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(dir, 9, 3);
    Path ft2 = Path.of(dirs.get(2).toString(), "model.safetensors");
    Files.write(ft2, new byte[] {1, 0, 0, 0, 0, 0, 0, 0, '{'}); // header length 1: "{" is not a JSON object
    Files.delete(Path.of(dirs.get(3).toString(), "model.safetensors")); // a later entry is bad too
    MergeConfig cfg = Configs.parse(LINEAR, dirs);
    // what opening the models one by one, in config order, reports
    RuntimeException sequential = assertThrows(RuntimeException.class, () -> {
      ModelOpener opener = new ModelOpener(Storage.configuration());
      for (int i = 0; i < cfg.models().size(); i++) {
        opener.open(cfg.models().get(i).path(), "models[" + i + "]");
      }
    });
    assertTrue(sequential.getMessage().contains(ft2.toString()), sequential.getMessage());
    for (int i = 0; i < 5; i++) {
      RuntimeException e = assertThrows(RuntimeException.class, () -> new Planner(Storage.configuration()).plan(cfg, 2, "r"));
      assertEquals(sequential.getClass(), e.getClass());
      assertEquals(sequential.getMessage(), e.getMessage());
      assertTrue(e instanceof SparkmergeException s && s.exitCode() == 3, e.getMessage());
    }
  }
}
