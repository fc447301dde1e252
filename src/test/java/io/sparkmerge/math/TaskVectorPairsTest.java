package io.sparkmerge.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The pair sums against the definition written the plain way (test per product, branches): equal to the
 * last bit, with and without non-finite products, so the branch-free form changed no reported figure.
 */
class TaskVectorPairsTest {

  private static double[] reference(double[] x, double[] y, int n) {
    double d = 0;
    long both = 0;
    long conflict = 0;
    for (int i = 0; i < n; i++) {
      double p = x[i] * y[i];
      if (Double.isFinite(p)) {
        d += p;
      }
      if (x[i] != 0 && y[i] != 0) {
        both++;
        if (p < 0) {
          conflict++;
        }
      }
    }
    return new double[] {d, both, conflict};
  }

  private static double[] sample(Random r, int n, double zeroShare) {
    double[] a = new double[n];
    for (int i = 0; i < n; i++) {
      a[i] = r.nextDouble() < zeroShare ? (r.nextBoolean() ? 0.0 : -0.0) : r.nextGaussian() * Math.exp(r.nextGaussian() * 5);
    }
    return a;
  }

  @Test
  void equalsThePlainLoopBitForBit() {
    Random r = new Random(7);
    for (int round = 0; round < 50; round++) {
      int n = 1 + r.nextInt(5000);
      double[] x = sample(r, n, 0.4);
      double[] y = sample(r, n, 0.4);
      if (round % 5 == 0) { // non-finite entries: the slow path must give the plain loop's sum
        x[r.nextInt(n)] = Double.POSITIVE_INFINITY;
        y[r.nextInt(n)] = Double.NaN;
        x[r.nextInt(n)] = 1e300;
        y[r.nextInt(n)] = -1e300;
      }
      double[] got = new double[3];
      TaskVectorPairs.add(x, y, n, got);
      double[] want = reference(x, y, n);
      for (int k = 0; k < 3; k++) {
        assertEquals(Double.doubleToRawLongBits(want[k]), Double.doubleToRawLongBits(got[k]), "round " + round + " sum " + k);
      }
    }
  }

  @Test
  void countsByHand() {
    double[] x = {1, -2, 0, 3, -0.0, 5};
    double[] y = {2, 4, 7, -1, 1, Double.POSITIVE_INFINITY};
    double[] s = new double[3];
    TaskVectorPairs.add(x, y, 6, s);
    // products 2, -8, 0, -3, -0 and +inf (skipped): sum -9; both non-zero at 0, 1, 3, 5; opposite at 1, 3
    assertEquals(-9.0, s[0]);
    assertEquals(4.0, s[1]);
    assertEquals(2.0, s[2]);
  }
}
