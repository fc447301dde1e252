package io.sparkmerge.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** ValueStats' int-key min/max equals a plain float scan, with signed zeros, NaN and Inf. */
class ValueStatsTest {
  @Test
  void matchesAPlainScan() {
    SplittableRandom rnd = new SplittableRandom(5);
    for (int trial = 0; trial < 40; trial++) {
      int n = 1 + rnd.nextInt(40_000);
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = switch (rnd.nextInt(trial % 4 == 0 ? 12 : 1000)) {
          case 0 -> Float.NaN;
          case 1 -> rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
          case 2 -> rnd.nextBoolean() ? 0f : -0f;
          default -> (float) ((rnd.nextDouble() - 0.5) * Math.pow(10, rnd.nextInt(20) - 10));
        };
      }
      if (trial == 1) {
        java.util.Arrays.fill(v, -0f);
      }
      if (trial == 2) {
        java.util.Arrays.fill(v, Float.NaN);
      }
      Scan scan = new Scan();
      for (float x : v) {
        scan.add(x);
      }
      ValueStats s = new ValueStats();
      INDArray a = Nd4j.createFromArray(v).reshape(1, n);
      s.add(a);
      s.add(Nd4j.createFromArray(new float[] {0.5f}).reshape(1, 1).castTo(DataType.FLOAT));
      scan.add(0.5f);
      scan.check(s, "trial " + trial);
    }
  }

  /**
   * encodeAndAdd (the fused pass and the chunk path) takes the statistics of the values as encoded: F16/BF16
   * round, and sums beyond float16's 65504 are Inf in the file; checked against a scan of the bytes decoded
   * one by one with HalfFloats (the blockwise decode of addEncoded is the code under test).
   */
  @Test
  void encodeAndAddDescribesTheBytesWritten() {
    SplittableRandom rnd = new SplittableRandom(11);
    for (io.sparkmerge.io.DType dtype : new io.sparkmerge.io.DType[] {
        io.sparkmerge.io.DType.F16, io.sparkmerge.io.DType.BF16, io.sparkmerge.io.DType.F32}) {
      for (int trial = 0; trial < 12; trial++) {
        int n = 1 + rnd.nextInt(40_000);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = switch (rnd.nextInt(trial % 3 == 0 ? 50 : 5000)) {
            case 0 -> Float.NaN;
            case 1 -> (rnd.nextBoolean() ? 1 : -1) * (65520f + rnd.nextInt(10_000)); // float16: Inf
            case 2 -> rnd.nextBoolean() ? 0f : -0f;
            default -> (float) ((rnd.nextDouble() - 0.5) * Math.pow(10, rnd.nextInt(8) - 4));
          };
        }
        if (trial % 3 == 0) {
          v[n - 1] = 70000f; // float16: Inf
        }
        java.nio.ByteBuffer enc = java.nio.ByteBuffer.allocate(n * dtype.size() + 6).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        enc.position(6); // not at the buffer's start, as a later block of a chunk is not
        ValueStats s = new ValueStats();
        s.encodeAndAdd(v, n, dtype, enc);
        assertEquals(6 + n * dtype.size(), enc.position());
        java.nio.ByteBuffer b = enc.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.flip().position(6);
        Scan scan = new Scan();
        for (int i = 0; i < n; i++) {
          scan.add(switch (dtype) {
            case F16 -> io.sparkmerge.io.HalfFloats.f16ToFloat(b.getShort());
            case BF16 -> io.sparkmerge.io.HalfFloats.bf16ToFloat(b.getShort());
            default -> b.getFloat();
          });
        }
        String what = dtype + ", trial " + trial;
        scan.check(s, what);
        if (dtype == io.sparkmerge.io.DType.F16 && trial % 3 == 0) {
          org.junit.jupiter.api.Assertions.assertTrue(scan.inf > 0, "the overflow case is exercised: " + what);
        }
      }
    }
  }

  /** The plain scan the tests compare against: one value at a time, NaN and ±Inf counted, finite ones into min/max. */
  private static final class Scan {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    long nan;
    long inf;

    void add(float x) {
      if (Float.isNaN(x)) {
        nan++;
      } else if (Float.isInfinite(x)) {
        inf++;
      } else {
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
    }

    void check(ValueStats s, String what) {
      assertEquals(Double.doubleToRawLongBits(min), Double.doubleToRawLongBits(s.min), "min, " + what);
      assertEquals(Double.doubleToRawLongBits(max), Double.doubleToRawLongBits(s.max), "max, " + what);
      assertEquals(nan, s.nan, "NaN, " + what);
      assertEquals(inf, s.inf, "Inf, " + what);
    }
  }
}
