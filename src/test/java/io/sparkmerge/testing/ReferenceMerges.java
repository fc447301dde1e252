package io.sparkmerge.testing;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Plain-Java reference formulations of the baseline methods (methods.md §1) over doubles, written
 * independently of the product's method classes, for the end-to-end tests.
 */
public final class ReferenceMerges {
  private ReferenceMerges() {}

  public static double[] linear(double[][] models, double[] w, boolean normalize) {
    int n = models[0].length;
    double sw = Arrays.stream(w).sum();
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int t = 0; t < models.length; t++) {
        s += w[t] * models[t][i];
      }
      out[i] = normalize ? s / sw : s;
    }
    return out;
  }

  public static double[] taskArithmetic(double[] base, double[][] models, double[] w, double lambda) {
    double[] out = base.clone();
    for (int i = 0; i < base.length; i++) {
      double s = 0;
      for (int t = 0; t < models.length; t++) {
        s += w[t] * (models[t][i] - base[i]);
      }
      out[i] = base[i] + lambda * s;
    }
    return out;
  }

  /**
   * TIES: magnitude trim (ties at the threshold by lower index), sign election, disjoint mean.
   * With {@code float32} the task vector is rounded to float first, as a float32 compute does, so the
   * trim selects the same entries.
   */
  public static double[] ties(double[] base, double[][] models, double[] w, double[] density, double lambda, boolean normalize,
      boolean float32) {
    int n = base.length;
    int T = models.length;
    double[][] d = new double[T][n];
    for (int t = 0; t < T; t++) {
      double[] tau = new double[n];
      for (int i = 0; i < n; i++) {
        tau[i] = float32 ? (float) (models[t][i] - base[i]) : models[t][i] - base[i];
      }
      boolean[] keep = new boolean[n];
      if (density[t] >= 1) {
        Arrays.fill(keep, true);
      } else {
        int k = (int) Math.floor(density[t] * n);
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
          idx[i] = i;
        }
        final double[] tt = tau;
        Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> -Math.abs(tt[i])).thenComparingInt(i -> i));
        for (int j = 0; j < k; j++) {
          keep[idx[j]] = true;
        }
      }
      for (int i = 0; i < n; i++) {
        d[t][i] = keep[i] ? w[t] * tau[i] : 0;
      }
    }
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      double sum = 0;
      for (int t = 0; t < T; t++) {
        sum += d[t][i];
      }
      double sign = sum >= 0 ? 1 : -1;
      double mixed = 0;
      double div = 0;
      for (int t = 0; t < T; t++) {
        if (d[t][i] != 0 && Math.signum(d[t][i]) == sign) {
          mixed += d[t][i];
          div += w[t];
        }
      }
      if (div == 0) {
        div = 1;
      }
      out[i] = base[i] + lambda * (normalize ? mixed / div : mixed);
    }
    return out;
  }

  /** Breadcrumbs on one task vector: drop the nTop largest and the bottom, by a full sort (magnitude desc, index asc). */
  public static boolean[] breadcrumbsMask(double[] tau, double density, double gamma) {
    int n = tau.length;
    long nTop = (long) Math.floor(gamma * n);
    long keep = (long) Math.floor(density * n);
    long nBottom = n - keep - nTop;
    if (nBottom < 0) {
      nTop += nBottom;
    }
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> -Math.abs(tau[i])).thenComparingInt(i -> i));
    boolean[] m = new boolean[n];
    for (long j = nTop; j < Math.min(n, nTop + keep); j++) {
      m[idx[(int) j]] = true;
    }
    return m;
  }

  /**
   * The generic sparsify → consensus → combine of methods.md §1, given each model's mask and the
   * per-entry multiplier of kept values (rescale).
   */
  public static double[] combine(double[] base, double[][] models, double[] w, boolean[][] masks, double[][] scale,
      boolean consensus, boolean normalize, double lambda) {
    int n = base.length;
    int T = models.length;
    double[] out = new double[n];
    double wSum = Arrays.stream(w).sum();
    for (int i = 0; i < n; i++) {
      double[] d = new double[T];
      double sum = 0;
      for (int t = 0; t < T; t++) {
        d[t] = masks[t][i] ? w[t] * (models[t][i] - base[i]) * scale[t][i] : 0;
        sum += d[t];
      }
      double mixed = 0;
      double div = 0;
      if (consensus) {
        double s = sum >= 0 ? 1 : -1;
        for (int t = 0; t < T; t++) {
          if (d[t] != 0 && Math.signum(d[t]) == s) {
            mixed += d[t];
            div += w[t];
          }
        }
        if (div == 0) {
          div = 1;
        }
      } else {
        for (int t = 0; t < T; t++) {
          mixed += d[t];
        }
        div = Math.abs(wSum) < 1e-8 ? 1 : wSum;
      }
      out[i] = base[i] + lambda * (normalize ? mixed / div : mixed);
    }
    return out;
  }
}
