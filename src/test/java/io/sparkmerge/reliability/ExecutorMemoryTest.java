package io.sparkmerge.reliability;

import io.sparkmerge.io.HalfFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.io.TensorReader;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.SafetensorsWriter;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.ChildJvm;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executor memory is bounded by the chunk size, not the model size: a linear merge of four models
 * (426 MB each in BF16, 1.7 GB in all, each embedding tensor 52 000 × 2048 = 213 MB) runs in
 * {@code local[1]} in a child JVM with a 512 MB heap and a 512 MB JavaCPP off-heap budget, and the
 * output equals a plain-Java linear combination of the inputs on sampled rows, including the last
 * rows of the big tensors (their last row chunk).
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS) // 240 s ran out at a load average near 25 on the shared machine
class ExecutorMemoryTest {
  static final long HEAP = 512L << 20;
  static final double[] WEIGHTS = {1, 2, 3, 4};
  /** 426 MB per model in BF16: the two embeddings (52 000 × 2048, 213 MB each) are row-chunked. */
  static final Map<String, long[]> TENSORS = new LinkedHashMap<>();

  static {
    TENSORS.put("model.embed_tokens.weight", new long[] {52000, 2048});
    TENSORS.put("model.norm.weight", new long[] {2048});
    TENSORS.put("lm_head.weight", new long[] {52000, 2048});
  }

  @TempDir Path work;

  @Test
  void linearMergeOfAFamilySeveralTimesTheHeapSucceedsAndIsCorrect() throws Exception {
    FileSystem fs = Checkpoints.localFs();
    List<Path> dirs = new ArrayList<>();
    long inputBytes = 0;
    for (int m = 0; m < WEIGHTS.length; m++) {
      dirs.add(work.resolve("model-" + m));
      inputBytes += writeModel(dirs.get(m), m);
    }
    assertTrue(inputBytes >= 3 * HEAP, "the family must be at least 3x the heap: " + inputBytes + " bytes");

    StringBuilder yaml = new StringBuilder("merge_method: linear\nmodels:\n");
    for (int m = 0; m < dirs.size(); m++) {
      yaml.append("  - model: ").append(dirs.get(m)).append("\n    parameters: {weight: ").append(WEIGHTS[m]).append("}\n");
    }
    Path cfg = work.resolve("linear.yml");
    Files.writeString(cfg, yaml);
    Path out = work.resolve("out");
    File log = work.resolve("merge.log").toFile();
    // JavaCPP caps ND4J's off-heap buffers at maxBytes and the process RSS at maxPhysicalBytes; an
    // allocation past them fails with OutOfMemoryError instead of growing the process.
    Process p = ChildJvm.start("512m", List.of("-Dorg.bytedeco.javacpp.maxBytes=512m",
            "-Dorg.bytedeco.javacpp.maxPhysicalBytes=1600m"), "io.sparkmerge.cli.Main",
        List.of("merge", cfg.toString(), out.toString(), "--master", "local[1]", "--partitions", "2"), log);
    boolean done = p.waitFor(200, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly().waitFor();
    }
    String text = Files.readString(log.toPath());
    assertTrue(done, "merged within the time limit:\n" + tail(text));
    assertEquals(0, p.exitValue(), tail(text));

    ModelDirectory merged = ModelDirectory.open(fs, new org.apache.hadoop.fs.Path(out.toString()));
    List<ModelDirectory> inputs = new ArrayList<>();
    for (Path d : dirs) {
      inputs.add(ModelDirectory.open(fs, new org.apache.hadoop.fs.Path(d.toString())));
    }
    assertEquals(inputs.get(0).tensors().keySet(), merged.tensors().keySet());
    int checked = 0;
    for (String name : TENSORS.keySet()) {
      long rows = merged.tensors().get(name).shape().length == 1 ? 1 : merged.tensors().get(name).shape()[0];
      for (long row : new long[] {0, rows / 2, rows - 1}) {
        double[] got = row(fs, merged, name, row);
        double[] ref = new double[got.length];
        for (int m = 0; m < inputs.size(); m++) {
          double[] x = row(fs, inputs.get(m), name, row);
          for (int i = 0; i < ref.length; i++) {
            ref[i] += WEIGHTS[m] * x[i] / 10.0;
          }
        }
        for (int i = 0; i < ref.length; i++) {
          // BF16 output: one rounding of the float result, at most 2^-9 relative (2^-8 allows for the float sum)
          assertTrue(Math.abs(got[i] - ref[i]) <= Math.abs(ref[i]) / 256 + 1e-7,
              name + " row " + row + " col " + i + ": " + got[i] + " vs " + ref[i]);
        }
        checked++;
      }
    }
    assertEquals(3 * TENSORS.size(), checked);
  }

