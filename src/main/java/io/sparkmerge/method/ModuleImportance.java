package io.sparkmerge.method;

/**
 * Module importances (methods.md §4), accumulated over row blocks of a module's weight W
 * ({@code [out, in]}): the Wanda score I = ‖ |W| ⊙ √a ‖_F with a the mean squared input activation per
 * input channel, i.e. √(Σ_rc W_rc² a_c); and the data-free proxy ‖τ‖_F (not LEWIS).
 */
public final class ModuleImportance {
  private ModuleImportance() {}

  /** Σ W_rc² · a_c over n entries (whole rows of length a.length) of a row block. */
  public static double wandaSquares(double[] w, int n, double[] a) {
    int cols = a.length;
    double s = 0;
    for (int i = 0; i < n; i++) {
      double v = w[i];
      s += v * v * a[i % cols];
    }
    return s;
  }

  /** Σ (x − b)² over n entries of a row block. */
  public static double taskVectorSquares(double[] x, double[] b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      double d = x[i] - b[i];
      s += d * d;
    }
    return s;
  }
}
