package io.sparkmerge.method;

/** How the runner may split a tensor for a method ({@link MergeMethod#chunking()}), from the finest to the coarsest. */
public enum Chunking {
  /**
   * Blocks of whole rows, and a row wider than the chunk budget (a large 1-D tensor) in runs of its
   * elements: for methods whose output at an entry depends on no other entry of the same row.
   */
  ELEMENTS,
  /** Blocks of whole rows (of the first dimension); 0-D and 1-D tensors are one row (per-row methods). */
  ROWS,
  /** The whole tensor in one chunk (e.g. methods that take an SVD of a 2-D tensor). */
  WHOLE_TENSOR
}
