package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparkmerge.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** arcee_fusion worked by hand: importance, mergekit's quantile indices, the fused entries; mergekit itself in the parity harness. */
class ArceeFusionMergeTest {
  @Test
  void quantilesAtMergekitsIndices() {
    // n = 9: indices ⌊0.5·8⌋ = 4, ⌊0.25·8⌋ = 2, ⌊0.75·8⌋ = 6 of the sorted values 0..8 → 4 + 1.5·(6 − 2) = 10
    assertEquals(10, ArceeFusionMerge.threshold(new double[] {8, 0, 7, 1, 6, 2, 5, 3, 4}), 0);
    // n = 4: indices 1, 0, 2 of 0, 1, 2, 30 → 1 + 1.5·2 = 4
    assertEquals(4, ArceeFusionMerge.threshold(new double[] {30, 2, 1, 0}), 0);
  }

  @Test
  void onlyEntriesAboveTheThresholdTakeTheOtherModel() {
    // one row of 4: softmax of a = (0, 0, 0, 0) is 1/4 each; b = (0, 0, 0, ln 4): softmax (1/7, 1/7, 1/7, 4/7)
    double[] a = {0, 0, 0, 0};
    double[] b = {0, 0, 0, Math.log(4)};
    double p = 1.0 / 7 + 1e-8;
    double p4 = 4.0 / 7 + 1e-8;
    double q = 0.25 + 1e-8;
    double kl = 3 * p * Math.log(p / q) + p4 * Math.log(p4 / q);
    assertArrayEquals(new double[] {0, 0, 0, Math.log(4) * kl}, ArceeFusionMerge.importance(a, b, 4), 1e-15);
    // importance (0, 0, 0, x): sorted indices ⌊1.5⌋ = 1, 0, ⌊2.25⌋ = 2 → threshold 0; every entry has s ≥ 0 → all b
    assertArrayEquals(b, InterpolationMethodsTest.merge("arcee_fusion", a, new double[][] {b}, 1, 4, Map.of(),
        InterpolationMethodsTest.none(1), 1), 0);
    // one row of 8 (one KL for all): s = KL·|b − a| = KL·(0.1, …, 0.7, 5); sorted indices ⌊3.5⌋ = 3, ⌊1.75⌋ = 1,
    // ⌊5.25⌋ = 5 → threshold KL·(0.4 + 1.5·(0.6 − 0.2)) = KL·1.0: only the last entry takes b
    double[] a2 = new double[8];
    double[] b2 = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 5};
    double[] got = InterpolationMethodsTest.merge("arcee_fusion", a2, new double[][] {b2}, 1, 8, Map.of(),
        InterpolationMethodsTest.none(1), 1);
    assertArrayEquals(new double[] {0, 0, 0, 0, 0, 0, 0, 5}, got, 0);
  }

  @Test
  void exactlyOneOtherModel() {
    ConfigException two = assertThrows(ConfigException.class,
        () -> MethodHarness.validateModels(MethodRegistry.get("arcee_fusion"), 2, true));
    assertEquals(true, two.getMessage().contains("exactly one"), two.getMessage());
  }
}
