package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.JacobiSvd;
import io.sparkmerge.testing.PolarReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The per-tensor counters the merge report plots: what each model's sparsifier kept in the task-arithmetic
 * family (the {@link MaskCounts} keys, and {@code elected[t]} after TIES' sign election), and Iso-C /
 * Iso-CTS's spectrum before and after flattening ({@link Spectrum}), on tensors whose answers are known by hand.
 */
class MethodCountersTest {
  static final String NAME = "model.layers.0.mlp.up_proj.weight";

  /** Merges [rows, cols] tensors with the method, per-model parameters {@code perModel}, chunks of {@code rowsPerChunk}. */
  static double[] merge(String method, double[] base, double[][] models, int rows, int cols, int rowsPerChunk,
      Map<String, Object> global, Map<String, Object> perModel, DataType type, Map<String, Double> counters) {
    MergeMethod m = MethodRegistry.get(method);
    List<Map<String, Object>> pm = new ArrayList<>();
    for (double[] ignored : models) {
      pm.add(perModel);
    }
    TensorMergeContext ctx = MethodHarness.context(m, NAME, new long[] {rows, cols}, type, 7, true, global, pm);
    return MethodHarness.run(m, ctx, base, models, rows, cols, rowsPerChunk, counters);
  }

  @Test
  void tiesKeepsHalfOfEightPerModelAndCountsTheSignElection() {
    // density 0.5 of 8 entries: 4 per model. τ1 keeps 0..3 (8, 7, 6, 5); τ2 keeps 3..6 (|−9|, 4, 3, 2).
    // Entry 3: 5 − 9 < 0 elects −, so τ1's entry 3 is dropped by the election: elected = {3, 4}.
    double[] base = new double[8];
    double[][] models = {{8, 7, 6, 5, 1, 1, 1, 1}, {-1, -1, -1, -9, 4, 3, 2, -1}};
    for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      for (int rowsPerChunk : new int[] {1, 2}) {
        Map<String, Double> c = new HashMap<>();
        double[] out = merge("ties", base, models, 2, 4, rowsPerChunk, Map.of(), Map.of("density", 0.5), type, c);
        // normalize (TIES' default) divides by the agreeing weights (1 each): Δ = the elected τ
        assertArrayEquals(new double[] {8, 7, 6, -9, 4, 3, 2, 0}, out, 0, type + " " + rowsPerChunk);
        assertEquals(8.0, c.get("numel"));
        assertEquals(4.0, c.get("kept[0]"));
        assertEquals(4.0, c.get("kept[1]"));
        assertEquals(1.0, c.get("intersection[0,1]"));
        assertEquals(7.0, c.get("union[0,1]"));
        assertEquals(7.0, c.get("covered"));
        assertEquals(3.0, c.get("elected[0]"));
        assertEquals(4.0, c.get("elected[1]"));
      }
    }
  }

  @Test
  void dareAndDellaKeptCountEqualsTheNonZeroEntriesOfTheRescaledTaskVector() {
    int rows = 5;
    int cols = 8;
    double[] base = new double[rows * cols];
    double[] tau = new double[rows * cols];
    for (int i = 0; i < tau.length; i++) {
      base[i] = 0.25 * i;
      tau[i] = (i % 2 == 0 ? 1 : -1) * (1 + 0.5 * i); // every entry non-zero
    }
    double[] model = new double[tau.length];
    for (int i = 0; i < tau.length; i++) {
      model[i] = base[i] + tau[i];
    }
    for (String method : new String[] {"dare_linear", "della_linear"}) {
      Map<String, Object> pm = method.equals("della_linear") ? Map.of("density", 0.4, "epsilon", 0.2) : Map.of("density", 0.4);
      Map<String, Double> whole = null;
      for (int rowsPerChunk : new int[] {1, 2, 5}) {
        Map<String, Double> c = new HashMap<>();
        double[] out = merge(method, base, new double[][] {model}, rows, cols, rowsPerChunk, Map.of(), pm, DataType.DOUBLE, c);
        long nonZero = 0;
        for (int i = 0; i < out.length; i++) {
          nonZero += out[i] - base[i] != 0 ? 1 : 0;
        }
        assertTrue(nonZero > 0 && nonZero < tau.length, method + ": a real sparsification, kept " + nonZero);
        assertEquals((double) nonZero, c.get("kept[0]"), method);
        assertEquals((double) tau.length, c.get("numel"), method);
        assertEquals(null, c.get("elected[0]"), method + ": no sign election, no elected count");
        if (whole != null) {
          assertEquals(whole, c, method + ": the same counts whatever the chunking");
        }
        whole = c;
      }
    }
  }

  @Test
  void breadcrumbsKeepsTheDensityAfterTheOutliersAndTaskArithmeticCountsNothing() {
    double[] base = new double[10];
    double[] model = {10, -9, 8, -7, 6, -5, 4, -3, 2, -1};
    Map<String, Double> c = new HashMap<>();
    // γ 0.2 drops |10|, |9|; density 0.5 keeps the next 5 (8 .. 4)
    double[] out = merge("breadcrumbs", base, new double[][] {model}, 2, 5, 1, Map.of(), Map.of("density", 0.5, "gamma", 0.2),
        DataType.DOUBLE, c);
    assertArrayEquals(new double[] {0, 0, 8, -7, 6, -5, 4, 0, 0, 0}, out, 0);
    assertEquals(5.0, c.get("kept[0]"));
    Map<String, Double> none = new HashMap<>();
    merge("task_arithmetic", base, new double[][] {model}, 2, 5, 1, Map.of(), Map.of(), DataType.DOUBLE, none);
    assertTrue(none.isEmpty(), "task_arithmetic sparsifies nothing: " + none);
  }

  @Test
  void isoCReportsTheSpectrumOfTheSumAndTheFlattenedOne() {
    // Σ τ = diag(3, 1, 0): σ = 3, 1, 0 → Σσ 4, Σσ² 10, max 3, effective rank 16/10; flattened: three 4/3
    double[] base = new double[9];
    double[][] models = {{3, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 0, 0, 0, 0}};
    Map<String, Double> c = new HashMap<>();
    double[] out = merge("iso_c", base, models, 3, 3, 3, Map.of(), Map.of(), DataType.DOUBLE, c);
    assertSpectrum(c, 4, 10, 3, 1.6, 3);
    assertUpdateIsFlat(out, base, 3, 3, c.get("flat_sigma_max"));
  }

  @Test
  void isoCtsReportsTheSpectrumOfTheSumAndTheFlattenedCommonPlusTaskDirections() {
    // 4×4, two tasks, common_space_fraction 0.5: k = 2 common directions, d = 1 per task.
    // Σ τ = diag(4, 1, 2, 0.5): common = e1, e3 (σ 4, 2); τ1's residual diag(0, 1, 0, 0) → 1; τ2's diag(0, 0, 0, 0.5) → 0.5.
    // Flattened: (4 + 2 + 1 + 0.5) / 4 = 1.875 on all four directions.
    double[] base = new double[16];
    double[] t1 = new double[16];
    double[] t2 = new double[16];
    t1[0] = 4;
    t1[5] = 1;
    t2[10] = 2;
    t2[15] = 0.5;
    Map<String, Double> c = new HashMap<>();
    double[] out = merge("iso_cts", base, new double[][] {t1, t2}, 4, 4, 4, Map.of("common_space_fraction", 0.5), Map.of(),
        DataType.DOUBLE, c);
    assertEquals(7.5, c.get("sigma_sum"), 1e-12);
    assertEquals(21.25, c.get("sigma_sq_sum"), 1e-12);
    assertEquals(4.0, c.get("sigma_max"), 1e-12);
    assertEquals(7.5 * 7.5 / 21.25, c.get("rank"), 1e-12);
    assertEquals(7.5, c.get("flat_sigma_sum"), 1e-12);
    assertEquals(4 * 1.875 * 1.875, c.get("flat_sigma_sq_sum"), 1e-12);
    assertEquals(1.875, c.get("flat_sigma_max"), 1e-12);
    assertEquals(4.0, c.get("flat_rank"), 1e-12);
    assertUpdateIsFlat(out, base, 4, 4, 1.875);
  }

  private static void assertSpectrum(Map<String, Double> c, double sum, double sq, double max, double rank, int r) {
    assertEquals(sum, c.get("sigma_sum"), 1e-12);
    assertEquals(sq, c.get("sigma_sq_sum"), 1e-12);
    assertEquals(max, c.get("sigma_max"), 1e-12);
    assertEquals(rank, c.get("rank"), 1e-12);
    double flat = sum / r;
    assertEquals(sum, c.get("flat_sigma_sum"), 1e-12);
    assertEquals(r * flat * flat, c.get("flat_sigma_sq_sum"), 1e-12);
    assertEquals(flat, c.get("flat_sigma_max"), 1e-12);
    assertEquals(r, c.get("flat_rank"), 1e-12);
  }

  /** The counters' flattened spectrum is the merged update's: every singular value of θ − θ₀ (λ = 1) equals {@code flat}. */
  private static void assertUpdateIsFlat(double[] out, double[] base, int m, int n, double flat) {
    double[] update = new double[out.length];
    for (int i = 0; i < out.length; i++) {
      update[i] = out[i] - base[i];
    }
    for (double s : JacobiSvd.svd(PolarReference.reshape(update, m, n)).s()) {
      assertEquals(flat, s, 1e-9);
    }
  }
}
