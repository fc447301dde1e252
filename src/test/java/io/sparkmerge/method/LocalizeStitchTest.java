package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparkmerge.ConfigException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Localize-and-Stitch (methods.md §3) on hand-worked masks and stitches. */
class LocalizeStitchTest {
  static final MergeMethod LS = MethodRegistry.get("localize_stitch");
  // base and two task vectors, [2, 3]
  static final double[] BASE = {10, 20, 30, 40, 50, 60};
  static final double[] TAU1 = {3, -1, 0.5, -3, 2, 0};
  static final double[] TAU2 = {1, -4, 0.5, 0, -2, 0.1};

  static double[] plus(double[] a, double[] b) {
    double[] r = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] + b[i];
    }
    return r;
  }

  static TensorMergeContext ctx(String scope, double s1, double s2, DataType type) {
    return MethodHarness.context(LS, "w", new long[] {2, 3}, type, 0, true, Map.of("mask_scope", scope),
        List.of(Map.of("sparsity", s1), Map.of("sparsity", s2)));
  }

  @Test
  void tensorScopeKeepsTopKWithTiesAndAveragesOverlaps() {
    for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      for (int rowsPerChunk : new int[] {1, 2}) {
        // s = 0.5, n = 6: k = 3. |τ1| = 3,1,.5,3,2,0 → 3rd largest 2 → γ1 = {0,3,4};
        // |τ2| = 1,4,.5,0,2,.1 → 3rd largest 1 → γ2 = {0,1,4}. c = 2,1,0,1,2,0.
        double[] got = MethodHarness.run(LS, ctx("tensor", 0.5, 0.5, type), BASE,
            new double[][] {plus(BASE, TAU1), plus(BASE, TAU2)}, 2, 3, rowsPerChunk);
        assertArrayEquals(new double[] {10 + (3 + 1) / 2.0, 20 - 4, 30, 40 - 3, 50 + (2 - 2) / 2.0, 60}, got, 1e-5);
      }
    }
  }

  @Test
  void equalMagnitudesAtTheThresholdAreAllKept() {
    // s = 0.17, n = 6: k = max(1, floor(1.02)) = 1; the largest |τ1| is 3, at entries 0 and 3: both kept.
    // τ2 keeps only entry 1 (|−4|).
    double[] got = MethodHarness.run(LS, ctx("tensor", 0.17, 0.17, DataType.DOUBLE), BASE,
        new double[][] {plus(BASE, TAU1), plus(BASE, TAU2)}, 2, 3, 2);
    assertArrayEquals(new double[] {13, 16, 30, 37, 50, 60}, got, 1e-12);
    // s tiny: k = max(1, 0) = 1, the same masks
    got = MethodHarness.run(LS, ctx("tensor", 1e-6, 1e-6, DataType.DOUBLE), BASE,
        new double[][] {plus(BASE, TAU1), plus(BASE, TAU2)}, 2, 3, 2);
    assertArrayEquals(new double[] {13, 16, 30, 37, 50, 60}, got, 1e-12);
  }

  @Test
  void zeroEntriesOfTauAreNeverKeptWhenKExceedsTheNonZeros() {
    // s = 1: k = n = 6 exceeds the 5 non-zeros of each τ, so the threshold falls to "everything" (−∞, or 0 from the
    // global pre-pass). A zero τ entry carries nothing and must not count in the overlap divisor: entry 3 (τ1 = −3,
    // τ2 = 0) is 37, not 40 + (−3 + 0)/2; entry 5 (τ1 = 0, τ2 = 0.1) is 60.1, not 60.05.
    double[] want = {10 + (3 + 1) / 2.0, 20 + (-1 - 4) / 2.0, 30.5, 37, 50, 60.1};
    for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      double[] got = MethodHarness.run(LS, ctx("tensor", 1.0, 1.0, type), BASE,
          new double[][] {plus(BASE, TAU1), plus(BASE, TAU2)}, 2, 3, 1);
      assertArrayEquals(want, got, type == DataType.FLOAT ? 1e-5 : 1e-12, type.toString());
    }
    TensorMergeContext c = ctx("global", 1.0, 1.0, DataType.DOUBLE);
    TensorMergeContext g = c.withSides(SideValues.none(2).withGlobalThreshold(0, 0.0).withGlobalThreshold(1, 0.0));
    assertArrayEquals(want, MethodHarness.run(LS, g, BASE, new double[][] {plus(BASE, TAU1), plus(BASE, TAU2)}, 2, 3, 2), 1e-12);
  }

  @Test
  void globalScopeUsesTheSuppliedThreshold() {
    TensorMergeContext c = ctx("global", 0.01, 0.01, DataType.DOUBLE);
    // thresholds 0.5 (keeps |τ1| ≥ 0.5: entries 0..4) and 2 (keeps |τ2| ≥ 2: entries 1, 4)
    TensorMergeContext g = c.withSides(SideValues.none(2).withGlobalThreshold(0, 0.5).withGlobalThreshold(1, 2.0));
    double[] got = MethodHarness.run(LS, g, BASE, new double[][] {plus(BASE, TAU1), plus(BASE, TAU2)}, 2, 3, 1);
    assertArrayEquals(new double[] {13, 20 + (-1 - 4) / 2.0, 30.5, 37, 50 + (2 - 2) / 2.0, 60}, got, 1e-12);
    // without the pre-pass's threshold the method refuses rather than guessing
    assertThrows(IllegalStateException.class, () -> LS.begin(c));
  }

  @Test
  void givenMasksAreUsedAsIsAndCountersReportDensityAndOverlap() {
    TensorMergeContext c = ctx("global", 0.01, 0.01, DataType.DOUBLE);
    TensorMergeContext g = c.withSides(SideValues.of(new boolean[] {true, true}, new boolean[2]));
    double[] m1 = {0, 1, 1, 0, 0, 0};
    double[] m2 = {0, 1, 0, 0, 0, 1};
    INDArray[] models = {arr(plus(BASE, TAU1)), arr(plus(BASE, TAU2))};
    try (TensorMerge tm = LS.begin(g)) {
      assertEquals(0, tm.preparationPasses());
      INDArray out = tm.merge(new TensorChunk(0, 0, arr(BASE), models, new INDArray[] {arr(m1), arr(m2)}));
      // entry 0: uncovered (base), 1: (−1 −4)/2, 2: τ1 only, 5: τ2 only
      assertArrayEquals(new double[] {10, 17.5, 30.5, 40, 50, 60.1}, out.reshape(-1).toDoubleVector(), 1e-12);
      Map<String, Double> k = tm.counters();
      assertEquals(6.0, k.get("numel"));
      assertEquals(2.0, k.get("kept[0]"));
      assertEquals(2.0, k.get("kept[1]"));
      assertEquals(1.0, k.get("intersection[0,1]"));
      assertEquals(3.0, k.get("union[0,1]"));
      Map<String, Object> s = LS.report().summarize(k, 2, 2);
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> masks = (List<Map<String, Object>>) s.get("masks");
      assertEquals(2.0 / 6, (double) masks.get(0).get("density"), 1e-12);
      assertEquals(2L * (4 + 2), masks.get(0).get("sparse_bytes"));
      assertEquals(6L * 2, masks.get(0).get("dense_bytes"));
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> pairs = (List<Map<String, Object>>) s.get("overlap");
      assertEquals(1.0 / 3, (double) pairs.get(0).get("jaccard"), 1e-12);
      assertEquals(3.0 / 6, (double) s.get("coverage"), 1e-12); // entries 1, 2, 5
    }
  }

  @Test
  void parametersAreChecked() {
    assertThrows(ConfigException.class, () -> ctx("layer", 0.1, 0.1, DataType.DOUBLE));
    assertThrows(ConfigException.class, () -> ctx("tensor", 0.0, 0.1, DataType.DOUBLE));
    assertThrows(ConfigException.class, () -> ctx("tensor", 1.5, 0.1, DataType.DOUBLE));
    assertEquals(1, LocalizeStitchMerge.topCount(0.01, 99));
    assertEquals(10, LocalizeStitchMerge.topCount(0.01, 1000));
  }

  private static INDArray arr(double[] v) {
    return Nd4j.createFromArray(v).reshape(2, 3).dup('c');
  }
}
