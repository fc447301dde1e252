package io.sparkmerge.job;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The driver's state of one exact distributed selection: the k-th largest magnitude over entries
 * spread across partitions, found without collecting them. Magnitudes are ordered by their IEEE bit
 * patterns (monotonic for non-negative values): 31 bits at float precision, 63 at double. Each round
 * narrows a bit prefix: executors histogram the next {@link #BITS} bits of the entries under the
 * prefix, the driver merges the histograms and keeps the bucket holding the k-th largest. When that
 * bucket holds at most {@link #exactLimit} entries, one last round collects just those keys and the
 * driver picks the exact one; a full-width prefix is itself the answer.
 */
public final class MagnitudeSelection implements Serializable {
  static final int BITS = 12;

  private final int width;
  private final long exactLimit;
  private long prefix;
  private int prefixBits;
  /** Rank of the answer among the entries under the prefix, counted from the largest (1-based). */
  private long remaining;
  private boolean collecting;
  private boolean done;
  private long answer;

  /**
   * @param floatKeys whether magnitudes are compared at float precision
   * @param k the rank of the wanted magnitude from the largest (1-based); at most the number of entries
   */
  MagnitudeSelection(boolean floatKeys, long k, long exactLimit) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be ≥ 1, got " + k);
    }
    this.width = floatKeys ? 31 : 63;
    this.remaining = k;
    this.exactLimit = exactLimit;
  }

  /** The ordered key of a magnitude |τ| (≥ 0) at this selection's precision. */
  long key(double magnitude) {
    return width == 31 ? Float.floatToRawIntBits((float) magnitude) & 0x7fffffffL : Double.doubleToRawLongBits(magnitude);
  }

  boolean done() {
    return done;
  }

  boolean collecting() {
    return collecting;
  }

  /** Buckets of the next histogram round. */
  int buckets() {
    return 1 << Math.min(BITS, width - prefixBits);
  }

  /** Whether an entry is under the current prefix (counts in this round). */
  boolean matches(long key) {
    return prefixBits == 0 || (key >>> (width - prefixBits)) == prefix;
  }

  /** The histogram bucket of a matching key. */
  int bucket(long key) {
    int b = Math.min(BITS, width - prefixBits);
    return (int) ((key >>> (width - prefixBits - b)) & ((1L << b) - 1));
  }

  /** Narrows the prefix with a round's merged histogram. */
  void refine(long[] histogram) {
    int b = Math.min(BITS, width - prefixBits);
    long above = 0;
    for (int i = histogram.length - 1; i >= 0; i--) {
      if (above + histogram[i] >= remaining) {
        remaining -= above;
        prefix = (prefix << b) | i;
        prefixBits += b;
        if (prefixBits == width) {
          answer = prefix;
          done = true;
        } else if (histogram[i] <= exactLimit) {
          collecting = true;
        }
        return;
      }
      above += histogram[i];
    }
    throw new IllegalStateException("the histograms hold " + above + " entries, fewer than the rank " + remaining
        + " sought; the inputs changed during the selection");
  }

  /** Ends the selection with every key under the prefix (at most the exact limit, from all partitions). */
  void finish(long[] keys) {
    if (keys.length < remaining) {
      throw new IllegalStateException("collected " + keys.length + " keys, fewer than the rank " + remaining + " sought");
    }
    long[] sorted = keys.clone();
    Arrays.sort(sorted);
    answer = sorted[(int) (sorted.length - remaining)];
    done = true;
  }

  /** The k-th largest magnitude. */
  double threshold() {
    if (!done) {
      throw new IllegalStateException("selection not finished");
    }
    return width == 31 ? Float.intBitsToFloat((int) answer) : Double.longBitsToDouble(answer);
  }
}
