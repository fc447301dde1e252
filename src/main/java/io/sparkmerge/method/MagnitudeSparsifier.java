package io.sparkmerge.method;

import io.sparkmerge.math.MagnitudeCut;
import java.util.Arrays;

/**
 * Magnitude sparsification of one model's τ (methods.md §1): TIES keeps the top ⌊d·n⌋ entries by
 * |τ|; Breadcrumbs drops the top ⌊γ·n⌋ (outliers) and keeps the next ⌊d·n⌋ (differs from mergekit
 * when ⌊γ·n⌋ = 0, see methods.md). Ties at a threshold are broken by lower flat index. Magnitudes are
 * compared at the compute precision: in float32 they are rounded to float and selected key-free by a
 * radix select over two counting passes; in float64 they are held (one double per entry) for quickselect.
 */
final class MagnitudeSparsifier implements Sparsifier {
  private final boolean outliers;
  private final double density;
  private final long numel;
  private final boolean floatKeys;
  private final long[] sizes;
  private MagnitudeCut.FloatBitsSelection selection;
  private double[] magnitudes;
  private int filled;
  private int[] bits = new int[0];
  private MagnitudeCut upper;
  private MagnitudeCut lower;

  /** @param outliers true for Breadcrumbs (drop the top γ first), false for TIES */
  MagnitudeSparsifier(boolean outliers, double density, double gamma, long numel, boolean floatKeys) {
    this.outliers = outliers;
    this.density = density;
    this.numel = numel;
    this.floatKeys = floatKeys;
    this.sizes = cutSizes(outliers, density, gamma, numel);
    if (floatKeys) {
      selection = new MagnitudeCut.FloatBitsSelection(numel, sizes);
    } else {
      magnitudes = new double[(int) numel];
    }
  }

  /**
   * The sizes of the top sets: {keep} for TIES, {drop, drop + keep} for Breadcrumbs (drop the nTop
   * largest, keep the next keepN).
   */
  static long[] cutSizes(boolean outliers, double density, double gamma, long n) {
    if (!outliers) {
      return new long[] {density >= 1 ? n : (long) Math.floor(density * n)};
    }
    long nTop = (long) Math.floor(gamma * n);
    long keepN = (long) Math.floor(density * n);
    long nBottom = n - keepN - nTop;
    if (nBottom < 0) {
      nTop += nBottom;
    }
    return new long[] {nTop, nTop + keepN};
  }

  @Override
  public int preparationPasses() {
    return floatKeys ? 2 : 1;
  }

  @Override
  public void prepare(int pass, long flat0, double[] tau, int n, int rowLength) {
    if (selection == null) {
      for (int i = 0; i < n; i++) {
        magnitudes[filled + i] = MagnitudeCut.key(tau[i], false);
      }
      filled += n;
      return;
    }
    if (bits.length < n) {
      bits = new int[n];
    }
    for (int i = 0; i < n; i++) {
      bits[i] = Float.floatToIntBits((float) Math.abs(tau[i]));
    }
    if (pass == 0) {
      selection.countHigh(bits, n);
    } else {
      selection.countLow(bits, n);
    }
  }

  @Override
  public void mask(long flat0, double[] tau, int n, int rowLength, boolean[] keep, double[] scale) {
    if (lower == null) {
      cut();
    }
    lower.mark(tau, n, floatKeys, keep);
    upper.exclude(tau, n, floatKeys, keep);
    Arrays.fill(scale, 0, n, 1.0);
  }

  /** The top sets, once the preparation passes have seen every entry (the double keys' buffer is reordered). */
  private void cut() {
    int n = (int) numel;
    if (!outliers) {
      upper = MagnitudeCut.NONE;
      lower = density >= 1 ? MagnitudeCut.ALL : top(n, 0);
    } else {
      upper = top(n, 0);
      lower = top(n, 1);
    }
    magnitudes = null;
    selection = null;
    bits = null;
  }

  private MagnitudeCut top(int n, int c) {
    return selection != null ? selection.cut(c) : MagnitudeCut.top(magnitudes, n, sizes[c]);
  }
}
