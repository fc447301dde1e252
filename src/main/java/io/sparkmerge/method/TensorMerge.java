package io.sparkmerge.method;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The merge of one tensor in progress. The runner feeds chunks in increasing row order: first
 * {@link #preparationPasses()} full passes to {@link #prepare}, then one full pass to {@link #merge}.
 * Implementations must give the same result whatever the chunk size.
 */
public interface TensorMerge extends AutoCloseable {

  /** Full passes over the tensor's chunks needed before the merge pass (0 for element-wise methods). */
  default int preparationPasses() {
    return 0;
  }

  /** Observes one chunk during preparation pass {@code pass} (0-based). Must not keep the chunk's arrays. */
  default void prepare(int pass, TensorChunk chunk) {}

  /**
   * Merges one chunk. Returns a new array of the chunk's shape ({@code [rows, rowLength]}) in the
   * compute dtype; the runner owns and closes it. Must not modify the chunk's arrays.
   */
  INDArray merge(TensorChunk chunk);

  /**
   * Counts this tensor's merge reports after its last chunk (e.g. kept entries per model); the job
   * stores them per tensor and sums them over tensors for {@link MergeMethod#summarize}.
   */
  default java.util.Map<String, Double> counters() {
    return java.util.Map.of();
  }

  /**
   * Receives the binary masks a merge applies, block by block in flat order (for {@code sparkmerge
   * masks}): {@code keep[t][i]} for the entries {@code flatFrom .. flatFrom + n - 1} of model t.
   * The arrays are reused after the call.
   */
  interface MaskObserver {
    void block(long flatFrom, int n, boolean[][] keep);
  }

  /**
   * Asks the merge to report the masks it applies to {@code observer} during {@link #merge}; returns
   * false when the method applies no per-entry mask (then nothing is reported).
   */
  default boolean observeMasks(MaskObserver observer) {
    return false;
  }

  /** How the runner may split this tensor, given the method's {@link MergeMethod#chunking()}: by default that. */
  default Chunking chunking(Chunking method) {
    return method;
  }

  /** Releases per-tensor state (off-heap buffers, selections). */
  @Override
  default void close() {}
}
