package io.sparkmerge.method;

/**
 * Step 1 of the task-arithmetic family (methods.md §1): which entries of one model's task vector τ
 * survive, and the factor each survivor is scaled by. Fed τ block by block in flat order: first
 * {@link #preparationPasses()} full passes over the tensor ({@link #prepare}), then one pass of
 * {@link #mask}; the masks depend on neither the block nor the chunk size. Implementations:
 * {@link MagnitudeSparsifier} (TIES, Breadcrumbs), {@link RandomSparsifier} (DARE, DELLA).
 */
interface Sparsifier {

  /** How task vectors are sparsified, by method. */
  enum Kind {
    /** Keep everything (task_arithmetic). */
    NONE,
    /** Keep the top-d fraction by magnitude (TIES). */
    MAGNITUDE,
    /** Bernoulli(d) (DARE). */
    RANDOM,
    /** Drop the top-γ outliers by magnitude, keep the next d (Model Breadcrumbs). */
    MAGNITUDE_OUTLIERS,
    /** Keep with probability d − ε + 2ε·(rank of |τ| in its row) (DELLA). */
    DELLA;

    /** DELLA ranks magnitudes within a row, so its rows are never split; the others select element by element. */
    Chunking chunking() {
      return this == DELLA ? Chunking.ROWS : Chunking.ELEMENTS;
    }
  }

  /** Full passes over the tensor before {@link #mask} (0: none). */
  int preparationPasses();

  /**
   * Observes a block of τ during preparation pass {@code pass}: entries {@code flat0 .. flat0 + n − 1}
   * of the tensor, whole rows of {@code rowLength}.
   */
  void prepare(int pass, long flat0, double[] tau, int n, int rowLength);

  /**
   * The block's mask after the preparation passes: {@code keep[i]}, and the factor {@code scale[i]}
   * the kept entry is multiplied by (1 unless rescaled). Blocks come in flat order, once each.
   */
  void mask(long flat0, double[] tau, int n, int rowLength, boolean[] keep, double[] scale);
}