  /**
   * Issue 16, defect 10: a 1-D tensor far wider than the chunk budget (96 M elements: 192 MB in BF16, 384
   * MB decoded to float32) is merged in runs of its elements, in a JVM whose heap and JavaCPP off-heap
   * budget (384 MB each) cannot hold even one decoded copy of it; the result equals Σ wᵢxᵢ / Σ wᵢ at the
   * first, middle and last elements and at the chunk boundaries.
   */
  @Test
  void aOneDimensionalTensorWiderThanTheChunkIsMergedInBoundedMemory() throws Exception {
    Map<String, long[]> saved = new LinkedHashMap<>(TENSORS);
    TENSORS.clear();
    TENSORS.put("model.huge_vector", new long[] {96L << 20});
    try {
      FileSystem fs = Checkpoints.localFs();
      List<Path> dirs = List.of(work.resolve("v0"), work.resolve("v1"));
      for (int m = 0; m < 2; m++) {
        writeModel(dirs.get(m), m);
      }
      Path cfg = work.resolve("v.yml");
      Files.writeString(cfg, "merge_method: linear\nmodels:\n  - model: " + dirs.get(0) + "\n    parameters: {weight: 1}\n"
          + "  - model: " + dirs.get(1) + "\n    parameters: {weight: 3}\n");
      Path out = work.resolve("vout");
      File log = work.resolve("v.log").toFile();
      // Spark needs a 450 MB driver heap at least; the bound under test is ND4J's off-heap budget, 384 MB: one
      // input decoded whole would fill it, two inputs and the output are three times that
      Process p = ChildJvm.start("512m", List.of("-Dorg.bytedeco.javacpp.maxBytes=384m",
          "-Dorg.bytedeco.javacpp.maxPhysicalBytes=1200m"), "io.sparkmerge.cli.Main",
          List.of("merge", cfg.toString(), out.toString(), "--master", "local[1]"), log);
      boolean done = p.waitFor(200, TimeUnit.SECONDS);
      if (!done) {
        p.destroyForcibly().waitFor();
      }
      String text = Files.readString(log.toPath());
      assertTrue(done, "merged within the time limit:\n" + tail(text));
      assertEquals(0, p.exitValue(), tail(text));
      ModelDirectory merged = ModelDirectory.open(fs, new org.apache.hadoop.fs.Path(out.toString()));
      ModelDirectory a = ModelDirectory.open(fs, new org.apache.hadoop.fs.Path(dirs.get(0).toString()));
      ModelDirectory b = ModelDirectory.open(fs, new org.apache.hadoop.fs.Path(dirs.get(1).toString()));
      long n = 96L << 20;
      long chunk = io.sparkmerge.plan.Planner.DEFAULT_CHUNK_BYTES / 4;
      for (long i : new long[] {0, chunk - 1, chunk, n / 2, n - chunk, n - 1}) {
        double x = element(fs, a, "model.huge_vector", i);
        double y = element(fs, b, "model.huge_vector", i);
        double got = element(fs, merged, "model.huge_vector", i);
        double ref = (x + 3 * y) / 4;
        assertTrue(Math.abs(got - ref) <= Math.abs(ref) / 256 + 1e-7, "element " + i + ": " + got + " vs " + ref);
      }
    } finally {
      TENSORS.clear();
      TENSORS.putAll(saved);
    }
  }

  static double element(FileSystem fs, ModelDirectory md, String name, long i) throws IOException {
    TensorInfo t = md.tensors().get(name);
    byte[] b = new byte[2];
    try (TensorReader r = new TensorReader(fs, new org.apache.hadoop.fs.Path(md.fileOf(name)))) {
      r.readFully(t.fileOffset() + 2 * i, b, 0, 2);
    }
    return io.sparkmerge.io.HalfFloats.bf16ToFloat(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort());
  }

  /**
   * A single-file BF16 model with the {@link #TENSORS}, filled by a cheap per-element hash of (model,
   * tensor, index): ModelFamilyGenerator's values take minutes for 1.7 GB on a busy 2-core box.
   */
  static long writeModel(Path dir, int model) throws IOException {
    return writeBf16(dir, TENSORS, (name, i) -> {
      long key = name.hashCode() * 0xBF58476D1CE4E5B9L + model * 0x94D049BB133111EBL;
      long h = (i + key) * 0x9E3779B97F4A7C15L;
      h ^= h >>> 31;
      return ((h >>> 40) / (float) (1 << 24) - 0.5f) * 0.04f;
    });
  }

  /** The value of element i of a tensor. */
  interface ElementValue {
    float at(String tensor, long i);
  }

  /** A single-file BF16 model with the given tensors (in order), element values from {@code value}; its bytes. */
  static long writeBf16(Path dir, Map<String, long[]> tensors, ElementValue value) throws IOException {
    Files.createDirectories(dir);
    List<SafetensorsWriter.TensorSpec> specs = new ArrayList<>();
    tensors.forEach((name, shape) -> specs.add(new SafetensorsWriter.TensorSpec(name, DType.BF16, shape)));
    ByteBuffer b = ByteBuffer.allocate(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
    try (SafetensorsWriter w = new SafetensorsWriter(Checkpoints.localFs(),
        new org.apache.hadoop.fs.Path(dir.resolve("model.safetensors").toString()), specs, Map.of("format", "pt"))) {
      for (SafetensorsWriter.TensorSpec spec : specs) {
        long n = 1;
        for (long d : spec.shape()) {
          n *= d;
        }
        for (long i = 0; i < n; ) {
          b.clear();
          for (; i < n && b.hasRemaining(); i++) {
            b.putShort(HalfFloats.floatToBf16(value.at(spec.name(), i)));
          }
          b.flip();
          w.write(b);
        }
      }
    }
    return Files.size(dir.resolve("model.safetensors"));
  }

  /** One row of a 2-D tensor (or the whole of a 1-D one) as doubles. */
  static double[] row(FileSystem fs, ModelDirectory md, String name, long row) throws IOException {
    TensorInfo t = md.tensors().get(name);
    long rowLength = t.shape().length == 1 ? t.shape()[0] : t.numel() / t.shape()[0];
    int size = t.dtype().size();
    byte[] b = new byte[(int) (rowLength * size)];
    try (TensorReader r = new TensorReader(fs, new org.apache.hadoop.fs.Path(md.fileOf(name)))) {
      r.readFully(t.fileOffset() + row * rowLength * size, b, 0, b.length);
    }
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    double[] v = new double[(int) rowLength];
    for (int i = 0; i < v.length; i++) {
      v[i] = HalfFloats.bf16ToFloat(bb.getShort());
    }
    return v;
  }

  static String tail(String log) {
    return log.length() <= 4000 ? log : log.substring(log.length() - 4000);
  }
}
