package io.sparkmerge.method;

/**
 * A method's estimate for one tensor ({@link MergeMethod#cost}), for planning and {@code --dry-run}.
 *
 * @param workingBytes working memory beyond the input chunks themselves
 * @param computeFlops relative compute cost beyond reading the tensor (the planner adds the bytes read);
 *     SVD methods give ≈ m·n·min(m,n) × the number of SVDs they run
 * @param sweepBytesPerElement what a λ sweep holds beyond one merge, per chunk element (the float64 Δ
 *     that {@link DeltaMerge#mergeScaled} keeps across the candidates: 8; 0 for methods that hold nothing more)
 */
public record Cost(long workingBytes, double computeFlops, int sweepBytesPerElement) {
  public static final Cost NONE = new Cost(0, 0);

  public Cost(long workingBytes, double computeFlops) {
    this(workingBytes, computeFlops, 0);
  }

  /** This cost for a method whose λ sweep keeps {@code bytes} more per chunk element. */
  public Cost withSweepBytesPerElement(int bytes) {
    return new Cost(workingBytes, computeFlops, bytes);
  }

  public static Cost memory(long workingBytes) {
    return new Cost(workingBytes, 0);
  }
}
