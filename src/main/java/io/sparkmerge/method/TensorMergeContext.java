package io.sparkmerge.method;

import io.sparkmerge.io.DType;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.param.ResolvedParams;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Everything a method knows about the tensor it merges, resolved on the driver: the tensor's name
 * and full shape, the compute dtype, the seed, and the parameter values that apply to this tensor
 * (methods.md §0 precedence already applied, defaults filled in).
 *
 * @param tensorName the tensor's name in the output checkpoint
 * @param shape the tensor's full shape
 * @param computeType FLOAT or DOUBLE
 * @param seed the config's seed (randomness is drawn per (seed, tensor name, model index))
 * @param hasBase whether chunks carry the base model's rows
 * @param global method-wide parameters (e.g. normalize, lambda)
 * @param perModel per-model parameters (e.g. weight, density), one per entry of {@code models:}
 */
public record TensorMergeContext(
    String tensorName,
    long[] shape,
    DataType computeType,
    long seed,
    boolean hasBase,
    ResolvedParams global,
    List<ResolvedParams> perModel) {

  /**
   * How operations round: {@link InputRounding#NONE} (the compute dtype throughout), or to the inputs'
   * 16-bit dtype after every operation when the plan asks for it ({@code compute_dtype: input}, only
   * for methods whose {@link MergeMethod#roundsLikeTorch()} is true).
   */
  public InputRounding rounding() {
    return global.has(InputRounding.PARAMETER)
        ? InputRounding.to(DType.fromConfigName(global.getString(InputRounding.PARAMETER))) : InputRounding.NONE;
  }

  public int modelCount() {
    return perModel.size();
  }

  public long numel() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
