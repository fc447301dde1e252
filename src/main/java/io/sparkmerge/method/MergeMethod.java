package io.sparkmerge.method;

import io.sparkmerge.param.ParamOwner;
import java.util.List;

/**
 * One merge method (methods.md), as pure math on ND4J arrays: it knows nothing of files or Spark.
 *
 * <p>The executor-side runner drives a method tensor by tensor: {@link #begin} once per output
 * tensor, then, for {@link TensorMerge#preparationPasses()} passes, every chunk of the tensor in
 * row order through {@link TensorMerge#prepare}, then every chunk again through
 * {@link TensorMerge#merge}. A chunk is a block of whole rows, or a run of one row's elements when a row is
 * wider than the chunk budget; methods that work per row, or need the whole tensor at once (SVD), say so
 * with {@link #chunking()}. What a method reads beyond
 * the checkpoints it declares in {@link #sideInputs()}; the driver supplies it before the merge.
 * How to add one: docs/architecture.md.
 */
public interface MergeMethod extends ParamOwner {

  // name() — the registry name used in configs ({@code merge_method: ties}) — and params() — the
  // parameters, with their defaults, scope and validation — come from ParamOwner.

  BaseUse baseUse();

  default Chunking chunking() {
    return Chunking.ELEMENTS;
  }

  /** The side inputs this method reads (given masks, task vectors, a whole-model threshold, importances). */
  default List<SideInput> sideInputs() {
    return List.of();
  }

  /**
   * Checks one tensor's model list and resolved parameters on the driver, before any data is read
   * (e.g. slerp needs exactly two models; a TIES density that keeps no entry of this tensor). Throws a
   * {@link io.sparkmerge.ConfigException} naming the method or the tensor, what is wrong and the fix.
   */
  default void validate(TensorMergeContext ctx) {}

  /** Working memory and compute to merge one tensor of this shape with this many models at the given element size. */
  default Cost cost(long[] shape, int modelCount, int elementSize) {
    return Cost.NONE;
  }

  /** What the method reports beside its tensors (manifest note, counter summary, masks). */
  default MethodReport report() {
    return MethodReport.NONE;
  }

  /**
   * Whether the method can reproduce mergekit's 16-bit arithmetic ({@code compute_dtype: input}):
   * it rounds every operation as {@link TensorMergeContext#rounding()} says, in mergekit's order, or
   * mergekit itself computes it in float32 (slerp) or in one operation (passthrough).
   */
  default boolean roundsLikeTorch() {
    return false;
  }

  /** Starts merging one tensor. The returned object holds per-tensor state and is closed after the last chunk. */
  TensorMerge begin(TensorMergeContext ctx);
}
