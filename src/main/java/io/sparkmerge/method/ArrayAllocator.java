package io.sparkmerge.method;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a method's per-chunk output arrays come from: fresh off-heap memory, or the runner's pool of
 * buffers reused from chunk to chunk (fresh memory costs a page fault per 4 KiB). The runner owns and
 * frees what it hands out, as it does the chunk's inputs.
 */
@FunctionalInterface
public interface ArrayAllocator {
  /** Fresh, uninitialised memory. */
  ArrayAllocator FRESH = (type, rows, cols) -> Nd4j.createUninitialized(type, rows, cols);

  /** A c-order {@code [rows, cols]} array of {@code type} with undefined contents. */
  INDArray create(DataType type, long rows, long cols);
}
