package io.sparkmerge.testing;

import io.sparkmerge.io.HalfFloats;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.io.TensorReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Reads whole checkpoints back into doubles (tests only: never do this in the product). */
public final class Checkpoints {
  private Checkpoints() {}

  public static FileSystem localFs() {
    try {
      return FileSystem.getLocal(new Configuration());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The synth {@code tiny} family (base + fineTunes) under a local directory; the model paths, base first. */
  public static java.util.List<Path> tinyFamily(java.nio.file.Path dir, long seed, int fineTunes) throws IOException {
    return new io.sparkmerge.synth.ModelFamilyGenerator(io.sparkmerge.synth.FamilyPreset.of("tiny"), seed)
        .generate(localFs(), new Path(dir.toString()), fineTunes);
  }

  /** {@link #read} of each model directory, in order. */
  public static java.util.List<Map<String, double[]>> readAll(java.util.List<Path> dirs) throws IOException {
    java.util.List<Map<String, double[]>> out = new java.util.ArrayList<>();
    for (Path d : dirs) {
      out.add(read(d.toString()));
    }
    return out;
  }

  /** Every floating tensor of the model, as doubles in row-major order. */
  public static Map<String, double[]> read(String dir) throws IOException {
    FileSystem fs = localFs();
    ModelDirectory md = ModelDirectory.open(fs, new Path(dir));
    Map<String, double[]> out = new LinkedHashMap<>();
    for (TensorInfo t : md.tensors().values()) {
      if (!t.dtype().isFloating()) {
        continue;
      }
      out.put(t.name(), values(fs, md.fileOf(t.name()), t));
    }
    return out;
  }

  /** One floating tensor of the model, as doubles in row-major order. */
  public static double[] tensor(String dir, String name) throws IOException {
    FileSystem fs = localFs();
    ModelDirectory md = ModelDirectory.open(fs, new Path(dir));
    return values(fs, md.fileOf(name), md.tensors().get(name));
  }

  /** Raw bytes of every tensor (to compare outputs bit for bit). */
  public static Map<String, byte[]> rawBytes(String dir) throws IOException {
    return rawBytes(localFs(), dir);
  }

  /** Raw bytes of every tensor of a model on any FileSystem (HDFS in the reliability tests). */
  public static Map<String, byte[]> rawBytes(FileSystem fs, String dir) throws IOException {
    ModelDirectory md = ModelDirectory.open(fs, new Path(dir));
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (TensorInfo t : md.tensors().values()) {
      byte[] b = new byte[(int) t.byteLength()];
      try (TensorReader r = new TensorReader(fs, new Path(md.fileOf(t.name())))) {
        r.readFully(t.fileOffset(), b, 0, b.length);
      }
      out.put(t.name(), b);
    }
    return out;
  }

  static double[] values(FileSystem fs, String file, TensorInfo t) throws IOException {
    byte[] b = new byte[(int) t.byteLength()];
    try (TensorReader r = new TensorReader(fs, new Path(file))) {
      r.readFully(t.fileOffset(), b, 0, b.length);
    }
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) t.numel();
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = switch (t.dtype()) {
        case F32 -> bb.getFloat();
        case F64 -> bb.getDouble();
        case BF16 -> HalfFloats.bf16ToFloat(bb.getShort());
        case F16 -> HalfFloats.f16ToFloat(bb.getShort());
        default -> throw new IllegalArgumentException(t.dtype().toString());
      };
    }
    return v;
  }

  /** max |a − b| / max(1, max |b|), the tolerance measure of DESIGN.md §6. */
  public static double relError(double[] got, double[] ref) {
    double maxRef = 1;
    double maxDiff = 0;
    for (int i = 0; i < ref.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(ref[i]));
      maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
    }
    return maxDiff / maxRef;
  }
}
