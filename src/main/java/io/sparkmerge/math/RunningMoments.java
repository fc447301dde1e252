package io.sparkmerge.math;

import java.io.Serializable;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Running statistics of a stream of values in double: count, mean and M2 (Σ(x − mean)²) combined
 * block by block with Chan et al.'s parallel formula (each block's own mean and M2 taken in two
 * passes), so the variance of a billion float32 values does not lose its digits to Σx² − n·mean²;
 * plus min, max, Σx², zeros and non-finite values (NaN/Inf are counted and kept out of the rest).
 */
public final class RunningMoments implements Serializable {
  /** Values are taken from arrays in blocks of this many elements. */
  public static final int BLOCK = 1 << 13;

  long numel;
  long count;
  double mean;
  double m2;
  double min = Double.POSITIVE_INFINITY;
  double max = Double.NEGATIVE_INFINITY;
  double sumSq;
  long zeros;
  long nonfinite;

  /** Adds every value of a contiguous FLOAT or DOUBLE array (e.g. a chunk's rows). */
  public void add(INDArray a) {
    double[] buf = new double[(int) Math.min(BLOCK, Math.max(1, a.length()))];
    for (long from = 0; from < a.length(); from += BLOCK) {
      int n = (int) Math.min(BLOCK, a.length() - from);
      copy(a, from, n, buf);
      add(buf, n);
    }
  }

  /** Copies elements [from, from + n) of a contiguous FLOAT or DOUBLE array into out, as doubles. */
  public static void copy(INDArray a, long from, int n, double[] out) {
    Blocks.read(a, from, out, n);
  }

  /** Adds v[0..n). */
  public void add(double[] v, int n) {
    long c = 0;
    double s = 0;
    for (int i = 0; i < n; i++) {
      double x = v[i];
      if (Double.isFinite(x)) {
        c++;
        s += x;
      }
    }
    numel += n;
    nonfinite += n - c;
    if (c == 0) {
      return;
    }
    double bm = s / c;
    double bm2 = 0;
    double sq = 0;
    for (int i = 0; i < n; i++) {
      double x = v[i];
      if (Double.isFinite(x)) {
        double d = x - bm;
        bm2 += d * d;
        sq += x * x;
        if (x < min) {
          min = x;
        }
        if (x > max) {
          max = x;
        }
        if (x == 0) {
          zeros++;
        }
      }
    }
    combine(c, bm, bm2);
    sumSq += sq;
  }

  private void combine(long cb, double mb, double m2b) {
    long n = count + cb;
    double delta = mb - mean;
    mean += delta * cb / n;
    m2 += m2b + delta * delta * ((double) count * cb / n);
    count = n;
  }

  public long numel() {
    return numel;
  }

  /** Mean of the finite values (NaN when there are none). */
  public double mean() {
    return count == 0 ? Double.NaN : min == max ? min : mean;
  }

  /** Population variance of the finite values; exactly 0 for a constant tensor (no rounding residue of the mean). */
  public double variance() {
    return count == 0 ? Double.NaN : min == max ? 0 : m2 / count;
  }

  public double min() {
    return count == 0 ? Double.NaN : min;
  }

  public double max() {
    return count == 0 ? Double.NaN : max;
  }

  /** Σx² of the finite values. */
  public double sumOfSquares() {
    return sumSq;
  }

  public double l2() {
    return Math.sqrt(sumSq);
  }

  public double zeroFraction() {
    return numel == 0 ? 0 : (double) zeros / numel;
  }

  public long nonfinite() {
    return nonfinite;
  }
}
