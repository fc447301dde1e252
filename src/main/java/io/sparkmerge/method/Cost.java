package io.sparkmerge.method;

/**
 * A method's estimate for one tensor ({@link MergeMethod#cost}), for planning and {@code --dry-run}.
 *
 * @param workingBytes working memory beyond the input chunks themselves
 * @param computeFlops relative compute cost beyond reading the tensor (the planner adds the bytes read);
 *     SVD methods give ≈ m·n·min(m,n) × the number of SVDs they run
 */
public record Cost(long workingBytes, double computeFlops) {
  public static final Cost NONE = new Cost(0, 0);

  public static Cost memory(long workingBytes) {
    return new Cost(workingBytes, 0);
  }
}
