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
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      long nan = 0;
      long inf = 0;
      for (float x : v) {
        if (Float.isNaN(x)) {
          nan++;
        } else if (Float.isInfinite(x)) {
          inf++;
        } else {
          min = Math.min(min, x);
          max = Math.max(max, x);
        }
      }
      ValueStats s = new ValueStats();
      INDArray a = Nd4j.createFromArray(v).reshape(1, n);
      s.add(a);
      s.add(Nd4j.createFromArray(new float[] {0.5f}).reshape(1, 1).castTo(DataType.FLOAT));
      min = Math.min(min, 0.5);
      max = Math.max(max, 0.5);
      assertEquals(Double.doubleToRawLongBits(min), Double.doubleToRawLongBits(s.min), "min, trial " + trial);
      assertEquals(Double.doubleToRawLongBits(max), Double.doubleToRawLongBits(s.max), "max, trial " + trial);
      assertEquals(nan, s.nan);
      assertEquals(inf, s.inf);
    }
  }
}
