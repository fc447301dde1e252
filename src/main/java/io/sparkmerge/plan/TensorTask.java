package io.sparkmerge.plan;

import io.sparkmerge.io.DType;
import io.sparkmerge.param.ResolvedParams;
import java.io.Serializable;
import java.util.List;

/**
 * The work for one output tensor: which method merges it with which resolved parameters, or, for
 * integer/bool tensors, which input it is copied from unchanged.
 *
 * @param name the tensor's name (the same in every input and in the output)
 * @param shape its shape
 * @param outDtype the dtype written to the output
 * @param method the registry name of the method that merges it (null for a raw copy)
 * @param global method-wide parameters resolved for this tensor
 * @param perModel per-model parameters resolved for this tensor, one per non-base model
 * @param copyFrom -1 when merged; otherwise the input copied as raw bytes (0 = base if any, else models[0]; see MergePlan#rawSource)
 * @param position the tensor's position t in the model (methods.md §0)
 * @param readBytes the bytes every task reads for this tensor, over all inputs
 * @param cost the planner's cost estimate (bytes moved plus compute)
 * @param modelIndices for slices: the plan models this tensor merges, in slice order (null: all of them)
 * @param sourceNames for slices: the input tensor names, [0] the base's (null when the base is not read),
 *     then one per model of {@code modelIndices} (null: every input has the output's name)
 */
public record TensorTask(
    String name,
    long[] shape,
    DType outDtype,
    String method,
    ResolvedParams global,
    List<ResolvedParams> perModel,
    int copyFrom,
    double position,
    long readBytes,
    double cost,
    int[] modelIndices,
    String[] sourceNames) implements Serializable {

  public TensorTask(String name, long[] shape, DType outDtype, String method, ResolvedParams global,
      List<ResolvedParams> perModel, int copyFrom, double position, long readBytes, double cost) {
    this(name, shape, outDtype, method, global, perModel, copyFrom, position, readBytes, cost, null, null);
  }

  /** How many models this tensor merges (of the plan's {@code planModels}). */
  public int modelCount(int planModels) {
    return modelIndices == null ? planModels : modelIndices.length;
  }

  /** The plan model index of this tensor's i-th model. */
  public int modelIndex(int i) {
    return modelIndices == null ? i : modelIndices[i];
  }

  /** The tensor name read from this tensor's i-th model. */
  public String modelSource(int i) {
    return sourceNames == null ? name : sourceNames[i + 1];
  }

  /** The tensor name read from the base, or null when a slice's base is not read. */
  public String baseSource() {
    return sourceNames == null ? name : sourceNames[0];
  }

  public long numel() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  public long outBytes() {
    return numel() * outDtype.size();
  }

  public boolean isRawCopy() {
    return copyFrom >= 0;
  }
}
