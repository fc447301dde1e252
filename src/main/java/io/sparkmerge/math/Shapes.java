package io.sparkmerge.math;

/** Element counts of tensor shapes. */
public final class Shapes {
  private Shapes() {}

  /** The number of elements of a tensor of this shape (1 for a scalar). */
  public static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
