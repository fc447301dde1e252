package io.sparkmerge.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.InputDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDirectoryTest {
  @TempDir Path dir;

  static FileSystem fs() throws IOException {
    return FileSystem.getLocal(new Configuration());
  }

  static org.apache.hadoop.fs.Path hp(Path p) {
    return new org.apache.hadoop.fs.Path(p.toString());
  }

  /** Writes a shard with the given F32 tensors (shape [n], values 0..n-1). */
  static void shard(Path file, Map<String, Integer> tensors) throws IOException {
    List<SafetensorsWriter.TensorSpec> specs = new java.util.ArrayList<>();
    tensors.forEach((n, len) -> specs.add(new SafetensorsWriter.TensorSpec(n, DType.F32, new long[] {len})));
    Files.createDirectories(file.getParent());
    try (SafetensorsWriter w = new SafetensorsWriter(fs(), hp(file), specs, Map.of("format", "pt"))) {
      for (SafetensorsWriter.TensorSpec s : specs) {
        ByteBuffer b = ByteBuffer.allocate((int) s.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < s.shape()[0]; i++) {
          b.putFloat(i);
        }
        b.flip();
        w.write(b);
      }
    }
  }

  void fails(Path p, String... words) {
    InputDataException e = assertThrows(InputDataException.class, () -> ModelDirectory.open(fs(), hp(p)));
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "'" + w + "' in: " + e.getMessage());
    }
  }

  @Test
  void writerOutputReadsBackAsShardedModel() throws IOException {
    Path m = dir.resolve("m");
    shard(m.resolve("model-00001-of-00002.safetensors"), Map.of("a", 3, "b", 0));
    shard(m.resolve("model-00002-of-00002.safetensors"), Map.of("c", 5));
    HfIndex.write(fs(), hp(m.resolve(HfIndex.INDEX_FILE)), 32,
        Map.of("a", "model-00001-of-00002.safetensors", "b", "model-00001-of-00002.safetensors", "c", "model-00002-of-00002.safetensors"));
    ModelDirectory md = ModelDirectory.open(fs(), hp(m));
    assertEquals(List.of("a", "b", "c"), List.copyOf(md.tensors().keySet()));
    assertTrue(md.fileOf("c").endsWith("model-00002-of-00002.safetensors"));
    assertEquals(2, md.shardFiles().size());
    TensorInfo c = md.tensors().get("c");
    byte[] raw = new byte[(int) c.byteLength()];
    try (TensorReader r = new TensorReader(fs(), new org.apache.hadoop.fs.Path(md.fileOf("c")))) {
      r.readFully(c.fileOffset(), raw, 0, raw.length);
    }
    ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 5; i++) {
      assertEquals(i, bb.getFloat(), 0.0);
    }
    // header padded to a multiple of 8, as Hugging Face writes it
    assertEquals(0, md.header(md.fileOf("a")).headerLength() % 8);
  }

  @Test
  void indexMayNotPointOutsideTheDirectory() throws IOException {
    for (String bad : new String[] {"../x.safetensors", "/abs/x.safetensors", "a/b.safetensors", "..", "hdfs://h/x.safetensors"}) {
      Path m = dir.resolve("esc" + Math.abs(bad.hashCode()));
      Files.createDirectories(m);
      Files.writeString(m.resolve(HfIndex.INDEX_FILE), "{\"weight_map\":{\"a\":\"" + bad + "\"}}");
      fails(m, "not a plain file name", "'a'");
    }
  }

  @Test
  void missingShardAbsentTensorUnlistedTensor() throws IOException {
    Path m = dir.resolve("missing");
    Files.createDirectories(m);
    Files.writeString(m.resolve(HfIndex.INDEX_FILE), "{\"weight_map\":{\"a\":\"s1.safetensors\"}}");
    fails(m, "does not exist", "s1.safetensors");
    Path m2 = dir.resolve("absent");
    shard(m2.resolve("s1.safetensors"), Map.of("a", 2));
    Files.writeString(m2.resolve(HfIndex.INDEX_FILE), "{\"weight_map\":{\"a\":\"s1.safetensors\",\"zz\":\"s1.safetensors\"}}");
    fails(m2, "'zz'", "no such tensor");
    Path m3 = dir.resolve("unlisted");
    shard(m3.resolve("s1.safetensors"), Map.of("a", 2, "b", 1));
    Files.writeString(m3.resolve(HfIndex.INDEX_FILE), "{\"weight_map\":{\"a\":\"s1.safetensors\"}}");
    fails(m3, "'b'", "not listed");
  }

  @Test
  void pickleOnlyEmptyAndMissingDirectories() throws IOException {
    Path p = dir.resolve("pickle");
    Files.createDirectories(p);
    Files.write(p.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 0x02});
    fails(p, "pickle", "convert to safetensors");
    Path e = dir.resolve("empty");
    Files.createDirectories(e);
    fails(e, "no model.safetensors");
    fails(dir.resolve("nope"), "no such model directory");
  }

  @Test
  void writerRefusesShortWritesAndDeletesThePartialFile() throws IOException {
    Path f = dir.resolve("partial.safetensors");
    List<SafetensorsWriter.TensorSpec> specs = List.of(new SafetensorsWriter.TensorSpec("a", DType.F32, new long[] {4}));
    SafetensorsWriter w = new SafetensorsWriter(fs(), hp(f), specs, Map.of());
    w.write(ByteBuffer.allocate(8));
    assertThrows(IllegalStateException.class, w::close);
    assertTrue(Files.notExists(f), "partial file deleted");
    try (SafetensorsWriter w2 = new SafetensorsWriter(fs(), hp(dir.resolve("over.safetensors")), specs, Map.of())) {
      assertThrows(IllegalStateException.class, () -> w2.write(ByteBuffer.allocate(20)));
      w2.write(ByteBuffer.allocate(0));
    } catch (IllegalStateException expectedOnClose) {
      // the over-long write left the tensor incomplete; close reports it
    }
  }
}
