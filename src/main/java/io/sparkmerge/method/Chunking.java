package io.sparkmerge.method;

/** How the runner may split a tensor for a method ({@link MergeMethod#chunking()}). */
public enum Chunking {
  /** Blocks of whole rows (of the first dimension); 0-D and 1-D tensors are one row. */
  ROWS,
  /** The whole tensor in one chunk (e.g. methods that take an SVD of a 2-D tensor). */
  WHOLE_TENSOR
}
