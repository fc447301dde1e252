package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.Checkpoints;
import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * synth writes a model that fits the shard size as one model.safetensors without an index, as
 * mergekit and transformers do; a smaller --shard-size shards it with an index, the same tensors.
 */
class SynthCommandTest {
  @TempDir Path dir;

  private static TreeSet<String> files(Path d) {
    return new TreeSet<>(Arrays.asList(new File(d.toString()).list()));
  }

  @Test
  void aSmallModelIsOneModelSafetensorsByDefault() {
    MainTest.Run r = MainTest.run("synth", dir.resolve("small").toString(), "--family", "small", "--fine-tunes", "1");
    assertEquals(0, r.code(), r.err());
    for (String m : new String[] {"base", "ft-1"}) {
      assertEquals(new TreeSet<>(java.util.List.of("config.json", "generation_config.json", "model.safetensors")),
          files(dir.resolve("small").resolve(m)), m + ": ~60 MB fits the default 5GB: one file, no index");
    }
  }

  @Test
  void aSmallerShardSizeShardsWithAnIndexAndTheSameTensors() throws Exception {
    assertEquals(0, MainTest.run("synth", dir.resolve("one").toString(), "--fine-tunes", "1").code());
    MainTest.Run r = MainTest.run("synth", dir.resolve("sharded").toString(), "--fine-tunes", "1", "--shard-size", "300KB");
    assertEquals(0, r.code(), r.err());
    TreeSet<String> sharded = files(dir.resolve("sharded").resolve("ft-1"));
    assertTrue(sharded.contains("model.safetensors.index.json") && sharded.stream().anyMatch(f -> f.startsWith("model-00001-of-0000"))
        && !sharded.contains("model.safetensors"), sharded.toString());
    Map<String, byte[]> a = Checkpoints.rawBytes(dir.resolve("one").resolve("ft-1").toString());
    Map<String, byte[]> b = Checkpoints.rawBytes(dir.resolve("sharded").resolve("ft-1").toString());
    assertEquals(a.keySet(), b.keySet());
    a.forEach((k, v) -> assertArrayEquals(v, b.get(k), k));
    assertEquals(2, MainTest.run("synth", dir.resolve("bad").toString(), "--shard-size", "lots").code(), "a size that is no size");
  }
}
