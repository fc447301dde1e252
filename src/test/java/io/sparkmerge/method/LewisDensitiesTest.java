package io.sparkmerge.method;

import io.sparkmerge.io.ImportanceRow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/** LEWIS densities (methods.md §4) on hand-worked tables, and the delegation to the base method. */
class LewisDensitiesTest {

  static ImportanceRow row(int layer, String c, double base, double ft) {
    return new ImportanceRow(layer, c, base, ft);
  }

  @Test
  void perComponentNormalisationThenGlobalMinMax() {
    // q: δ = |ft − base| = 1, 3, 0 (sum 4) → δ̂ = .25, .75, 0
    // v: δ = 1, 1, 2 (sum 4) → δ̂ = .25, .25, .5
    // z: δ = 0, 0 (sum 0) → δ̂ = 0, 0, kept in the min/max as the authors' code does: density .3
    // lo = 0, hi = .75, density = .3 + δ̂/.75 · (.8 − .3)
    List<ImportanceRow> rows = List.of(
        row(0, "q", 1, 2), row(1, "q", 1, 4), row(2, "q", 1, 1),
        row(0, "v", 0, 1), row(1, "v", 0, -1), row(2, "v", 5, 3),
        row(0, "z", 2, 2), row(1, "z", 7, 7));
    Map<String, Double> d = LewisDensities.densities(rows, 0.3, 0.8);
    assertEquals(0.3 + 0.5 / 3, d.get("0/q"), 1e-12);
    assertEquals(0.8, d.get("1/q"), 1e-12);
    assertEquals(0.3, d.get("2/q"), 1e-12);
    assertEquals(0.3 + 0.5 / 3, d.get("0/v"), 1e-12);
    assertEquals(0.3 + 0.5 / 3, d.get("1/v"), 1e-12);
    assertEquals(0.3 + 0.5 * 2 / 3, d.get("2/v"), 1e-12);
    assertEquals(0.3, d.get("0/z"), 1e-12);
    assertEquals(0.3, d.get("1/z"), 1e-12);
    assertEquals(8, d.size());
  }

  @Test
  void normalisedDeltasAreRoundedToFiveDecimals() {
    // k: δ = 1, 2 → δ̂ = 0.33333, 0.66667 (rounded); m: δ = 1, 3 → .25, .75; lo .25, hi .75
    Map<String, Double> d = LewisDensities.densities(List.of(row(0, "k", 0, 1), row(1, "k", 0, 2),
        row(0, "m", 0, 1), row(1, "m", 0, 3)), 0.3, 0.8);
    assertEquals(0.3, d.get("0/m"), 1e-12);
    assertEquals(0.8, d.get("1/m"), 1e-12);
    assertEquals(0.3 + (0.33333 - 0.25) / 0.5 * 0.5, d.get("0/k"), 1e-12);
    assertEquals(0.3 + (0.66667 - 0.25) / 0.5 * 0.5, d.get("1/k"), 1e-12);
    // without rounding it would be .3 + (1/3 − .25)
    assertTrue(Math.abs(d.get("0/k") - (0.3 + (1.0 / 3 - 0.25))) > 1e-6);
  }

  @Test
  void allEqualGivesTheMidpoint() {
    Map<String, Double> d = LewisDensities.densities(List.of(row(0, "q", 0, 1), row(1, "q", 0, 1),
        row(0, "v", 3, 1), row(1, "v", 3, 1)), 0.2, 0.6);
    d.values().forEach(v -> assertEquals(0.4, v, 1e-12));
    assertEquals(4, d.size());
  }

