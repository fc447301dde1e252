package io.sparkmerge.math;

/**
 * The pairwise sums of two task vectors' entries behind their cosine and sign-conflict share, shared by
 * {@code stats} (analysis.TensorStats) and a merge's report (exec.MergeStatistics): Σ x·y over the finite
 * products, the entries where both are non-zero, and among those the ones of opposite sign.
 */
public final class TaskVectorPairs {
  private TaskVectorPairs() {}

  /** Adds entries 0 .. n − 1 of x and y to {@code sums} = {Σ x·y, both non-zero, opposite signs}. */
  public static void add(double[] x, double[] y, int n, double[] sums) {
    double d = 0;
    long both = 0;
    long conflict = 0;
    for (int i = 0; i < n; i++) {
      double p = x[i] * y[i];
      if (Double.isFinite(p)) {
        d += p;
      }
      if (x[i] != 0 && y[i] != 0) {
        both++;
        if (p < 0) {
          conflict++;
        }
      }
    }
    sums[0] += d;
    sums[1] += both;
    sums[2] += conflict;
  }
}
