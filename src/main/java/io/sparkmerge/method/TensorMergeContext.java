package io.sparkmerge.method;

import io.sparkmerge.math.InputRounding;
import io.sparkmerge.math.Shapes;
import io.sparkmerge.param.ResolvedParams;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Everything a method knows about the tensor it merges, resolved on the driver: the tensor's name
 * and full shape, the compute dtype, the seed, the parameter values that apply to this tensor
 * (methods.md §0 precedence already applied, defaults filled in), the side inputs' values and how
 * operations round.
 *
 * @param tensorName the tensor's name in the output checkpoint
 * @param shape the tensor's full shape
 * @param computeType FLOAT or DOUBLE
 * @param seed the config's seed (randomness is drawn per (seed, tensor name, model index))
 * @param hasBase whether chunks carry the base model's rows
 * @param global method-wide parameters (e.g. normalize, lambda)
 * @param perModel per-model parameters (e.g. weight, density), one per entry of {@code models:}
 * @param sides the side inputs' values per model ({@link SideInput})
 * @param rounding {@link InputRounding#NONE} (the compute dtype throughout), or the inputs' 16-bit dtype
 *     every operation rounds to ({@code compute_dtype: input}; only for methods whose
 *     {@link MergeMethod#roundsLikeTorch()} is true)
 */
public record TensorMergeContext(
    String tensorName,
    long[] shape,
    DataType computeType,
    long seed,
    boolean hasBase,
    ResolvedParams global,
    List<ResolvedParams> perModel,
    SideValues sides,
    InputRounding rounding) {

  /** A context without side inputs, in the compute dtype throughout. */
  public TensorMergeContext(String tensorName, long[] shape, DataType computeType, long seed, boolean hasBase,
      ResolvedParams global, List<ResolvedParams> perModel) {
    this(tensorName, shape, computeType, seed, hasBase, global, perModel, SideValues.none(perModel.size()), InputRounding.NONE);
  }

  public int modelCount() {
    return perModel.size();
  }

  public long numel() {
    return Shapes.numel(shape);
  }

  /** The same tensor with other parameters (a method delegating to another, e.g. lewis to its base method). */
  public TensorMergeContext withParams(ResolvedParams newGlobal, List<ResolvedParams> newPerModel) {
    return new TensorMergeContext(tensorName, shape, computeType, seed, hasBase, newGlobal, newPerModel, sides, rounding);
  }

  /** The same tensor with these side-input values. */
  public TensorMergeContext withSides(SideValues newSides) {
    return new TensorMergeContext(tensorName, shape, computeType, seed, hasBase, global, perModel, newSides, rounding);
  }

  /** The same tensor with operations rounded so. */
  public TensorMergeContext withRounding(InputRounding newRounding) {
    return new TensorMergeContext(tensorName, shape, computeType, seed, hasBase, global, perModel, sides, newRounding);
  }
}
