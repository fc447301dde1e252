package io.sparkmerge.reliability;

import io.sparkmerge.testing.Configs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.synth.FamilyPreset;
import io.sparkmerge.synth.ModelFamilyGenerator;
import io.sparkmerge.testing.ChildJvm;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver holds headers, never tensor data: planning a merge of three 1b-sized models (2.5 GB each
 * in BF16) succeeds in a driver JVM with a 256 MB heap. The models are real safetensors files whose
 * data section is a sparse hole (setLength), so the test costs no disk.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DriverMemoryTest {
  @TempDir Path work;

  /** A single-file model with the 1b preset's tensors (BF16) and a zero-filled sparse data section. */
  static long sparseModel(Path dir, Map<String, long[]> tensors) throws IOException {
    StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
    long offset = 0;
    for (Map.Entry<String, long[]> t : tensors.entrySet()) {
      long n = 1;
      StringBuilder shape = new StringBuilder();
      for (long d : t.getValue()) {
        n *= d;
        shape.append(shape.length() == 0 ? "" : ",").append(d);
      }
      h.append(",\"").append(t.getKey()).append("\":{\"dtype\":\"BF16\",\"shape\":[").append(shape).append("],\"data_offsets\":[")
          .append(offset).append(',').append(offset + 2 * n).append("]}");
      offset += 2 * n;
    }
    byte[] header = h.append('}').toString().getBytes(StandardCharsets.UTF_8);
    Files.createDirectories(dir);
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
      f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
      f.write(header);
      f.setLength(8 + header.length + offset);
    }
    return offset;
  }

  @Test
  void planningThree1bModelsFitsA256MbDriverHeap() throws Exception {
    Map<String, long[]> tensors = new ModelFamilyGenerator(FamilyPreset.of("1b"), 1).tensors();
    long bytes = 0;
    for (String m : List.of("base", "ft-1", "ft-2")) {
      bytes += sparseModel(work.resolve(m), tensors);
    }
    assertTrue(bytes > 3 * 2_000_000_000L, "three 1b-sized models: " + bytes + " bytes");
    Path cfg = work.resolve("ties.yml");
    Files.writeString(cfg, Configs.withPaths(Configs.twoFineTunes("ties", 0.5, 0.3, 0.5, 0.3, 0),
        List.of(work.resolve("base"), work.resolve("ft-1"), work.resolve("ft-2"))));
    File log = work.resolve("driver.log").toFile();
    Process p = ChildJvm.start("256m", "io.sparkmerge.cli.Main",
        List.of("merge", cfg.toString(), work.resolve("out").toString(), "--dry-run", "--partitions", "16"), log);
    assertTrue(p.waitFor(100, TimeUnit.SECONDS), "planned within the time limit");
    String out = Files.readString(log.toPath());
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains(tensors.size() + " tensors") && out.contains("16 output shard(s)"), out);
  }
}
