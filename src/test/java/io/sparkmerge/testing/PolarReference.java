package io.sparkmerge.testing;

/**
 * The orthogonal polar factor of a full-rank matrix by Newton's iteration X ← (X + X(XᵀX)⁻¹)/2, in
 * plain doubles with Gauss-Jordan inversion: an SVD-free reference for the subspace methods.
 */
public final class PolarReference {
  private PolarReference() {}

  /** Row-major m×n, m ≥ n or m < n (then through the transpose). */
  public static double[][] polar(double[][] a) {
    int m = a.length;
    int n = a[0].length;
    if (m < n) {
      return transpose(polar(transpose(a)));
    }
    double[][] x = copy(a);
    for (int it = 0; it < 100; it++) {
      double[][] inv = invert(mul(transpose(x), x));
      double[][] y = mul(x, inv);
      double change = 0;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double v = (x[i][j] + y[i][j]) / 2;
          change = Math.max(change, Math.abs(v - x[i][j]));
          x[i][j] = v;
        }
      }
      if (change < 1e-14) {
        break;
      }
    }
    return x;
  }

  /** Σ of the singular values = trace(Pᵀ A) for the polar factor P of A. */
  public static double nuclearNorm(double[][] a, double[][] p) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) {
        s += p[i][j] * a[i][j];
      }
    }
    return s;
  }

  public static double[][] mul(double[][] a, double[][] b) {
    int m = a.length;
    int k = b.length;
    int n = b[0].length;
    double[][] c = new double[m][n];
    for (int i = 0; i < m; i++) {
      for (int l = 0; l < k; l++) {
        double v = a[i][l];
        for (int j = 0; j < n; j++) {
          c[i][j] += v * b[l][j];
        }
      }
    }
    return c;
  }

  public static double[][] transpose(double[][] a) {
    double[][] t = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) {
        t[j][i] = a[i][j];
      }
    }
    return t;
  }

  static double[][] copy(double[][] a) {
    double[][] c = new double[a.length][];
    for (int i = 0; i < a.length; i++) {
      c[i] = a[i].clone();
    }
    return c;
  }

  static double[][] invert(double[][] a) {
    int n = a.length;
    double[][] m = new double[n][2 * n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(a[i], 0, m[i], 0, n);
      m[i][n + i] = 1;
    }
    for (int c = 0; c < n; c++) {
      int p = c;
      for (int r = c + 1; r < n; r++) {
        if (Math.abs(m[r][c]) > Math.abs(m[p][c])) {
          p = r;
        }
      }
      double[] t = m[c];
      m[c] = m[p];
      m[p] = t;
      double d = m[c][c];
      for (int j = 0; j < 2 * n; j++) {
        m[c][j] /= d;
      }
      for (int r = 0; r < n; r++) {
        if (r != c && m[r][c] != 0) {
          double f = m[r][c];
          for (int j = 0; j < 2 * n; j++) {
            m[r][j] -= f * m[c][j];
          }
        }
      }
    }
    double[][] inv = new double[n][n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(m[i], n, inv[i], 0, n);
    }
    return inv;
  }

  public static double[][] reshape(double[] flat, int m, int n) {
    double[][] a = new double[m][n];
    for (int i = 0; i < m; i++) {
      System.arraycopy(flat, i * n, a[i], 0, n);
    }
    return a;
  }

  public static double[] flatten(double[][] a) {
    double[] f = new double[a.length * a[0].length];
    for (int i = 0; i < a.length; i++) {
      System.arraycopy(a[i], 0, f, i * a[0].length, a[0].length);
    }
    return f;
  }
}
