package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Svd;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.PolarReference;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** iso_c, iso_cts, tsv_m (methods.md §2) and the LAPACK SVD behind them. */
class SubspaceMethodsTest {
  static final String NAME = "model.layers.0.self_attn.q_proj.weight";

  static double[] merge(String method, double[] base, double[][] models, long[] shape, int rows, int cols,
      Map<String, Object> global, DataType type) {
    MergeMethod m = MethodRegistry.get(method);
    List<Map<String, Object>> pm = new java.util.ArrayList<>();
    for (double[] ignored : models) {
      pm.add(Map.of());
    }
    TensorMergeContext ctx = MethodHarness.context(m, NAME, shape, type, 1, true, global, pm);
    return MethodHarness.run(m, ctx, base, models, rows, cols, rows);
  }

  static double[] merge2d(String method, double[] base, double[][] models, int m, int n, Map<String, Object> global) {
    return merge(method, base, models, new long[] {m, n}, m, n, global, DataType.DOUBLE);
  }

  @Test
  void svdReconstructsAndFallsBackToGesvd() {
    SplittableRandom r = new SplittableRandom(1);
    for (int[] mn : new int[][] {{60, 40}, {40, 60}, {33, 33}}) {
      for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
        INDArray a = Nd4j.createFromArray(random(r, mn[0] * mn[1])).castTo(type).reshape(mn[0], mn[1]);
        try (Svd.Result s = Svd.thin(a, "t"); Svd.Result g = Svd.thinWithGesvd(a)) {
          for (Svd.Result res : new Svd.Result[] {s, g}) {
            INDArray back = res.u().mulRowVector(res.s()).mmul(res.vt());
            double rel = back.sub(a).norm2Number().doubleValue() / a.norm2Number().doubleValue();
            assertTrue(rel < (type == DataType.FLOAT ? 1e-5 : 1e-12), "reconstruction " + rel + " for " + type);
          }
        }
      }
    }
    // a diagonal matrix: singular values are the absolute diagonal, sorted
    try (Svd.Result s = Svd.thin(Nd4j.createFromArray(new double[][] {{0, 0, 0}, {0, -5, 0}, {0, 0, 2}}), "diag")) {
      assertArrayEquals(new double[] {5, 2, 0}, s.s().toDoubleVector(), 1e-12);
    }
  }

  @Test
  void isoCOnDiagonalAndPermutedDiagonalByHand() {
    // τ1 = diag(3, 0), τ2 = diag(0, 1): Δ = diag(3, 1), mean σ = 2, U Vᵀ = I → M = 2·I
    double[] base = {1, 0, 0, 1};
    assertArrayEquals(new double[] {3, 0, 0, 3},
        merge2d("iso_c", base, new double[][] {{4, 0, 0, 1}, {1, 0, 0, 2}}, 2, 2, Map.of()), 1e-12);
    // Δ = [[0, 3], [1, 0]]: σ = (3, 1), U Vᵀ = [[0, 1], [1, 0]] → M = 2·[[0, 1], [1, 0]]; λ = 0.5 halves it
    assertArrayEquals(new double[] {1, 1, 1, 1},
        merge2d("iso_c", base, new double[][] {{1, 3, 0, 1}, {1, 0, 1, 1}}, 2, 2, Map.of("lambda", 0.5)), 1e-12);
  }

  @Test
  void isoCEqualsTheFlattenedPolarFactorComputedWithoutSvd() {
    SplittableRandom r = new SplittableRandom(4);
    for (int[] mn : new int[][] {{12, 7}, {7, 12}, {9, 9}}) {
      int m = mn[0];
      int n = mn[1];
      double[] base = random(r, m * n);
      double[][] models = {random(r, m * n), random(r, m * n), random(r, m * n)};
      double[] delta = new double[m * n];
      for (double[] x : models) {
        for (int i = 0; i < delta.length; i++) {
          delta[i] += x[i] - base[i];
        }
      }
      double[][] d = PolarReference.reshape(delta, m, n);
      double[][] p = PolarReference.polar(d);
      double mean = PolarReference.nuclearNorm(d, p) / Math.min(m, n);
      double[] ref = PolarReference.flatten(p);
      for (int i = 0; i < ref.length; i++) {
        ref[i] = base[i] + mean * ref[i];
      }
      double[] got = merge2d("iso_c", base, models, m, n, Map.of());
      assertTrue(Checkpoints.relError(got, ref) < 1e-9, m + "x" + n + ": " + Checkpoints.relError(got, ref));
      // property: all singular values of the update equal the mean of Δ's
      INDArray upd = Nd4j.createFromArray(got).reshape(m, n).sub(Nd4j.createFromArray(base).reshape(m, n));
      try (Svd.Result s = Svd.thin(upd, "u")) {
        for (double sv : s.s().toDoubleVector()) {
          assertEquals(mean, sv, 1e-9 * mean);
        }
      }
      // Iso-CTS with the whole space common (fraction 1) is Iso-C
      assertTrue(Checkpoints.relError(merge2d("iso_cts", base, models, m, n, Map.of("common_space_fraction", 1.0)), got) < 1e-9);
    }
  }

  @Test
  void isoCtsDimensionRule() {
    assertArrayEquals(new int[] {7, 1}, IsoCtsMerge.dims(10, 3, 0.8)); // k=8, d=rint(2/3)=1, k=10-3
    assertArrayEquals(new int[] {10, 0}, IsoCtsMerge.dims(10, 4, 0.8)); // d=rint(0.5)=0 (half to even)
    assertArrayEquals(new int[] {6, 2}, IsoCtsMerge.dims(10, 2, 0.5)); // d=rint(2.5)=2 (half to even)
    assertArrayEquals(new int[] {3, 2}, IsoCtsMerge.dims(7, 2, 0.5)); // k=3, d=2
    assertArrayEquals(new int[] {48, 2}, IsoCtsMerge.dims(64, 8, 0.8)); // k=51, d=rint(1.625)=2
    assertArrayEquals(new int[] {4, 6}, IsoCtsMerge.dims(64, 10, 0.1)); // k=6, d=rint(5.8)=6, k=64-60
    assertArrayEquals(new int[] {1, 1}, IsoCtsMerge.dims(3, 2, 0.0)); // d=rint(1.5)=2 would make k<0 → d=⌊3/2⌋
  }

  @Test
  void isoCtsIsAFlatSpectrumOverTheSharedAndTaskDirections() {
    SplittableRandom r = new SplittableRandom(6);
    int m = 10;
    int n = 8;
    double[] base = random(r, m * n);
    double[][] models = {random(r, m * n), random(r, m * n)};
    double[] got = merge2d("iso_cts", base, models, m, n, Map.of("common_space_fraction", 0.5));
    INDArray upd = Nd4j.createFromArray(got).reshape(m, n).sub(Nd4j.createFromArray(base).reshape(m, n));
    try (Svd.Result s = Svd.thin(upd, "u")) {
      double[] sv = s.s().toDoubleVector();
      for (double v : sv) {
        assertEquals(sv[0], v, 1e-9 * sv[0], "orthogonalised bases + one mean value: a flat spectrum");
      }
    }
  }

  @Test
  void tsvMOfMutuallyOrthogonalLowRankTaskVectorsIsTheirSum() {
    SplittableRandom r = new SplittableRandom(7);
    int m = 6;
    int n = 6;
    int d = 2;
    LinearAlgebra la = LinearAlgebra.forLoadedBackend();
    INDArray q1 = la.polar(Nd4j.createFromArray(random(r, m * m)).reshape(m, m), "q1");
    INDArray q2 = la.polar(Nd4j.createFromArray(random(r, n * n)).reshape(n, n), "q2");
    double[] sv = {9, 8, 6, 5, 3, 2};
    double[] base = random(r, m * n);
    double[][] models = new double[3][];
    double[] sum = new double[m * n];
    for (int t = 0; t < 3; t++) {
      INDArray tau = Nd4j.zeros(DataType.DOUBLE, m, n);
      for (int j = t * d; j < (t + 1) * d; j++) {
        tau.addi(q1.getColumn(j).reshape(m, 1).mmul(q2.getColumn(j).reshape(1, n)).muli(sv[j]));
      }
      double[] tv = tau.reshape(-1).toDoubleVector();
      models[t] = new double[m * n];
      for (int i = 0; i < m * n; i++) {
        models[t][i] = base[i] + tv[i];
        sum[i] += tv[i];
      }
    }
    double[] got = merge2d("tsv_m", base, models, m, n, Map.of());
    double[] want = new double[m * n];
    for (int i = 0; i < m * n; i++) {
      want[i] = base[i] + sum[i];
    }
    assertTrue(Checkpoints.relError(got, want) < 1e-9, "TSV-M of orthogonal rank-2 tasks: " + Checkpoints.relError(got, want));
  }

  @Test
  void otherTensorsAndFilteredOnesGetTheMeanTaskVector() {
    double[] base = {1, 2, 3};
    double[][] models = {{2, 2, 3}, {1, 4, 6}};
    // mean τ = [0.5, 1, 1.5]; λ = 2
    for (String m : new String[] {"iso_c", "iso_cts", "tsv_m"}) {
      assertArrayEquals(new double[] {2, 4, 6}, merge(m, base, models, new long[] {3}, 1, 3, Map.of("lambda", 2.0), DataType.DOUBLE),
          1e-12, m + " on a 1-D tensor");
    }
    double[] b2 = {0, 0, 0, 0};
    double[][] m2 = {{4, 0, 0, 0}, {0, 0, 0, 2}};
    assertArrayEquals(new double[] {2, 0, 0, 1}, merge("iso_c", b2, m2, new long[] {2, 2}, 2, 2, Map.of("filter", "q_proj"),
        DataType.DOUBLE), 1e-12, "filter routes to the mean path");
    // float32 compute works and agrees with float64 to float precision
    double[] f = merge("iso_c", b2, m2, new long[] {2, 2}, 2, 2, Map.of(), DataType.FLOAT);
    assertArrayEquals(new double[] {3, 0, 0, 3}, f, 1e-5);
  }

  static double[] random(SplittableRandom r, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextDouble(-1, 1);
    }
    return v;
  }
}
