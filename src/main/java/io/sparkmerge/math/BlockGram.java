package io.sparkmerge.math;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Gram matrices of a chunk's arrays (optionally minus the base), accumulated in double precision block by block. */
public final class BlockGram {
  private BlockGram() {}

  /** G[i][j] += ⟨a_i, a_j⟩ over the whole chunk. */
  public static void add(INDArray[] arrays, double[][] g) {
    add(arrays, null, g);
  }

  /** G[i][j] += ⟨a_i − base, a_j − base⟩ over the whole chunk (base may be null). */
  public static void add(INDArray[] arrays, INDArray base, double[][] g) {
    long len = arrays[0].length();
    int block = Blocks.BLOCK;
    double[][] x = new double[arrays.length][(int) Math.min(block, len)];
    double[] b = base == null ? null : new double[x[0].length];
    for (long from = 0; from < len; from += block) {
      int n = (int) Math.min(block, len - from);
      if (b != null) {
        Blocks.read(base, from, b, n);
      }
      for (int i = 0; i < arrays.length; i++) {
        Blocks.read(arrays[i], from, x[i], n);
        if (b != null) {
          for (int k = 0; k < n; k++) {
            x[i][k] -= b[k];
          }
        }
      }
      Spherical.accumulateGram(x, n, g);
    }
  }
}
