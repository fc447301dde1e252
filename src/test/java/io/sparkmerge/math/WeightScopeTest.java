package io.sparkmerge.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.math.WeightScope.Fusion;
import io.sparkmerge.math.WeightScope.Scope;
import org.junit.jupiter.api.Test;

/** Scope fusion and KL (methods.md §6) on hand-worked values. */
class WeightScopeTest {
  @Test
  void fusionByHand() {
    Scope[] s = {new Scope(0, 1), new Scope(2, 1)};
    // equal weights: mu* = 1; moment: 1/2 (1 + 1) + 1/2 (1 + 1) = 2; mean: 1
    assertEquals(new Scope(1, 2), WeightScope.fuse(s, new double[] {1, 1}, Fusion.MOMENT));
    assertEquals(new Scope(1, 1), WeightScope.fuse(s, new double[] {5, 5}, Fusion.MEAN));
    // weights 3:1: mu* = 0.5; moment: 0.75 (1 + 0.25) + 0.25 (1 + 2.25) = 1.75
    Scope f = WeightScope.fuse(s, new double[] {3, 1}, Fusion.MOMENT);
    assertEquals(0.5, f.mean(), 1e-15);
    assertEquals(1.75, f.variance(), 1e-15);
  }

  @Test
  void klByHand() {
    // KL(N(0,1) || N(1,2)) = 1/2 log 2 + (1 + 1)/4 - 1/2 = 0.5 log 2
    assertEquals(0.5 * Math.log(2), WeightScope.kl(new Scope(0, 1), new Scope(1, 2)), 1e-15);
    assertEquals(0, WeightScope.kl(new Scope(3, 0.5), new Scope(3, 0.5)), 0);
    // KL(N(1, 4) || N(0, 1)) = 1/2 log(1/4) + (4 + 1)/2 - 1/2 = 2 - log 2
    assertEquals(2 - Math.log(2), WeightScope.kl(new Scope(1, 4), new Scope(0, 1)), 1e-15);
    assertTrue(Double.isNaN(WeightScope.kl(new Scope(1, 0), new Scope(0, 1))));
  }

  @Test
  void badWeightsAreConfigErrors() {
    Scope[] s = {new Scope(0, 1)};
    assertThrows(ConfigException.class, () -> WeightScope.fuse(s, new double[] {0}, Fusion.MOMENT));
    assertThrows(ConfigException.class, () -> WeightScope.fuse(s, new double[] {-1}, Fusion.MOMENT));
    assertThrows(ConfigException.class, () -> Fusion.parse("moments"));
  }
}
