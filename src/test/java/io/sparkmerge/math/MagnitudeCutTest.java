package io.sparkmerge.math;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The radix selection on float bits picks the same top-j set as a full sort with the lower-index tie rule. */
class MagnitudeCutTest {

  @Test
  void radixSelectOnFloatBitsMatchesASortWithTiesBrokenByIndex() {
    Random rnd = new Random(7);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + rnd.nextInt(300);
      double[] tau = new double[n];
      for (int i = 0; i < n; i++) {
        // few distinct values (many ties, zeros, values sharing their top 16 bits) or a wide spread
        tau[i] = trial % 2 == 0 ? (rnd.nextInt(7) - 3) * 0.25 + (rnd.nextInt(3) == 0 ? 0x1p-20 : 0) : rnd.nextGaussian() * 1e-3;
      }
      long j = rnd.nextInt(n + 2);
      int[] bits = new int[n];
      for (int i = 0; i < n; i++) {
        bits[i] = Float.floatToIntBits((float) Math.abs(tau[i]));
      }
      boolean[] got = new boolean[n];
      MagnitudeCut.FloatBitsSelection sel = new MagnitudeCut.FloatBitsSelection(n, j);
      sel.countHigh(bits, n); // both passes over the whole tensor at once
      sel.countLow(bits, n);
      sel.cut(0).mark(tau, n, true, got);
      assertArrayEquals(bySort(tau, j), got, "trial " + trial);
    }
  }

  @Test
  void keyFreeTwoPassSelectionFedInChunksMatchesASort() {
    Random rnd = new Random(9);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + rnd.nextInt(300);
      double[] tau = new double[n];
      for (int i = 0; i < n; i++) {
        tau[i] = trial % 2 == 0 ? (rnd.nextInt(7) - 3) * 0.25 + (rnd.nextInt(3) == 0 ? 0x1p-20 : 0) : rnd.nextGaussian() * 1e-3;
      }
      long j1 = rnd.nextInt(n + 2) - 1;
      long j2 = rnd.nextInt(n + 2);
      int[] bits = new int[n];
      for (int i = 0; i < n; i++) {
        bits[i] = Float.floatToIntBits((float) Math.abs(tau[i]));
      }
      MagnitudeCut.FloatBitsSelection sel = new MagnitudeCut.FloatBitsSelection(n, j1, j2);
      int chunk = 1 + rnd.nextInt(n);
      for (int pass = 0; pass < 2; pass++) { // two passes, each in chunks, as a merge feeds them
        for (int from = 0; from < n; from += chunk) {
          int k = Math.min(chunk, n - from);
          int[] part = Arrays.copyOfRange(bits, from, from + k);
          if (pass == 0) {
            sel.countHigh(part, k);
          } else {
            sel.countLow(part, k);
          }
        }
      }
      boolean[] got = new boolean[n];
      sel.cut(0).mark(tau, n, true, got);
      assertArrayEquals(bySort(tau, j1), got, "trial " + trial + ", first size");
      sel.cut(1).mark(tau, n, true, got);
      assertArrayEquals(bySort(tau, j2), got, "trial " + trial + ", second size");
    }
  }

  /** Expected membership: sort indices by (|τ| as float descending, index ascending), take the first j. */
  private static boolean[] bySort(double[] tau, long j) {
    int n = tau.length;
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (a, b) -> {
      int c = Float.compare((float) Math.abs(tau[b]), (float) Math.abs(tau[a]));
      return c != 0 ? c : Integer.compare(a, b);
    });
    boolean[] in = new boolean[n];
    for (int r = 0; r < Math.min(j, n); r++) {
      in[idx[r]] = true;
    }
    return in;
  }
}
