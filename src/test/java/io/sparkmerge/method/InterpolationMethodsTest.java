package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.InputDataException;
import io.sparkmerge.testing.Checkpoints;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/** slerp, nuslerp, model_stock, karcher and sce (methods.md §1) against closed forms and direct formulations. */
public class InterpolationMethodsTest {
  static final String NAME = "model.layers.1.self_attn.o_proj.weight";
  static final double S = Math.sin(Math.PI / 4); // sin(π/4)/sin(π/2)

  static double[] merge(String method, double[] base, double[][] models, int rows, int cols, Map<String, Object> global,
      List<Map<String, Object>> perModel, int rowsPerChunk) {
    return merge(method, base, models, new long[] {rows, cols}, rows, cols, global, perModel, rowsPerChunk);
  }

  static double[] merge(String method, double[] base, double[][] models, long[] shape, int rows, int cols,
      Map<String, Object> global, List<Map<String, Object>> perModel, int rowsPerChunk) {
    MergeMethod m = MethodRegistry.get(method);
    TensorMergeContext ctx = MethodHarness.context(m, NAME, shape, DataType.DOUBLE, 1, base != null, global, perModel);
    return MethodHarness.run(m, ctx, base, models, rows, cols, rowsPerChunk);
  }

  static List<Map<String, Object>> none(int n) {
    List<Map<String, Object>> l = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      l.add(Map.of());
    }
    return l;
  }

  @Test
  void slerpOfOrthogonalUnitVectorsEndpointsAndColinearFallback() {
    double[] v0 = {1, 0};
    double[][] v1 = {{0, 1}};
    assertArrayEquals(new double[] {S, S}, merge("slerp", v0, v1, 1, 2, Map.of("t", 0.5), none(1), 1), 1e-12);
    assertArrayEquals(v0, merge("slerp", v0, v1, 1, 2, Map.of("t", 0.0), none(1), 1), 1e-12);
    assertArrayEquals(v1[0], merge("slerp", v0, v1, 1, 2, Map.of("t", 1.0), none(1), 1), 1e-12);
    // colinear (v1 = 2·v0): |cos| = 1 > 0.9995 → linear: 0.7·v0 + 0.3·2·v0 = 1.3·v0
    assertArrayEquals(new double[] {1.3, 0}, merge("slerp", v0, new double[][] {{2, 0}}, 1, 2, Map.of("t", 0.3), none(1), 1), 1e-12);
    // a zero base is not normalised (norm ≤ 1e-8): dot = 0, Ω = π/2 → sin(π/4)/1 · v1
    assertArrayEquals(new double[] {0, S}, merge("slerp", new double[] {0, 0}, v1, 1, 2, Map.of("t", 0.5), none(1), 1), 1e-12);
    ConfigException two = assertThrows(ConfigException.class, () -> MethodHarness.validateModels(MethodRegistry.get("slerp"), 2, true));
    assertTrue(two.getMessage().contains("exactly one"), two.getMessage());
    assertThrows(ConfigException.class, () -> merge("slerp", v0, v1, 1, 2, Map.of(), none(1), 1), "t is required");
  }

  /** Direct SLERP on explicit vectors (the textbook formula, mergekit's thresholds). */
  public static double[] slerpReference(double t, double[] a, double[] b) {
    double na = norm(a);
    double nb = norm(b);
    double dot = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (a[i] / (na > 1e-8 ? na : 1)) * (b[i] / (nb > 1e-8 ? nb : 1));
    }
    double[] out = new double[a.length];
    if (Math.abs(dot) > 0.9995) {
      for (int i = 0; i < a.length; i++) {
        out[i] = (1 - t) * a[i] + t * b[i];
      }
      return out;
    }
    double om = Math.acos(dot);
    for (int i = 0; i < a.length; i++) {
      out[i] = (Math.sin((1 - t) * om) * a[i] + Math.sin(t * om) * b[i]) / Math.sin(om);
    }
    return out;
  }

  @Test
  void slerpAndNuslerpMatchDirectFormulasWhateverTheChunking() {
    SplittableRandom r = new SplittableRandom(3);
    int rows = 13;
    int cols = 11;
    double[] base = random(r, rows * cols);
    double[] a = random(r, rows * cols);
    double[] b = random(r, rows * cols);
    double[] ref = slerpReference(0.3, base, a);
    for (int chunk : new int[] {1, 4, rows}) {
      check("slerp", ref, merge("slerp", base, new double[][] {a}, rows, cols, Map.of("t", 0.3), none(1), chunk));
    }
    // nuslerp with a base: SLERP of the task vectors at t = w2/(w1+w2) = 0.75, added to the base
    double[] ta = minus(a, base);
    double[] tb = minus(b, base);
    double[] nref = plus(base, slerpReference(0.75, ta, tb));
    var w = List.<Map<String, Object>>of(Map.of("weight", 1.0), Map.of("weight", 3.0));
    for (int chunk : new int[] {1, 5, rows}) {
      check("nuslerp flat", nref, merge("nuslerp", base, new double[][] {a, b}, rows, cols, Map.of(), w, chunk));
    }
    // not flattened: each row (vector along the last dimension) on its own; without a base
    double[] rowRef = new double[rows * cols];
    double[] colRef = new double[rows * cols];
    for (int i = 0; i < rows; i++) {
      double[] s = slerpReference(0.75, java.util.Arrays.copyOfRange(a, i * cols, (i + 1) * cols),
          java.util.Arrays.copyOfRange(b, i * cols, (i + 1) * cols));
      System.arraycopy(s, 0, rowRef, i * cols, cols);
    }
    for (int j = 0; j < cols; j++) {
      double[] ca = new double[rows];
      double[] cb = new double[rows];
      for (int i = 0; i < rows; i++) {
        ca[i] = a[i * cols + j];
        cb[i] = b[i * cols + j];
      }
      double[] s = slerpReference(0.75, ca, cb);
      for (int i = 0; i < rows; i++) {
        colRef[i * cols + j] = s[i];
      }
    }
    for (int chunk : new int[] {1, 6}) {
      check("nuslerp rows", rowRef, merge("nuslerp", null, new double[][] {a, b}, rows, cols,
          Map.of("nuslerp_flatten", false), w, chunk));
      check("nuslerp columns", colRef, merge("nuslerp", null, new double[][] {a, b}, rows, cols,
          Map.of("nuslerp_flatten", false, "nuslerp_row_wise", true), w, chunk));
    }
  }

  @Test
  void nuslerpWeightsGiveTAndNeedTwoModels() {
    double[][] v = {{1, 0}, {0, 1}};
    // equal weights → t = 0.5 → both coefficients sin(π/4)
    assertArrayEquals(new double[] {S, S}, merge("nuslerp", null, v, 1, 2, Map.of(),
        List.of(Map.of("weight", 2.0), Map.of("weight", 2.0)), 1), 1e-12);
    // weights summing to ~0 → t = 0.5
    assertArrayEquals(new double[] {S, S}, merge("nuslerp", null, v, 1, 2, Map.of(),
        List.of(Map.of("weight", 1.0), Map.of("weight", -1.0)), 1), 1e-12);
    assertThrows(ConfigException.class, () -> MethodHarness.validateModels(MethodRegistry.get("nuslerp"), 3, false));
  }

  @Test
  void modelStockClosedFormForAKnownAngle() {
    // τ1 = [1, 0], τ2 = [cos 60°, sin 60°]: cos = 0.5, T = 2 → t = 2·0.5/(1 + 0.5) = 2/3; θ = t·mean(θ) + (1−t)·θ₀
    double[] base = {0, 0};
    double[][] models = {{1, 0}, {0.5, Math.sqrt(3) / 2}};
    double t = 2.0 / 3;
    double[] want = {t * 0.75, t * Math.sqrt(3) / 4};
    assertArrayEquals(want, merge("model_stock", base, models, 1, 2, Map.of(), none(2), 1), 1e-12);
    // per row (filter_wise): the same row twice gives the same answer per row
    assertArrayEquals(new double[] {want[0], want[1], want[0], want[1]}, merge("model_stock", new double[4],
        new double[][] {{1, 0, 1, 0}, {0.5, Math.sqrt(3) / 2, 0.5, Math.sqrt(3) / 2}}, 2, 2, Map.of("filter_wise", true), none(2), 1),
        1e-12);
    // opposite task vectors: cos = −1, 1 + (T−1)·cos = 0 → an error naming the tensor
    InputDataException e = assertThrows(InputDataException.class,
        () -> merge("model_stock", base, new double[][] {{1, 0}, {-1, 0}}, 1, 2, Map.of(), none(2), 1));
    assertTrue(e.getMessage().contains(NAME), e.getMessage());
    assertThrows(ConfigException.class, () -> MethodHarness.validateModels(MethodRegistry.get("model_stock"), 1, true));
  }

  @Test
  void karcherOfTwoVectorsIsTheirSphericalMidpointTimesTheMeanNorm() {
    // directions [1,0] and [0,1], norms 3 and 1: midpoint (√½, √½) × mean norm 2
    assertArrayEquals(new double[] {2 * S, 2 * S}, merge("karcher", null, new double[][] {{3, 0}, {0, 1}}, 1, 2, Map.of(), none(2), 1),
        1e-6);
    // a zero tensor has no direction but counts 0 in the mean norm: (3 + 0)/2 · [1, 0]
    assertArrayEquals(new double[] {1.5, 0}, merge("karcher", null, new double[][] {{3, 0}, {0, 0}}, 1, 2, Map.of(), none(2), 1), 1e-9);
  }

  /** The Karcher fixed point iterated directly on explicit unit vectors. */
  static double[] karcherReference(double[][] x, int maxIter, double tol) {
    int m = x.length;
    int n = x[0].length;
    double[][] u = new double[m][];
    double normSum = 0;
    for (int i = 0; i < m; i++) {
      double nn = norm(x[i]);
      normSum += nn;
      u[i] = scale(x[i], 1 / nn);
    }
    double[] mean = new double[n];
    for (double[] ui : u) {
      mean = plus(mean, scale(ui, 1.0 / m));
    }
    mean = scale(mean, 1 / norm(mean));
    for (int it = 0; it < maxIter; it++) {
      double[] tangent = new double[n];
      for (double[] ui : u) {
        double cos = Math.max(-1, Math.min(1, dot(mean, ui)));
        double th = Math.acos(cos);
        if (th < tol) {
          continue;
        }
        tangent = plus(tangent, scale(minus(ui, scale(mean, cos)), th / Math.sin(th) / m));
      }
      double tn = norm(tangent);
      if (tn < tol) {
        break;
      }
      mean = plus(scale(mean, Math.cos(tn)), scale(tangent, Math.sin(tn) / tn));
      mean = scale(mean, 1 / norm(mean));
    }
    return scale(mean, normSum / m);
  }

  @Test
  void karcherMatchesTheDirectIteration() {
    SplittableRandom r = new SplittableRandom(8);
    int rows = 9;
    int cols = 7;
    double[][] x = {random(r, rows * cols), random(r, rows * cols), random(r, rows * cols)};
    double[] ref = karcherReference(x, 50, 1e-12);
    for (int chunk : new int[] {1, 4, rows}) {
      check("karcher", ref, merge("karcher", null, x, rows, cols, Map.of("max_iter", 50, "tol", 1e-12), none(3), chunk));
    }
  }

  @Test
  void sceHandWorkedWithAndWithoutSelection() {
    double[] base = new double[4];
    double[][] models = {{1, 2, -3, 0}, {1, -2, 1, 4}};
    // all selected: w = (3.5, 5.5)/9; idx0 both +; idx1 Σ = 0 elects +: τ1 = 2; idx2 Σ < 0: τ1 = −3; idx3: τ2 = 4
    assertArrayEquals(new double[] {1, 2, -3, 4}, merge("sce", base, models, 1, 4, Map.of(), none(2), 1), 1e-12);
    // select_topk 0.5: variances [0, 4, 4, 4], 3 nonzero → keep ⌊1.5⌋ = 1 position; the tie goes to index 1
    assertArrayEquals(new double[] {0, 2, 0, 0}, merge("sce", base, models, 1, 4, Map.of("select_topk", 0.5), none(2), 1), 1e-12);
    assertArrayEquals(new double[] {0, 2, 0, 0}, merge("sce", base, models, 4, 1, Map.of("select_topk", 0.5), none(2), 1), 1e-12,
        "the selection's tie counter runs across chunks");
  }

  /** SCE directly: full sort for the selection, then the three steps on explicit arrays. */
  static double[] sceReference(double[] base, double[][] x, double topk) {
    int m = x.length;
    int n = base.length;
    double[][] tau = new double[m][n];
    for (int t = 0; t < m; t++) {
      tau[t] = minus(x[t], base);
    }
    boolean[] sel = new boolean[n];
    java.util.Arrays.fill(sel, true);
    if (topk < 1) {
      double[] var = new double[n];
      int nz = 0;
      for (int i = 0; i < n; i++) {
        double mean = 0;
        for (int t = 0; t < m; t++) {
          mean += tau[t][i] / m;
        }
        for (int t = 0; t < m; t++) {
          var[i] += (tau[t][i] - mean) * (tau[t][i] - mean) / m;
        }
        nz += var[i] != 0 ? 1 : 0;
      }
      Integer[] idx = new Integer[n];
      for (int i = 0; i < n; i++) {
        idx[i] = i;
      }
      java.util.Arrays.sort(idx, java.util.Comparator.<Integer>comparingDouble(i -> -var[i]).thenComparingInt(i -> i));
      java.util.Arrays.fill(sel, false);
      for (int j = 0; j < (int) Math.floor(topk * nz); j++) {
        sel[idx[j]] = true;
      }
    }
    double[] w = new double[m];
    double tot = 0;
    for (int t = 0; t < m; t++) {
      for (int i = 0; i < n; i++) {
        w[t] += sel[i] ? tau[t][i] * tau[t][i] / n : 0;
      }
      tot += w[t];
    }
    double[] out = base.clone();
    for (int i = 0; i < n; i++) {
      if (!sel[i]) {
        continue;
      }
      double s = 0;
      for (int t = 0; t < m; t++) {
        s += tau[t][i];
      }
      double num = 0;
      double den = 0;
      for (int t = 0; t < m; t++) {
        double wt = tot < 1e-6 ? 1.0 / m : w[t] / tot;
        if (tau[t][i] != 0 && (tau[t][i] > 0) == (s >= 0)) {
          num += wt * tau[t][i];
          den += wt;
        }
      }
      out[i] += num / Math.max(den, 1e-6);
    }
    return out;
  }

  @Test
  void sceAndModelStockMatchDirectFormulasWhateverTheChunking() {
    SplittableRandom r = new SplittableRandom(12);
    int rows = 17;
    int cols = 9;
    double[] base = random(r, rows * cols);
    double[][] x = {random(r, rows * cols), random(r, rows * cols), random(r, rows * cols)};
    for (double k : new double[] {1.0, 0.3}) {
      double[] ref = sceReference(base, x, k);
      for (int chunk : new int[] {1, 5, rows}) {
        check("sce " + k, ref, merge("sce", base, x, rows, cols, Map.of("select_topk", k), none(3), chunk));
      }
    }
    // model stock: cos from the explicit task vectors
    double[][] tau = {minus(x[0], base), minus(x[1], base), minus(x[2], base)};
    double cos = (cosine(tau[0], tau[1]) + cosine(tau[0], tau[2]) + cosine(tau[1], tau[2])) / 3;
    double t = 3 * cos / (1 + 2 * cos);
    double[] ref = new double[base.length];
    for (int i = 0; i < ref.length; i++) {
      ref[i] = t * (x[0][i] + x[1][i] + x[2][i]) / 3 + (1 - t) * base[i];
    }
    for (int chunk : new int[] {1, 7}) {
      check("model_stock", ref, merge("model_stock", base, x, rows, cols, Map.of(), none(3), chunk));
    }
  }

  static void check(String what, double[] ref, double[] got) {
    double err = Checkpoints.relError(got, ref);
    assertTrue(err <= 1e-9, what + " differs from the direct formula by " + err);
  }

  public static double cosine(double[] a, double[] b) {
    return dot(a, b) / Math.max(norm(a) * norm(b), 1e-6);
  }

  static double[] random(SplittableRandom r, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextDouble(-1, 1);
    }
    return v;
  }

  static double norm(double[] a) {
    return Math.sqrt(dot(a, a));
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  static double[] scale(double[] a, double f) {
    double[] o = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      o[i] = a[i] * f;
    }
    return o;
  }

  static double[] plus(double[] a, double[] b) {
    double[] o = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      o[i] = a[i] + b[i];
    }
    return o;
  }

  static double[] minus(double[] a, double[] b) {
    double[] o = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      o[i] = a[i] - b[i];
    }
    return o;
  }
}
