package io.sparkmerge.math;

/**
 * Spherical interpolation from inner products alone: given ⟨v0,v0⟩, ⟨v1,v1⟩ and ⟨v0,v1⟩ (gathered
 * over a tensor's chunks), the coefficients c0, c1 with slerp(t; v0, v1) = c0·v0 + c1·v1. Working
 * from inner products is what lets SLERP of a 2 GB tensor run in bounded memory.
 */
public final class Spherical {
  private Spherical() {}

  /**
   * mergekit's {@code slerp}: both vectors normalised by their Frobenius norm unless it is ≤ 1e-8;
   * |dot| > 0.9995 falls back to linear interpolation.
   */
  public static double[] slerp(double t, double n00, double n11, double n01) {
    double a = Math.sqrt(n00);
    double b = Math.sqrt(n11);
    double dot = n01 / ((a > 1e-8 ? a : 1) * (b > 1e-8 ? b : 1));
    if (Math.abs(dot) > 0.9995) {
      return new double[] {1 - t, t};
    }
    double omega = Math.acos(dot);
    double s = Math.sin(omega);
    return new double[] {Math.sin((1 - t) * omega) / s, Math.sin(t * omega) / s};
  }

  /** nuslerp: norms clamped below at 1e-8; colinear (|sin Ω| < 1e-8) falls back to linear interpolation. */
  public static double[] nuslerp(double t, double n00, double n11, double n01) {
    double cos = n01 / (Math.max(Math.sqrt(n00), 1e-8) * Math.max(Math.sqrt(n11), 1e-8));
    double omega = Math.acos(Math.max(-1, Math.min(1, cos)));
    double s = Math.sin(omega);
    if (Math.abs(s) < 1e-8) {
      return new double[] {1 - t, t};
    }
    return new double[] {Math.sin((1 - t) * omega) / s, Math.sin(t * omega) / s};
  }

  /** G[i][j] += Σ_k x_i[k]·x_j[k] over the first n entries (symmetric, upper and lower filled). */
  public static void accumulateGram(double[][] x, int n, double[][] g) {
    int m = x.length;
    for (int i = 0; i < m; i++) {
      for (int j = i; j < m; j++) {
        double s = 0;
        double[] xi = x[i];
        double[] xj = x[j];
        for (int k = 0; k < n; k++) {
          s += xi[k] * xj[k];
        }
        g[i][j] += s;
        if (j != i) {
          g[j][i] += s;
        }
      }
    }
  }
}
