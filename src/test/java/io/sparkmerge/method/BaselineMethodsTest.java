package io.sparkmerge.method;

import io.sparkmerge.math.DeterministicRandom;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.ReferenceMerges;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/** methods.md §1 against hand-worked cases and an independent plain-Java formulation. */
class BaselineMethodsTest {
  static final String NAME = "model.layers.0.mlp.up_proj.weight";

  static double[] merge(String method, double[] base, double[][] models, int rows, int cols, Map<String, Object> global,
      List<Map<String, Object>> perModel, DataType type, int rowsPerChunk) {
    MergeMethod m = MethodRegistry.get(method);
    TensorMergeContext ctx = MethodHarness.context(m, NAME, new long[] {rows, cols}, type, 42, base != null, global, perModel);
    return MethodHarness.run(m, ctx, base, models, rows, cols, rowsPerChunk);
  }

  static List<Map<String, Object>> perModel(Object... kv) {
    List<Map<String, Object>> l = new ArrayList<>();
    for (Object o : kv) {
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) o;
      l.add(m);
    }
    return l;
  }

  @Test
  void tiesHandWorkedWithTiesAtTheThresholdAndASignConflict() {
    double[] base = {1, 1, 1, 1};
    // τ1 = [3, -1, 2, -2]: top-2 magnitudes are 3 (idx 0) and the tie 2/2 at idx 2, 3 → lower index 2 wins
    // τ2 = [-5, 1, 2, 4]: top-2 are 5 (idx 0) and 4 (idx 3)
    double[][] models = {{4, 0, 3, -1}, {-4, 2, 3, 5}};
    var pm = perModel(Map.of("weight", 2.0, "density", 0.5), Map.of("weight", 1.0, "density", 0.5));
    // D1 = [6, 0, 4, 0], D2 = [-5, 0, 0, 4]; elected signs all + (idx 0: 6 − 5 = 1 > 0)
    // idx0: 6/2 = 3; idx1: 0; idx2: 4/2 = 2; idx3: 4/1 = 4 → θ = 1 + [3, 0, 2, 4]
    assertArrayEquals(new double[] {4, 1, 3, 5}, merge("ties", base, models, 1, 4, Map.of(), pm, DataType.FLOAT, 1), 1e-6);
    // without normalize: θ = 1 + λ·[6, 0, 4, 4], λ = 0.5
    assertArrayEquals(new double[] {4, 1, 3, 3},
        merge("ties", base, models, 1, 4, Map.of("normalize", false, "lambda", 0.5), pm, DataType.DOUBLE, 1), 1e-12);
  }

  @Test
  void tiesTrimBreaksEqualMagnitudesByLowerIndexAndElectsPlusOnAZeroSum() {
    // |τ| = [2, 2, 2, 1], k = 2: the three 2s tie at the threshold; the two lowest indices are kept
    assertArrayEquals(new double[] {2, -2, 0, 0}, merge("ties", new double[4], new double[][] {{2, -2, 2, 1}}, 1, 4, Map.of(),
        perModel(Map.of("density", 0.5)), DataType.DOUBLE, 1), 0);
    // the tie counter runs across chunks in flat order: same answer with one row per chunk
    assertArrayEquals(new double[] {2, -2, 0, 0}, merge("ties", new double[4], new double[][] {{2, -2, 2, 1}}, 4, 1, Map.of(),
        perModel(Map.of("density", 0.5)), DataType.DOUBLE, 1), 0);
    // τ1 = +1, τ2 = −1 with equal weights: Σ = 0 elects +, so only τ1 is kept → θ = 0 + 1/1
    assertArrayEquals(new double[] {1}, merge("ties", new double[1], new double[][] {{1}, {-1}}, 1, 1, Map.of(),
        perModel(Map.of(), Map.of()), DataType.DOUBLE, 1), 0);
  }

  @Test
  void breadcrumbsHandWorkedIncludingTheNoOutlierCase() {
    double[] base = new double[10];
    double[][] tau = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}};
    // γ = 0.1: drop the largest (10) and the 4 smallest; keep 5..9
    assertArrayEquals(new double[] {0, 0, 0, 0, 5, 6, 7, 8, 9, 0},
        merge("breadcrumbs", base, tau, 1, 10, Map.of(), perModel(Map.of("density", 0.5, "gamma", 0.1)), DataType.DOUBLE, 1), 0);
    // γ = 0.05 → n_top = 0: keep the 5 largest (mergekit's slicing keeps nothing here; methods.md "differs")
    assertArrayEquals(new double[] {0, 0, 0, 0, 0, 6, 7, 8, 9, 10},
        merge("breadcrumbs", base, tau, 1, 10, Map.of(), perModel(Map.of("density", 0.5, "gamma", 0.05)), DataType.DOUBLE, 1), 0);
    // density 1 with γ = 0.1: n_bottom < 0 moves into n_top, nothing is dropped
    assertArrayEquals(tau[0],
        merge("breadcrumbs", base, tau, 1, 10, Map.of(), perModel(Map.of("density", 1.0, "gamma", 0.1)), DataType.DOUBLE, 1), 0);
  }

  @Test
  void dellaKeepProbabilitiesFollowTheRankInTheRow() {
    // one row τ = [1..5]: r = [0, .25, .5, .75, 1], p = 0.3 + 0.4 r = [.3, .4, .5, .6, .7]; inverse rescale → kept τ/p
    double[] base = new double[5];
    double[][] tau = {{1, 2, 3, 4, 5}};
    double[] p = {0.3, 0.4, 0.5, 0.6, 0.7};
    double[] got = merge("della_linear", base, tau, 1, 5, Map.of("rescale", "inverse"),
        perModel(Map.of("density", 0.5, "epsilon", 0.2)), DataType.DOUBLE, 1);
    long key = DeterministicRandom.key(42, NAME, 0);
    for (int i = 0; i < 5; i++) {
      boolean kept = DeterministicRandom.uniform(key, i) < p[i];
      assertEquals(kept ? tau[0][i] / p[i] : 0.0, got[i], 1e-12, "entry " + i);
    }
    // statistically: over 4000 rows the kept fraction at each rank approaches p
    int rows = 4000;
    double[] b = new double[rows * 5];
    double[] t = new double[rows * 5];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < 5; i++) {
        t[r * 5 + i] = (i + 1) * (r % 2 == 0 ? 1 : -1);
      }
    }
    double[] out = merge("della_linear", b, new double[][] {t}, rows, 5, Map.of("rescale", false),
        perModel(Map.of("density", 0.5, "epsilon", 0.2)), DataType.DOUBLE, 64);
    for (int i = 0; i < 5; i++) {
      int kept = 0;
      for (int r = 0; r < rows; r++) {
        kept += out[r * 5 + i] != 0 ? 1 : 0;
      }
      assertEquals(p[i], kept / (double) rows, 0.03, "rank " + i);
    }
  }

  @Test
  void dareDensityOneIsTaskArithmeticAndMaskFrequencyIsDensity() {
    SplittableRandom r = new SplittableRandom(5);
    int rows = 200;
    int cols = 500;
    double[] base = random(r, rows * cols);
    double[][] models = {random(r, rows * cols), random(r, rows * cols)};
    var pm1 = perModel(Map.of("weight", 0.3, "density", 1.0), Map.of("weight", 0.6, "density", 1.0));
    double[] dare = merge("dare_linear", base, models, rows, cols, Map.of("lambda", 1.3), pm1, DataType.DOUBLE, 7);
    double[] ta = merge("task_arithmetic", base, models, rows, cols, Map.of("lambda", 1.3),
        perModel(Map.of("weight", 0.3), Map.of("weight", 0.6)), DataType.DOUBLE, 7);
    assertArrayEquals(ta, dare, 0.0);
    double[] ref = ReferenceMerges.taskArithmetic(base, models, new double[] {0.3, 0.6}, 1.3);
    assertTrue(Checkpoints.relError(ta, ref) < 1e-12);
    // one model, d = 0.3, no rescale: the kept fraction is ≈ 0.3 (100k Bernoulli draws: σ ≈ 0.0015)
    double[] sparse = merge("dare_linear", base, new double[][] {models[0]}, rows, cols, Map.of("rescale", false),
        perModel(Map.of("density", 0.3)), DataType.DOUBLE, 13);
    int kept = 0;
    for (int i = 0; i < sparse.length; i++) {
      kept += sparse[i] != base[i] ? 1 : 0;
    }
    assertEquals(0.3, kept / (double) sparse.length, 0.006);
  }

  @Test
  void dareRescaleTrueKeepsTheL1NormAndInverseDividesByTheKeepProbability() {
    SplittableRandom r = new SplittableRandom(9);
    int n = 20000;
    double[] base = random(r, n);
    double[] model = random(r, n);
    double l1 = 0;
    for (int i = 0; i < n; i++) {
      l1 += Math.abs(model[i] - base[i]);
    }
    double[] out = merge("dare_linear", base, new double[][] {model}, 100, 200, Map.of(), perModel(Map.of("density", 0.25)),
        DataType.DOUBLE, 9);
    double l1out = 0;
    for (int i = 0; i < n; i++) {
      l1out += Math.abs(out[i] - base[i]);
    }
    assertEquals(l1, l1out, 1e-9 * l1, "rescale: true restores ||τ||₁");
    double[] inv = merge("dare_linear", base, new double[][] {model}, 100, 200, Map.of("rescale", "inverse"),
        perModel(Map.of("density", 0.25)), DataType.DOUBLE, 9);
    for (int i = 0; i < n; i++) {
      double d = inv[i] - base[i];
      assertTrue(d == 0 || Math.abs(d - (model[i] - base[i]) / 0.25) < 1e-12, "entry " + i);
    }
  }

  /** Every method of the family against the independent reference on random tensors, float32 and float64. */
  @Test
  void familyMatchesTheIndependentReference() {
    SplittableRandom r = new SplittableRandom(17);
    int rows = 37;
    int cols = 29;
    int n = rows * cols;
    double[] base = random(r, n);
    double[][] models = {random(r, n), random(r, n), random(r, n)};
    double[] w = {0.5, 1.0, 0.7};
    double[] d = {0.3, 0.6, 0.45};
    for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      // inputs as the compute dtype sees them
      double[] b = type == DataType.FLOAT ? toFloat(base) : base;
      double[][] x = new double[3][];
      for (int t = 0; t < 3; t++) {
        x[t] = type == DataType.FLOAT ? toFloat(models[t]) : models[t];
      }
      List<Map<String, Object>> pm = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        pm.add(Map.of("weight", w[t], "density", d[t]));
      }
      boolean f32 = type == DataType.FLOAT;
      check("ties", ReferenceMerges.ties(b, x, w, d, 0.8, true, f32),
          merge("ties", b, x, rows, cols, Map.of("lambda", 0.8), pm, type, 5));
      List<Map<String, Object>> pmb = new ArrayList<>();
      boolean[][] masks = new boolean[3][];
      double[][] ones = new double[3][n];
      for (int t = 0; t < 3; t++) {
        pmb.add(Map.of("weight", w[t], "density", 0.8, "gamma", 0.05));
        double[] tau = new double[n];
        for (int i = 0; i < n; i++) {
          tau[i] = f32 ? (float) (x[t][i] - b[i]) : x[t][i] - b[i];
        }
        masks[t] = ReferenceMerges.breadcrumbsMask(tau, 0.8, 0.05);
        java.util.Arrays.fill(ones[t], 1.0);
      }
      check("breadcrumbs", ReferenceMerges.combine(b, x, w, masks, ones, false, false, 1.0),
          merge("breadcrumbs", b, x, rows, cols, Map.of(), pmb, type, 4));
      check("breadcrumbs_ties", ReferenceMerges.combine(b, x, w, masks, ones, true, false, 1.0),
          merge("breadcrumbs_ties", b, x, rows, cols, Map.of(), pmb, type, 4));
      // DARE: masks from the same counter-based draws (the generator is tested on its own); inverse rescale
      boolean[][] dm = new boolean[3][n];
      double[][] ds = new double[3][n];
      for (int t = 0; t < 3; t++) {
        long key = DeterministicRandom.key(42, NAME, t);
        for (int i = 0; i < n; i++) {
          dm[t][i] = DeterministicRandom.uniform(key, i) < d[t];
          ds[t][i] = 1 / d[t];
        }
      }
      check("dare_ties", ReferenceMerges.combine(b, x, w, dm, ds, true, false, 1.0),
          merge("dare_ties", b, x, rows, cols, Map.of("rescale", "inverse"), pm, type, 6));
      check("dare_linear", ReferenceMerges.combine(b, x, w, dm, ds, false, true, 1.0),
          merge("dare_linear", b, x, rows, cols, Map.of("rescale", "inverse", "normalize", true), pm, type, 6));
    }
  }

  @Test
  void outputDoesNotDependOnChunking() {
    SplittableRandom r = new SplittableRandom(23);
    int rows = 31;
    int cols = 17;
    double[] base = random(r, rows * cols);
    double[][] models = {random(r, rows * cols), random(r, rows * cols)};
    for (String m : new String[] {"ties", "dare_ties", "dare_linear", "breadcrumbs", "della", "della_linear", "task_arithmetic"}) {
      Map<String, Object> p1 = new java.util.HashMap<>(Map.of("weight", 0.7, "density", 0.4));
      Map<String, Object> p2 = new java.util.HashMap<>(Map.of("weight", 0.4, "density", 0.6));
      if (m.equals("task_arithmetic")) {
        p1.remove("density");
        p2.remove("density");
      }
      double[] whole = merge(m, base, models, rows, cols, Map.of(), perModel(p1, p2), DataType.FLOAT, rows);
      for (int chunkRows : new int[] {1, 3}) {
        assertArrayEquals(whole, merge(m, base, models, rows, cols, Map.of(), perModel(p1, p2), DataType.FLOAT, chunkRows), 0.0,
            m + " with chunks of " + chunkRows + " rows");
      }
    }
  }

  @Test
  void randomMasksDependOnSeedNameAndModelOnly() {
    long k = DeterministicRandom.key(1, "a.weight", 0);
    assertEquals(DeterministicRandom.uniform(k, 12345), DeterministicRandom.uniform(DeterministicRandom.key(1, "a.weight", 0), 12345));
    assertTrue(k != DeterministicRandom.key(2, "a.weight", 0));
    assertTrue(k != DeterministicRandom.key(1, "b.weight", 0));
    assertTrue(k != DeterministicRandom.key(1, "a.weight", 1));
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
      double u = DeterministicRandom.uniform(k, i);
      assertTrue(u >= 0 && u < 1);
      sum += u;
    }
    assertEquals(0.5, sum / 100000, 0.005);
  }

  @Test
  void linearAndPassthrough() {
    double[][] models = {{1, 2}, {3, 6}};
    assertArrayEquals(new double[] {2.5, 5}, merge("linear", null, models, 1, 2, Map.of(),
        perModel(Map.of("weight", 1.0), Map.of("weight", 3.0)), DataType.DOUBLE, 1), 1e-12);
    assertArrayEquals(new double[] {10, 20}, merge("linear", null, models, 1, 2, Map.of("normalize", false),
        perModel(Map.of("weight", 1.0), Map.of("weight", 3.0)), DataType.DOUBLE, 1), 1e-12);
    assertArrayEquals(new double[] {0.5, 1}, merge("passthrough", null, new double[][] {{1, 2}}, 1, 2, Map.of(),
        perModel(Map.of("scale", 0.5)), DataType.DOUBLE, 1), 1e-12);
  }

  @Test
  void driverSideErrorsNameTheTensorAndTheFix() {
    ConfigException zero = assertThrows(ConfigException.class, () -> merge("linear", null, new double[][] {{1}, {2}}, 1, 1, Map.of(),
        perModel(Map.of("weight", 1.0), Map.of("weight", -1.0)), DataType.DOUBLE, 1));
    assertTrue(zero.getMessage().contains(NAME) && zero.getMessage().contains("sum to 0"), zero.getMessage());
    ConfigException k0 = assertThrows(ConfigException.class, () -> merge("ties", new double[4], new double[][] {{1, 2, 3, 4}}, 1, 4,
        Map.of(), perModel(Map.of("density", 0.2)), DataType.DOUBLE, 1));
    assertTrue(k0.getMessage().contains("keeps no entry") && k0.getMessage().contains(NAME), k0.getMessage());
    ConfigException range = assertThrows(ConfigException.class, () -> merge("ties", new double[4], new double[][] {{1, 2, 3, 4}}, 1, 4,
        Map.of(), perModel(Map.of("density", 1.5)), DataType.DOUBLE, 1));
    assertTrue(range.getMessage().contains("(0, 1]"), range.getMessage());
    ConfigException della = assertThrows(ConfigException.class, () -> merge("della", new double[4], new double[][] {{1, 2, 3, 4}}, 1, 4,
        Map.of(), perModel(Map.of("density", 0.9, "epsilon", 0.2)), DataType.DOUBLE, 1));
    assertTrue(della.getMessage().contains("epsilon"), della.getMessage());
    ConfigException pass = assertThrows(ConfigException.class, () -> MethodHarness.validateModels(MethodRegistry.get("passthrough"), 2, false));
    assertTrue(pass.getMessage().contains("exactly one"), pass.getMessage());
  }

  static void check(String what, double[] ref, double[] got) {
    double err = Checkpoints.relError(got, ref);
    assertTrue(err <= 1e-5, what + " differs from the reference by " + err);
  }

  static double[] random(SplittableRandom r, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextDouble(-1, 1);
    }
    return v;
  }

  static double[] toFloat(double[] v) {
    double[] o = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      o[i] = (float) v[i];
    }
    return o;
  }
}
