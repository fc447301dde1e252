package io.sparkmerge.method;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A block of whole rows of one tensor, decoded to the compute dtype, for every input model.
 *
 * <p>Arrays are 2-D {@code [rows, rowLength]} views of the tensor's rows {@code firstRow ..
 * firstRow + rows - 1}; a 0-D or 1-D tensor is one row. {@code firstElement} is the flat (row-major)
 * index of the chunk's first element in the whole tensor, which methods use for deterministic
 * per-element randomness and tie-breaking. The runner owns and closes the arrays.
 *
 * @param base the base model's rows, or null when the method has no base
 * @param models the rows of each model under {@code models:}, in config order
 * @param masks per model, the same rows of a given binary mask (a side input: 0/1 in the compute
 *     dtype), or null (no model has one; an entry is null for a model without one)
 * @param allocator where the method's output arrays for this chunk come from ({@link #newOutput})
 */
public record TensorChunk(long firstRow, long firstElement, INDArray base, INDArray[] models, INDArray[] masks,
    ArrayAllocator allocator) {

  public TensorChunk(long firstRow, long firstElement, INDArray base, INDArray[] models) {
    this(firstRow, firstElement, base, models, null);
  }

  public TensorChunk(long firstRow, long firstElement, INDArray base, INDArray[] models, INDArray[] masks) {
    this(firstRow, firstElement, base, models, masks, ArrayAllocator.FRESH);
  }

  /** Model t's given mask rows, or null. */
  public INDArray mask(int t) {
    return masks == null ? null : masks[t];
  }

  public int rows() {
    return (int) models[0].size(0);
  }

  public long rowLength() {
    return models[0].size(1);
  }

  /** A new contiguous c-order array shaped like the chunk's arrays ({@code [rows, rowLength]}), from the allocator. */
  public INDArray newOutput(DataType type) {
    return allocator.create(type, rows(), rowLength());
  }

  public long length() {
    return models[0].length();
  }
}
