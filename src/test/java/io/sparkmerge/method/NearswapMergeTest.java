package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** nearswap worked by hand (w = clamp(t / max(|a − b|, 1e-6), 0, 1), θ = w·b + (1 − w)·a); mergekit itself in the parity harness. */
class NearswapMergeTest {
  @Test
  void nearEntriesSwapFarOnesFade() {
    double[] a = {0, 1, 2, 0.5, -1, 3};
    double[][] b = {{0.1, 1, 5, 0.5 + 1e-8, -1.04, 2}};
    double[] want = {
        0.05, // |d| = 0.1: w = 0.05 / 0.1 = 0.5 → 0.5·0.1
        1, // |d| = 0 → floor 1e-6: w = 1 → b
        2 + 0.05 / 3 * 3, // |d| = 3: w = 1/60 → 2 + 3/60 = 2.05
        0.5 + 1e-8, // |d| below t: w = 1 → b
        -1.04, // |d| = 0.04 < t: w = 1 → b
        3 - 0.05}; // |d| = 1: w = 0.05 → 3 − 0.05
    for (int rowsPerChunk : new int[] {1, 2}) {
      assertArrayEquals(want, InterpolationMethodsTest.merge("nearswap", a, b, 2, 3, Map.of("t", 0.05),
          InterpolationMethodsTest.none(1), rowsPerChunk), 1e-12);
    }
    assertArrayEquals(a, InterpolationMethodsTest.merge("nearswap", a, b, 2, 3, Map.of("t", 0.0), InterpolationMethodsTest.none(1), 2),
        1e-12, "t = 0: the base, except where a = b (then b, the same)");
  }

  @Test
  void oneOtherModelAndANonNegativeTAreRequired() {
    ConfigException two = assertThrows(ConfigException.class, () -> MethodHarness.validateModels(MethodRegistry.get("nearswap"), 2, true));
    assertTrue(two.getMessage().contains("exactly one"), two.getMessage());
    double[] a = {1, 2};
    double[][] b = {{1, 3}};
    assertThrows(ConfigException.class, () -> InterpolationMethodsTest.merge("nearswap", a, b, 1, 2, Map.of(),
        InterpolationMethodsTest.none(1), 1), "t is required");
    assertThrows(ConfigException.class, () -> InterpolationMethodsTest.merge("nearswap", a, b, 1, 2, Map.of("t", -0.1),
        InterpolationMethodsTest.none(1), 1), "t ≥ 0");
  }
}
