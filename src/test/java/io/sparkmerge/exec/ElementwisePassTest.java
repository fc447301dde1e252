package io.sparkmerge.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.InputDataException;
import io.sparkmerge.io.DType;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.SmallCheckpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * linear through the real job takes the fused element-wise pass (inputs decoded block by block
 * straight from their bytes, output encoded straight into the writer): a tensor of several blocks
 * with a partial last one, in BF16 and F32, against Σ w_t·x_t worked element by element here in
 * float32 with its own round-to-nearest-even encoding; the manifest's SHA-256 and min/max; and an
 * input NaN in a later block is still bad input (exit 3) naming the file and tensor.
 */
class ElementwisePassTest {
  @TempDir Path dir;

  private static final long[] MATRIX = {1501, 97}; // 145,597 elements: 3 fused blocks, the last partial
  private static final long[] VECTOR = {97};
  private static final float W1 = 0.3f;
  private static final float W2 = 0.9f;

  private static double[] values(Random r, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      // exactly representable in BF16 (and F32): a random sign, exponent near 1 and 7-bit mantissa
      int bits = (r.nextBoolean() ? 0x8000 : 0) | ((120 + r.nextInt(12)) << 7) | r.nextInt(128);
      v[i] = Float.intBitsToFloat(bits << 16);
    }
    return v;
  }

  private static int numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return (int) n;
  }

  private String model(String name, DType dtype, double[] m, double[] v) throws IOException {
    return SmallCheckpoints.write(dir.resolve(name + "-" + dtype), dtype, List.of(
        new SmallCheckpoints.Tensor("layers.0.w", MATRIX, m), new SmallCheckpoints.Tensor("layers.0.v", VECTOR, v)));
  }

  private MergeJob.Outcome linear(String a, String b, String out) throws IOException {
    return linear(a, b, out, "");
  }

  private MergeJob.Outcome linear(String a, String b, String out, String extra) throws IOException {
    String yaml = """
        merge_method: linear
        models:
          - model: FT1
            parameters: {weight: 0.3}
          - model: FT2
            parameters: {weight: 0.9}
        parameters: {normalize: false}
        """ + extra;
    return MergeJob.run(SparkTestSession.get(), Configs.parse(yaml, List.of("unused-base", a, b)),
        new MergeJob.Options(out, false, 2, new PrintStream(new ByteArrayOutputStream())));
  }

  /** Σ w_t·x_t in float32 (w₁x₁ then + w₂x₂), encoded here: BF16 by round to nearest even, F32 as is. */
  private static byte[] expected(double[] x1, double[] x2, DType dtype) {
    ByteBuffer b = ByteBuffer.allocate(x1.length * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < x1.length; i++) {
      float acc = W1 * (float) x1[i];
      acc += W2 * (float) x2[i];
      if (dtype == DType.F32) {
        b.putFloat(acc);
      } else {
        int bits = Float.floatToRawIntBits(acc);
        b.putShort((short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16));
      }
    }
    return b.array();
  }

  @Test
  void linearMatchesTheSumWorkedHereAcrossBlocksInBf16AndF32() throws Exception {
    Random r = new Random(17);
    double[] m1 = values(r, numel(MATRIX));
    double[] m2 = values(r, numel(MATRIX));
    double[] v1 = values(r, numel(VECTOR));
    double[] v2 = values(r, numel(VECTOR));
    for (DType dtype : new DType[] {DType.BF16, DType.F32}) {
      String out = dir.resolve("out-" + dtype).toString();
      linear(model("a", dtype, m1, v1), model("b", dtype, m2, v2), out);
      Map<String, byte[]> got = Checkpoints.rawBytes(out);
      byte[] w = expected(m1, m2, dtype);
      assertArrayEquals(w, got.get("layers.0.w"), dtype + ": layers.0.w");
      assertArrayEquals(expected(v1, v2, dtype), got.get("layers.0.v"), dtype + ": layers.0.v");
      JsonNode t = new ObjectMapper().readTree(Path.of(out, "sparkmerge.json").toFile()).get("tensors").get("layers.0.w");
      assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(w)), t.get("sha256").asText());
      // min/max are of the values as written (BF16: the rounded sums), read back from the bytes worked here
      ByteBuffer written = ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN);
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < m1.length; i++) {
        float x = dtype == DType.F32 ? written.getFloat() : Float.intBitsToFloat(written.getShort() << 16);
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
      assertEquals(min, t.get("min").asDouble(), 0, dtype + ": min");
      assertEquals(max, t.get("max").asDouble(), 0, dtype + ": max");
    }
  }

  @Test
  void aNanInALaterBlockIsBadInputNamingFileAndTensor() throws IOException {
    Random r = new Random(3);
    double[] m1 = values(r, numel(MATRIX));
    double[] m2 = values(r, numel(MATRIX));
    m2[140_000] = Double.NaN; // in the third block
    double[] v = values(r, numel(VECTOR));
    String b = model("b", DType.BF16, m2, v);
    // the task's InputDataException reaches the driver inside Spark's exception (the CLI maps it to exit 3)
    Throwable e = assertThrows(Exception.class, () -> linear(model("a", DType.BF16, m1, v), b, dir.resolve("out").toString()));
    while (e != null && !(e instanceof InputDataException)) {
      e = e.getCause();
    }
    assertTrue(e != null, "an InputDataException among the causes");
    assertTrue(e.getMessage().contains(b) && e.getMessage().contains("tensor layers.0.w") && e.getMessage().contains("1 NaN/Inf"),
        e.getMessage());
  }

  /**
   * Finite float32 sums that overflow float16 (max 65504) in a later block are Inf in the file: the fused
   * pass checks the values as encoded, so the merge fails naming the tensor (exit 3), as the chunk path does.
   */
  @Test
  void sumsThatOverflowFloat16InALaterBlockAreCaught() throws IOException {
    Random r = new Random(5);
    double[] m1 = values(r, numel(MATRIX));
    double[] m2 = values(r, numel(MATRIX));
    m1[140_000] = 60000; // 0.3·60000 + 0.9·60000 = 72000: finite in float32, Inf in float16
    m2[140_000] = 60000;
    double[] v = values(r, numel(VECTOR));
    String a = model("a", DType.F32, m1, v);
    String b = model("b", DType.F32, m2, v);
    Path out = dir.resolve("out16");
    Throwable e = assertThrows(Exception.class, () -> linear(a, b, out.toString(), "dtype: float16\n"));
    while (e != null && !(e instanceof InputDataException)) {
      e = e.getCause();
    }
    assertTrue(e != null, "an InputDataException among the causes");
    assertTrue(e.getMessage().contains("tensor layers.0.w: the merged values contain 0 NaN and 1 Inf"), e.getMessage());
    assertTrue(!java.nio.file.Files.exists(out), "nothing at the destination");
  }
}
