package io.sparkmerge.exec;

import io.sparkmerge.method.Chunking;

/**
 * How the runner cuts one tensor into chunks. Whole rows of the first dimension, as many as fit the chunk
 * budget; the whole tensor for {@link Chunking#WHOLE_TENSOR}; and for
 * {@link Chunking#ELEMENTS} methods a row wider than the budget (a 1-D tensor is one row) is
 * cut into runs of elements, each chunk one row of at most the budget, so executor memory stays
 * bounded by the chunk size whatever the tensor's shape.
 *
 * @param rows the tensor's rows; {@code rowLength} elements each
 * @param rowsPerChunk rows per chunk (row layout)
 * @param elementsPerChunk elements per chunk when rows are split, else 0
 */
record ChunkLayout(long rows, long rowLength, long rowsPerChunk, long elementsPerChunk) {

  static ChunkLayout of(long rows, long rowLength, Chunking chunking, long chunkBytes, int elem) {
    long budget = Math.max(1, chunkBytes / elem);
    if (chunking == Chunking.WHOLE_TENSOR) {
      return new ChunkLayout(rows, rowLength, rows, 0);
    }
    if (chunking == Chunking.ELEMENTS && rowLength > budget) {
      return new ChunkLayout(rows, rowLength, 1, budget);
    }
    return new ChunkLayout(rows, rowLength, Math.max(1, Math.min(rows, budget / Math.max(1, rowLength))), 0);
  }

  /** Whether the tensor is one chunk. */
  boolean single() {
    return elementsPerChunk == 0 && rowsPerChunk >= rows;
  }

  long count() {
    if (elementsPerChunk > 0) {
      return rows * ceil(rowLength, elementsPerChunk);
    }
    return ceil(rows, rowsPerChunk);
  }

  /** Flat (row-major) index of chunk c's first element. */
  long first(long c) {
    if (elementsPerChunk > 0) {
      long per = ceil(rowLength, elementsPerChunk);
      return (c / per) * rowLength + (c % per) * elementsPerChunk;
    }
    return c * rowsPerChunk * rowLength;
  }

  /** Rows of chunk c (1 when rows are split). */
  long chunkRows(long c) {
    return elementsPerChunk > 0 ? 1 : Math.min(rowsPerChunk, rows - c * rowsPerChunk);
  }

  /** Elements per row of chunk c. */
  long chunkCols(long c) {
    if (elementsPerChunk > 0) {
      long per = ceil(rowLength, elementsPerChunk);
      return Math.min(elementsPerChunk, rowLength - (c % per) * elementsPerChunk);
    }
    return rowLength;
  }

  private static long ceil(long a, long b) {
    return (a + b - 1) / b;
  }
}
