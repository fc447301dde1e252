package io.sparkmerge.method;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A tensor merge of the form θ = θ₀ + λ·U whose update U does not depend on λ (the task-arithmetic
 * family's Δ, the subspace methods' M). A sweep over λ begins one merge and asks it for every λ at
 * once: the expensive part (selections, sign election, random masks, SVDs) is done once per chunk, and
 * each candidate's values are, bit for bit, what a single merge with that λ computes.
 */
public interface ScaledMerge extends TensorMerge {

  /** Receives the merged chunk of candidate {@code k}; the runner owns and closes the array. */
  interface CandidateSink {
    void accept(int k, INDArray merged);
  }

  /**
   * Merges one chunk for each λ of {@code lambdas}, handing each result to {@code sink} as soon as it is
   * computed (so only one candidate's output is held at a time); result k equals {@link #merge} of a
   * merge begun with λ = lambdas[k] and otherwise the same context.
   */
  void mergeScaled(TensorChunk chunk, double[] lambdas, CandidateSink sink);
}
