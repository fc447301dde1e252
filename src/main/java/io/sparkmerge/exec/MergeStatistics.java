package io.sparkmerge.exec;

import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.TaskVectorPairs;
import io.sparkmerge.method.TensorChunk;

/**
 * The merge report's by-products for one tensor, gathered chunk by chunk in the merge pass from the
 * arrays it already holds (no second read of the inputs): per model i, ‖τ_i‖² with τ_i = θ_i − θ_base;
 * per pair, Σ τ_iτ_j (the cosine), the entries where both are non-zero and where their signs differ
 * (the sign-conflict share); and ‖θ_merged − θ_base‖². Sums are in double, over the values the method
 * saw (the compute dtype, before the output's rounding). Read-only: the merge's arrays and output are
 * untouched. Reported as counters under {@link #PREFIX}, which the manifest writes as the tensor's
 * {@code stats} (docs/reports.md).
 */
public final class MergeStatistics {
  public static final String PREFIX = "stats/";
  /** Blocks.read's block: its scratch then fits without growing. */
  private static final int BLOCK = Blocks.BLOCK;

  private final int m;
  private final double[] tauSq;
  /** Per pair i < j: {Σ τ_iτ_j, both non-zero, opposite signs} (math.TaskVectorPairs). */
  private final double[][][] pairs;
  private double deltaSq;
  private long n;
  private final double[][] tau;
  private final double[] base = new double[BLOCK];
  private final double[] merged = new double[BLOCK];

  public MergeStatistics(int models) {
    this.m = models;
    this.tauSq = new double[models];
    this.pairs = new double[models][models][3];
    this.tau = new double[models][BLOCK];
  }

  /** Adds one chunk: its base and model rows and the method's merged rows (same shape). No base: nothing to add. */
  public void add(TensorChunk chunk, INDArray mergedRows) {
    if (chunk.base() == null || chunk.models().length != m || mergedRows.length() != chunk.base().length()) {
      return;
    }
    INDArray[] in = new INDArray[m + 2];
    INDArray[] dense = new INDArray[m + 2];
    in[0] = chunk.base();
    in[1] = mergedRows;
    System.arraycopy(chunk.models(), 0, in, 2, m);
    try {
      for (int a = 0; a < in.length; a++) {
        dense[a] = dense(in[a]);
      }
      long len = chunk.base().length();
      for (long from = 0; from < len; from += BLOCK) {
        int k = (int) Math.min(BLOCK, len - from);
        Blocks.read(dense[0], from, base, k);
        Blocks.read(dense[1], from, merged, k);
        for (int i = 0; i < m; i++) {
          Blocks.read(dense[i + 2], from, tau[i], k);
          for (int e = 0; e < k; e++) {
            tau[i][e] -= base[e];
          }
        }
        accumulate(k);
      }
    } finally {
      for (int a = 0; a < in.length; a++) {
        if (dense[a] != null && dense[a] != in[a]) {
          dense[a].close();
        }
      }
    }
  }

  /** The array itself when its elements lie in row-major order in its buffer (FLOAT or DOUBLE), else a dense copy. */
  private static INDArray dense(INDArray a) {
    boolean typed = a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE;
    if (typed && !a.isView() && a.ordering() == 'c') {
      return a;
    }
    return (typed ? a : a.castTo(DataType.DOUBLE)).dup('c');
  }

  private void accumulate(int k) {
    for (int e = 0; e < k; e++) {
      double d = merged[e] - base[e];
      deltaSq += d * d;
    }
    for (int i = 0; i < m; i++) {
      double[] ti = tau[i];
      double s = 0;
      for (int e = 0; e < k; e++) {
        s += ti[e] * ti[e];
      }
      tauSq[i] += s;
      for (int j = i + 1; j < m; j++) {
        TaskVectorPairs.add(ti, tau[j], k, pairs[i][j]);
      }
    }
    n += k;
  }

  /** The sums as counters: {@code stats/n}, {@code stats/delta_sq}, {@code stats/tau_sq/i}, {@code stats/dot/i/j}, ... */
  public Map<String, Double> counters() {
    Map<String, Double> c = new TreeMap<>();
    if (n == 0) {
      return c;
    }
    c.put(PREFIX + "n", (double) n);
    c.put(PREFIX + "delta_sq", deltaSq);
    for (int i = 0; i < m; i++) {
      c.put(PREFIX + "tau_sq/" + i, tauSq[i]);
      for (int j = i + 1; j < m; j++) {
        c.put(PREFIX + "dot/" + i + "/" + j, pairs[i][j][0]);
        c.put(PREFIX + "both_nonzero/" + i + "/" + j, pairs[i][j][1]);
        c.put(PREFIX + "sign_conflicts/" + i + "/" + j, pairs[i][j][2]);
      }
    }
    return c;
  }
}
