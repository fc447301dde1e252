package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The counts (coded, and pairwise for many models) against a per-entry count of the definitions, over blocks of random masks. */
class MaskCountsTest {

  @Test
  void countsEqualAPerEntryCountWithCodes() {
    check(1);
    check(3);
    check(MaskCounts.CODED_MODELS);
  }

  @Test
  void countsEqualAPerEntryCountPairwise() {
    check(MaskCounts.CODED_MODELS + 2);
  }

  private static void check(int models) {
    Random r = new Random(3 + models);
    MaskCounts counts = new MaskCounts(models, 0);
    long[] kept = new long[models];
    long[][] inter = new long[models][models];
    long[][] union = new long[models][models];
    long covered = 0;
    for (int block = 0; block < 20; block++) {
      int n = 1 + r.nextInt(3000);
      boolean[][] keep = new boolean[models][n + 7]; // longer than n: entries past n must not count
      double share = r.nextDouble();
      for (boolean[] k : keep) {
        for (int i = 0; i < k.length; i++) {
          k[i] = r.nextDouble() < share;
        }
      }
      counts.add(keep, n);
      for (int i = 0; i < n; i++) {
        boolean any = false;
        for (int s = 0; s < models; s++) {
          kept[s] += keep[s][i] ? 1 : 0;
          any |= keep[s][i];
          for (int t = s + 1; t < models; t++) {
            inter[s][t] += keep[s][i] && keep[t][i] ? 1 : 0;
            union[s][t] += keep[s][i] || keep[t][i] ? 1 : 0;
          }
        }
        covered += any ? 1 : 0;
      }
    }
    Map<String, Double> c = counts.counters();
    assertEquals((double) covered, c.get(MaskCounts.COVERED));
    for (int s = 0; s < models; s++) {
      assertEquals((double) kept[s], c.get(MaskCounts.kept(s)));
      for (int t = s + 1; t < models; t++) {
        assertEquals((double) inter[s][t], c.get(MaskCounts.intersection(s, t)));
        assertEquals((double) union[s][t], c.get(MaskCounts.union(s, t)));
      }
    }
  }
}
