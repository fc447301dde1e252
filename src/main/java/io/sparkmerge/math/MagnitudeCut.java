package io.sparkmerge.math;

/**
 * The set of the j largest magnitudes of a tensor under the total order "larger magnitude first,
 * then lower flat index" (methods.md §1: TIES' tie rule). Found by selection, never by sorting:
 * float keys by a two-level radix select on their bits (two counting passes, no data movement;
 * non-negative floats order like their bit patterns), double keys by quickselect. Membership is then
 * decided in flat index order: an entry is in the set when its magnitude is above the threshold, or
 * equal to it and among the first {@code ties} such entries seen.
 */
public final class MagnitudeCut {
  public static final MagnitudeCut NONE = new MagnitudeCut(Double.POSITIVE_INFINITY, 0, false);
  public static final MagnitudeCut ALL = new MagnitudeCut(Double.NEGATIVE_INFINITY, 0, true);

  private final double threshold;
  private final long ties;
  private final boolean all;
  private long tiesSeen;

  private MagnitudeCut(double threshold, long ties, boolean all) {
    this.threshold = threshold;
    this.ties = ties;
    this.all = all;
  }

  /** The top-j set of the n magnitudes in {@code keys} (the buffer is reordered). */
  public static MagnitudeCut top(double[] keys, int n, long j) {
    if (j <= 0) {
      return NONE;
    }
    if (j >= n) {
      return ALL;
    }
    // j-th largest = element of ascending rank n - j
    double v = select(keys, n, (int) (n - j));
    long greater = 0;
    for (int i = 0; i < n; i++) {
      if (keys[i] > v) {
        greater++;
      }
    }
    return new MagnitudeCut(v, j - greater, false);
  }

  /**
   * The top-j sets of n float magnitudes given as their bit patterns ({@code Float.floatToIntBits} of
   * non-negative floats, so int order is magnitude order; NaN sorts above +Inf), by a two-level radix
   * select on the bits: its two counting passes fed separately (chunk
   * by chunk, over two preparation passes of a tensor), so the keys need not be held. For each requested
   * size j it keeps two 2^16-bucket histograms (high 16 bits, then low 16 bits inside the boundary
   * bucket), so its memory is O(1) in the tensor's size (the key array was 4 bytes per element).
   */
  public static final class FloatBitsSelection {
    private final long n;
    private final long[] sizes;
    private final int[] high = new int[1 << 16];
    private final int[][] low;
    private final int[] boundary;
    private final long[] below;
    private boolean highDone;

    public FloatBitsSelection(long n, long... sizes) {
      this.n = n;
      this.sizes = sizes.clone();
      this.low = new int[sizes.length][];
      this.boundary = new int[sizes.length];
      this.below = new long[sizes.length];
    }

    /** First pass, entries in any order: {@code Float.floatToIntBits} of non-negative magnitudes. */
    public void countHigh(int[] bits, int k) {
      for (int i = 0; i < k; i++) {
        high[bits[i] >>> 16]++;
      }
    }

    /** Second pass over the same entries. */
    public void countLow(int[] bits, int k) {
      if (!highDone) {
        for (int c = 0; c < sizes.length; c++) {
          long rank = n - sizes[c];
          if (sizes[c] <= 0 || sizes[c] >= n) {
            continue;
          }
          int hi = 0;
          long b = 0;
          while (b + high[hi] <= rank) {
            b += high[hi++];
          }
          boundary[c] = hi;
          below[c] = b;
          low[c] = new int[1 << 16];
        }
        highDone = true;
      }
      for (int c = 0; c < sizes.length; c++) {
        int[] h = low[c];
        if (h == null) {
          continue;
        }
        int hi = boundary[c];
        for (int i = 0; i < k; i++) {
          int b = bits[i];
          if (b >>> 16 == hi) {
            h[b & 0xFFFF]++;
          }
        }
      }
    }

    /** The top-{@code sizes[c]} set, after both passes. */
    public MagnitudeCut cut(int c) {
      long j = sizes[c];
      if (j <= 0) {
        return NONE;
      }
      if (j >= n) {
        return ALL;
      }
      long rank = n - j;
      int[] h = low[c];
      long b = below[c];
      int lo = 0;
      while (b + h[lo] <= rank) {
        b += h[lo++];
      }
      long atOrBelow = b + h[lo];
      return new MagnitudeCut(Float.intBitsToFloat((boundary[c] << 16) | lo), j - (n - atOrBelow), false);
    }
  }

  /**
   * Membership of the next n entries in flat order, their magnitudes being |tau[i]| (rounded to float
   * when {@code floatKeys}): {@code keep[i] = in set}. Same result as n calls of {@link #next}.
   */
  public void mark(double[] tau, int n, boolean floatKeys, boolean[] keep) {
    if (this == ALL || this == NONE) {
      java.util.Arrays.fill(keep, 0, n, all);
      return;
    }
    double thr = threshold;
    for (int i = 0; i < n; i++) {
      double k = key(tau[i], floatKeys);
      boolean in = k > thr; // no branch on the common, unpredictable comparison
      if (k == thr) { // rare: ties at the threshold, in flat order
        in = tiesSeen < ties;
        tiesSeen += in ? 1 : 0;
      }
      keep[i] = in;
    }
  }

  /** {@code keep[i] &= !in set} for the next n entries in flat order (counters advance as in {@link #mark}). */
  public void exclude(double[] tau, int n, boolean floatKeys, boolean[] keep) {
    if (this == NONE) {
      return;
    }
    for (int i = 0; i < n; i++) {
      keep[i] &= !next(key(tau[i], floatKeys));
    }
  }

  /** The magnitude key of an entry: |tau|, rounded to float when computing in float32. */
  public static double key(double tau, boolean floatKeys) {
    double a = Math.abs(tau);
    return floatKeys ? (double) (float) a : a;
  }

  /** Whether the next entry in flat order, of magnitude {@code key}, is in the set. */
  public boolean next(double key) {
    if (all) {
      return true;
    }
    if (key > threshold) {
      return true;
    }
    if (key == threshold && tiesSeen < ties) {
      tiesSeen++;
      return true;
    }
    return false;
  }

  /** A fresh copy (membership counters restart), for a second pass over the same tensor. */
  public MagnitudeCut restart() {
    return this == NONE || this == ALL ? this : new MagnitudeCut(threshold, ties, false);
  }

  /** The value of ascending rank {@code k} (0-based) among the first n entries; reorders a. */
  public static double select(double[] a, int n, int k) {
    int lo = 0;
    int hi = n - 1;
    while (hi > lo) {
      int mid = (lo + hi) >>> 1;
      // median of three as pivot keeps sorted and reversed inputs linear
      if (a[mid] < a[lo]) {
        swap(a, mid, lo);
      }
      if (a[hi] < a[lo]) {
        swap(a, hi, lo);
      }
      if (a[hi] < a[mid]) {
        swap(a, hi, mid);
      }
      double pivot = a[mid];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (a[i] < pivot) {
          i++;
        }
        while (a[j] > pivot) {
          j--;
        }
        if (i <= j) {
          swap(a, i, j);
          i++;
          j--;
        }
      }
      if (k <= j) {
        hi = j;
      } else if (k >= i) {
        lo = i;
      } else {
        return a[k];
      }
    }
    return a[lo];
  }

  private static void swap(double[] a, int i, int j) {
    double t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
