package io.sparkmerge.math;

/**
 * The pairwise sums of two task vectors' entries behind their cosine and sign-conflict share, shared by
 * {@code stats} (analysis.TensorStats) and a merge's report (exec.MergeStatistics): Σ x·y over the finite
 * products, the entries where both are non-zero, and among those the ones of opposite sign.
 */
public final class TaskVectorPairs {
  private TaskVectorPairs() {}

  /**
   * Adds entries 0 .. n − 1 of x and y to {@code sums} = {Σ x·y, both non-zero, opposite signs}. The
   * common case — every product finite — sums without a test per entry (the same additions in the same
   * order, so the same double); a non-finite block sum is then summed again skipping non-finite products.
   * The counts are branch-free: the sign of a product is a coin flip for the branch predictor.
   */
  public static void add(double[] x, double[] y, int n, double[] sums) {
    double d = 0;
    long both = 0;
    long conflict = 0;
    for (int i = 0; i < n; i++) {
      double p = x[i] * y[i];
      d += p;
      boolean nonzero = x[i] != 0 & y[i] != 0;
      both += nonzero ? 1 : 0;
      conflict += nonzero & p < 0 ? 1 : 0;
    }
    if (!Double.isFinite(d)) {
      d = finiteProducts(x, y, n);
    }
    sums[0] += d;
    sums[1] += both;
    sums[2] += conflict;
  }

  /** Σ x·y over the finite products only, in order. */
  private static double finiteProducts(double[] x, double[] y, int n) {
    double d = 0;
    for (int i = 0; i < n; i++) {
      double p = x[i] * y[i];
      if (Double.isFinite(p)) {
        d += p;
      }
    }
    return d;
  }
}
