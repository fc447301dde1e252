package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** ram and ramplus_tl worked by hand; mergekit itself in the parity harness. */
class RamMergeTest {
  // base 0; three models' τ over six entries (ε = 1e-5): entry 0 only model 0 changes, entry 1 models 0 and 1,
  // entry 2 all three, entry 3 none (below ε), entry 4 only model 2, entry 5 only model 1
  static final double[] BASE = {0, 0, 0, 0, 0, 0};
  static final double[][] MODELS = {
      {0.4, 0.2, 0.3, 1e-6, 0, 0},
      {0, 0.6, -0.3, 0, 0, -0.5},
      {0, 0, 0.9, 0, 0.7, 0}};

  @Test
  void ramKeepsUniqueEntriesAndAveragesShared() {
    double[] want = {0.4, 0.4, 0.3, 0, 0.7, -0.5};
    for (int chunk : new int[] {1, 2}) {
      assertArrayEquals(want, InterpolationMethodsTest.merge("ram", BASE, MODELS, 2, 3, Map.of(), InterpolationMethodsTest.none(3),
          chunk), 1e-12);
    }
  }

  @Test
  void ramplusScalesUniqueEntriesByTheSharedToUniqueRatio() {
    // model 0: shared 2 (entries 1, 2), unique 1 → ρ 2 → λ = 1 + 0.1·min(0.2, 2) = 1.02
    // model 1: shared 2, unique 1 (entry 5) → λ 1.02; model 2: shared 1, unique 1 → ρ 1 → λ 1.02
    double[] want = {0.4 * 1.02, 0.4, 0.3, 0, 0.7 * 1.02, -0.5 * 1.02};
    assertArrayEquals(want, InterpolationMethodsTest.merge("ramplus_tl", BASE, MODELS, 2, 3, Map.of(),
        InterpolationMethodsTest.none(3), 1), 1e-12);
    // r 0.5, alpha 3: λ_0 = 1 + 0.5·2 = 2, λ_1 = 2, λ_2 = 1 + 0.5·1 = 1.5
    double[] wide = {0.8, 0.4, 0.3, 0, 0.7 * 1.5, -1.0};
    assertArrayEquals(wide, InterpolationMethodsTest.merge("ramplus_tl", BASE, MODELS, 2, 3, Map.of("r", 0.5, "alpha", 3.0),
        InterpolationMethodsTest.none(3), 2), 1e-12);
  }
}