  @Test
  void minAboveMaxIsRejected() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> LewisDensities.densities(List.of(row(0, "q", 0, 1)), 0.9, 0.5));
    assertTrue(e.getMessage().contains("min_density"), e.getMessage());
    MergeMethod lewis = MethodRegistry.get("lewis");
    assertThrows(ConfigException.class, () -> MethodHarness.context(lewis, "model.layers.0.self_attn.q_proj.weight",
        new long[] {4, 4}, DataType.DOUBLE, 0, true, Map.of("min_density", 0.9, "max_density", 0.5), List.of(Map.of())));
    assertThrows(ConfigException.class, () -> MethodHarness.context(lewis, "w", new long[] {4}, DataType.DOUBLE, 0, true,
        Map.of("base_method", "della"), List.of(Map.of())));
  }

  @Test
  void modulesAreNamedByLayerAndComponent() {
    ImportanceRow m = LewisDensities.moduleOf("model.layers.12.self_attn.q_proj.weight");
    assertEquals(12, m.layer());
    assertEquals("self_attn.q_proj", m.component());
    assertNull(LewisDensities.moduleOf("model.embed_tokens.weight"));
    assertNull(LewisDensities.moduleOf("model.layers.1.self_attn.q_proj.bias"));
  }

  @Test
  void mergesLikeTheBaseMethodWithTheResolvedDensity() {
    MergeMethod lewis = MethodRegistry.get("lewis");
    double[] base = new double[24];
    double[][] models = new double[2][24];
    java.util.Random r = new java.util.Random(3);
    for (int i = 0; i < 24; i++) {
      base[i] = r.nextGaussian();
      models[0][i] = base[i] + r.nextGaussian();
      models[1][i] = base[i] + r.nextGaussian();
    }
    String name = "model.layers.0.mlp.up_proj.weight";
    for (String baseMethod : new String[] {"ties", "breadcrumbs", "dare_linear"}) {
      for (boolean lewisWeights : new boolean[] {false, true}) {
        TensorMergeContext c = MethodHarness.context(lewis, name, new long[] {4, 6}, DataType.DOUBLE, 9, true,
            Map.of("base_method", baseMethod, "lewis_weights", lewisWeights, "lambda", 0.7),
            List.of(Map.of("weight", 0.6), Map.of("weight", 0.4)));
        TensorMergeContext withD = c.withSides(SideValues.none(2).withImportanceDensity(0, 0.5).withImportanceDensity(1, 0.25));
        double[] got = MethodHarness.run(lewis, withD, base, models, 4, 6, 4);
        MergeMethod b = MethodRegistry.get(baseMethod);
        double w0 = lewisWeights ? 0.5 : 0.6;
        double w1 = lewisWeights ? 0.25 : 0.4;
        TensorMergeContext direct = MethodHarness.context(b, name, new long[] {4, 6}, DataType.DOUBLE, 9, true,
            Map.of("lambda", 0.7), List.of(Map.of("weight", w0, "density", 0.5), Map.of("weight", w1, "density", 0.25)));
        double[] want = MethodHarness.run(b, direct, base, models, 4, 6, 4);
        org.junit.jupiter.api.Assertions.assertArrayEquals(want, got, 0.0, baseMethod + " lewis_weights " + lewisWeights);
      }
    }
  }

  @Test
  void aZeroSumComponentSetsTheLowEndLikeTheAuthorsCode() {
    // q: δ = 1, 3 → δ̂ = .25, .75; z: δ = 0, 0 → δ̂ = 0, 0. With z in the min/max, lo = 0 (not .25):
    // q's densities are .5 + δ̂/.75 · .3 = .6, .8, and z's layers get .5. Leaving z out would give q .5 and .8.
    Map<String, Double> d = LewisDensities.densities(List.of(row(0, "q", 1, 2), row(1, "q", 1, 4),
        row(0, "z", 3, 3), row(1, "z", 4, 4)), 0.5, 0.8);
    assertEquals(0.6, d.get("0/q"), 1e-12);
    assertEquals(0.8, d.get("1/q"), 1e-12);
    assertEquals(0.5, d.get("0/z"), 1e-12);
    assertEquals(0.5, d.get("1/z"), 1e-12);
  }
}
