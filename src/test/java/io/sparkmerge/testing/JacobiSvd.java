package io.sparkmerge.testing;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Thin SVD by one-sided Jacobi rotations (Hestenes) in plain doubles: an algorithm independent of
 * LAPACK's divide-and-conquer, so tests can check the subspace methods against it. Slow (O(sweeps·m·n²))
 * and only meant for the small matrices of tests.
 */
public final class JacobiSvd {
  /** A = U·diag(s)·Vᵀ with U m×r, s descending, V n×r, r = min(m, n). */
  public record Result(double[][] u, double[] s, double[][] v) {
    /** The first k columns of U (or V). */
    public static double[][] columns(double[][] a, int from, int to) {
      double[][] c = new double[a.length][to - from];
      for (int i = 0; i < a.length; i++) {
        System.arraycopy(a[i], from, c[i], 0, to - from);
      }
      return c;
    }
  }

  private JacobiSvd() {}

  public static Result svd(double[][] a) {
    int m = a.length;
    int n = a[0].length;
    if (m < n) {
      Result t = svd(PolarReference.transpose(a));
      return new Result(t.v(), t.s(), t.u());
    }
    double[][] w = PolarReference.copy(a); // columns become U·diag(s)
    double[][] v = new double[n][n];
    for (int i = 0; i < n; i++) {
      v[i][i] = 1;
    }
    for (int sweep = 0; sweep < 60; sweep++) {
      double off = 0;
      for (int p = 0; p < n - 1; p++) {
        for (int q = p + 1; q < n; q++) {
          double alpha = 0;
          double beta = 0;
          double gamma = 0;
          for (int i = 0; i < m; i++) {
            alpha += w[i][p] * w[i][p];
            beta += w[i][q] * w[i][q];
            gamma += w[i][p] * w[i][q];
          }
          if (gamma == 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) {
            continue;
          }
          off = Math.max(off, Math.abs(gamma) / Math.sqrt(alpha * beta));
          double zeta = (beta - alpha) / (2 * gamma);
          double t = Math.signum(zeta == 0 ? 1 : zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
          double c = 1 / Math.sqrt(1 + t * t);
          double s = c * t;
          rotate(w, p, q, c, s);
          rotate(v, p, q, c, s);
        }
      }
      if (off < 1e-15) {
        break;
      }
    }
    double[] sv = new double[n];
    for (int j = 0; j < n; j++) {
      double norm = 0;
      for (int i = 0; i < m; i++) {
        norm += w[i][j] * w[i][j];
      }
      sv[j] = Math.sqrt(norm);
    }
    Integer[] order = new Integer[n];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -sv[j]));
    double[][] u = new double[m][n];
    double[][] vs = new double[n][n];
    double[] s = new double[n];
    for (int k = 0; k < n; k++) {
      int j = order[k];
      s[k] = sv[j];
      for (int i = 0; i < m; i++) {
        u[i][k] = sv[j] == 0 ? 0 : w[i][j] / sv[j];
      }
      for (int i = 0; i < n; i++) {
        vs[i][k] = v[i][j];
      }
    }
    return new Result(u, s, vs);
  }

  private static void rotate(double[][] a, int p, int q, double c, double s) {
    for (double[] row : a) {
      double x = row[p];
      double y = row[q];
      row[p] = c * x - s * y;
      row[q] = s * x + c * y;
    }
  }
}
