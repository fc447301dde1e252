package io.sparkmerge.math;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.JacobiSvd;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The randomised truncated SVD of {@link LowRank} against the Jacobi SVD of the tests: on a matrix of decaying
 * spectrum its rank-r error is within a few percent of the optimum √(Σ_{i>r} σ_i²), on an exactly rank-r matrix it
 * is exact, it is bitwise reproducible under the same key, and the threshold rule picks it only for large matrices
 * at small rank.
 */
class LowRankTest {
  final LinearAlgebra la = LinearAlgebra.forLoadedBackend();

  /** Σ_k σ_k·u_k·v_kᵀ / √(mn) over Gaussian u_k, v_k with σ_k = (k + 1)^-decay: all min(m, n) terms, or exactRank of them. */
  static double[][] matrix(int m, int n, double decay, int exactRank, long seed) {
    Random rnd = new Random(seed);
    int k = exactRank > 0 ? exactRank : Math.min(m, n);
    double[][] a = new double[m][n];
    for (int t = 0; t < k; t++) {
      double[] u = new double[m];
      double[] v = new double[n];
      for (int i = 0; i < m; i++) {
        u[i] = rnd.nextGaussian();
      }
      for (int j = 0; j < n; j++) {
        v[j] = rnd.nextGaussian();
      }
      double s = Math.pow(t + 1, -decay);
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          a[i][j] += s * u[i] * v[j] / Math.sqrt(m * n);
        }
      }
    }
    return a;
  }

  static double optimum(double[][] a, int r) {
    double[] s = JacobiSvd.svd(a).s();
    double tail = 0;
    double all = 0;
    for (int i = 0; i < s.length; i++) {
      all += s[i] * s[i];
      tail += i >= r ? s[i] * s[i] : 0;
    }
    return Math.sqrt(tail / all);
  }

  private double error(double[][] a, int r, LowRank.Algorithm alg, long key) {
    try (INDArray t = Nd4j.createFromArray(a).castTo(DataType.DOUBLE);
        LowRank.Factors f = LowRank.factor(t, r, true, alg, key, la, "test")) {
      assertEquals(alg, f.algorithm());
      return LowRank.relativeError(t, f.b(), f.a(), la);
    }
  }

  @Test
  void randomisedErrorIsCloseToTheOptimumOfTheJacobiSvd() {
    double[][] a = matrix(160, 96, 0.5, 0, 3);
    for (int r : new int[] {4, 16}) {
      double best = optimum(a, r);
      assertEquals(best, error(a, r, LowRank.Algorithm.SVD, 1), 1e-9, "the exact truncation is optimal (Eckart–Young)");
      double got = error(a, r, LowRank.Algorithm.RANDOMIZED, 1);
      assertTrue(got >= best - 1e-12 && got <= best * 1.03, "rank " + r + ": randomised " + got + " vs optimum " + best);
    }
  }

  @Test
  void anExactlyLowRankMatrixIsRecoveredExactly() {
    double[][] a = matrix(120, 80, 0.5, 6, 4);
    assertTrue(error(a, 6, LowRank.Algorithm.RANDOMIZED, 9) < 1e-12);
  }

  @Test
  void sameKeySameBitsOtherKeyOtherTestMatrix() {
    double[][] a = matrix(100, 70, 0.3, 0, 5);
    try (INDArray t = Nd4j.createFromArray(a).castTo(DataType.FLOAT);
        LowRank.Factors f1 = LowRank.factor(t, 8, true, LowRank.Algorithm.RANDOMIZED, 42, la, "x");
        LowRank.Factors f2 = LowRank.factor(t, 8, true, LowRank.Algorithm.RANDOMIZED, 42, la, "x")) {
      assertArrayEquals(f1.a().data().asFloat(), f2.a().data().asFloat());
      assertArrayEquals(f1.b().data().asFloat(), f2.b().data().asFloat());
    }
    try (INDArray g1 = LowRank.gaussian(50, 4, 1, DataType.DOUBLE); INDArray g2 = LowRank.gaussian(50, 4, 2, DataType.DOUBLE)) {
      assertNotEquals(g1.getDouble(0, 0), g2.getDouble(0, 0));
      double mean = g1.meanNumber().doubleValue();
      double var = g1.varNumber().doubleValue();
      assertTrue(Math.abs(mean) < 0.3 && Math.abs(var - 1) < 0.4, "standard normal: mean " + mean + ", variance " + var);
    }
  }

  @Test
  void theThresholdPicksTheRandomisedSvdForLargeMatricesAtSmallRank() {
    assertEquals(LowRank.Algorithm.SVD, LowRank.choose(512, 512, 16));
    assertEquals(LowRank.Algorithm.RANDOMIZED, LowRank.choose(4096, 4096, 64));
    assertEquals(LowRank.Algorithm.SVD, LowRank.choose(1024, 1024, 512));
    assertEquals(LowRank.Algorithm.RANDOMIZED, LowRank.choose(14336, 4096, 128));
  }

  @Test
  void withoutDistributingAllOfSIsOnA() {
    double[][] a = matrix(30, 20, 0.5, 0, 6);
    double[] s = JacobiSvd.svd(a).s();
    try (INDArray t = Nd4j.createFromArray(a); LowRank.Factors f = LowRank.factor(t, 3, false, LowRank.Algorithm.SVD, 0, la, "x")) {
      for (int k = 0; k < 3; k++) {
        assertEquals(s[k], f.a().getRow(k).norm2Number().doubleValue(), 1e-9);
        assertEquals(1, f.b().getColumn(k).norm2Number().doubleValue(), 1e-9);
        assertEquals(s[k], f.singularValues()[k], 1e-9);
      }
    }
  }
}
