package io.sparkmerge.plan;

import io.sparkmerge.io.DType;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.math.Shapes;
import io.sparkmerge.method.SideValues;
import io.sparkmerge.param.ResolvedParams;
import java.io.Serializable;
import java.util.List;

/**
 * The work for one output tensor: which method merges it with which resolved parameters and side
 * inputs, or, for integer/bool tensors, which input it is copied from unchanged. Built with
 * {@link #builder}; a pre-pass changes its side inputs with {@link #withSides}.
 *
 * @param name the tensor's name in the output
 * @param shape its shape
 * @param outDtype the dtype written to the output
 * @param method the registry name of the method that merges it (null for a raw copy)
 * @param global method-wide parameters resolved for this tensor
 * @param perModel per-model parameters resolved for this tensor, one per model it merges
 * @param sides the side inputs' values for this tensor, one per model it merges (null for a raw copy)
 * @param rounding how the merge's operations round ({@code compute_dtype: input}; null for a raw copy)
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
    SideValues sides,
    InputRounding rounding,
    int copyFrom,
    double position,
    long readBytes,
    double cost,
    int[] modelIndices,
    String[] sourceNames) implements Serializable {

  public static Builder builder(String name, long[] shape, DType outDtype) {
    return new Builder(name, shape, outDtype);
  }

  /** The same task with these side-input values (a pre-pass's result); every other field carried over. */
  public TensorTask withSides(SideValues newSides) {
    return new TensorTask(name, shape, outDtype, method, global, perModel, newSides, rounding, copyFrom, position, readBytes,
        cost, modelIndices, sourceNames);
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
    return Shapes.numel(shape);
  }

  public long outBytes() {
    return numel() * outDtype.size();
  }

  public boolean isRawCopy() {
    return copyFrom >= 0;
  }

  /** Builds a {@link TensorTask}; a task is merged unless {@link #copyFrom} is set. */
  public static final class Builder {
    private final String name;
    private final long[] shape;
    private final DType outDtype;
    private String method;
    private ResolvedParams global;
    private List<ResolvedParams> perModel;
    private SideValues sides;
    private InputRounding rounding;
    private int copyFrom = -1;
    private double position;
    private long readBytes;
    private double cost;
    private int[] modelIndices;
    private String[] sourceNames;

    private Builder(String name, long[] shape, DType outDtype) {
      this.name = name;
      this.shape = shape;
      this.outDtype = outDtype;
    }

    /** Merged by this method with these resolved parameters and side inputs, its operations rounded so. */
    public Builder merge(String methodName, ResolvedParams globalParams, List<ResolvedParams> perModelParams, SideValues sideValues,
        InputRounding inputRounding) {
      this.method = methodName;
      this.global = globalParams;
      this.perModel = List.copyOf(perModelParams);
      this.sides = sideValues;
      this.rounding = inputRounding;
      return this;
    }

    /** Copied unchanged from this input (0 = the base if any, else the first model). */
    public Builder copyFrom(int input) {
      this.copyFrom = input;
      return this;
    }

    /** The bytes a task reads for the tensor and the planner's cost. */
    public Builder costs(long bytesRead, double estimatedCost) {
      this.readBytes = bytesRead;
      this.cost = estimatedCost;
      return this;
    }

    /** The tensor's position t in the model (methods.md §0). */
    public Builder position(double t) {
      this.position = t;
      return this;
    }

    /** Slices: the plan models merged and the tensor names read (see {@link TensorTask}). */
    public Builder sources(int[] indices, String[] names) {
      this.modelIndices = indices;
      this.sourceNames = names;
      return this;
    }

    public TensorTask build() {
      return new TensorTask(name, shape, outDtype, method, global, perModel, sides, rounding, copyFrom, position, readBytes, cost,
          modelIndices, sourceNames);
    }
  }
}
