package io.sparkmerge.method;

import io.sparkmerge.math.BlockGram;
import io.sparkmerge.math.Spherical;
import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.ConfigException;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code slerp} (methods.md §1): spherical interpolation between the base (v₀) and one other model
 * (v₁) at {@code t}: θ = sin((1−t)Ω)/sin Ω·v₀ + sin(tΩ)/sin Ω·v₁ with Ω the angle between the
 * Frobenius-normalised tensors; nearly colinear tensors (|cos Ω| > 0.9995) are interpolated linearly.
 * The norms and the dot product are gathered over the tensor's chunks in one preparation pass.
 */
final class SlerpMerge implements MergeMethod {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .add("t", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, null,
          v -> ((Number) v).doubleValue() >= 0 && ((Number) v).doubleValue() <= 1, "in [0, 1]");

  @Override
  public String name() {
    return "slerp";
  }

  @Override
  public boolean roundsLikeTorch() {
    return true;
  }

  @Override
  public ParamSpec params() {
    return PARAMS;
  }

  @Override
  public BaseUse baseUse() {
    return BaseUse.REQUIRED;
  }

  @Override
  public void validateModels(int modelCount, boolean hasBase) {
    if (modelCount != 1) {
      throw new ConfigException("merge_method 'slerp' interpolates the base with exactly one other model, got " + modelCount
          + " besides the base; use nuslerp or karcher for other counts");
    }
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    double t = ctx.global().getDouble("t");
    return new TensorMerge() {
      private final double[][] gram = new double[2][2];
      private double[] c;

      @Override
      public int preparationPasses() {
        return 1;
      }

      @Override
      public void prepare(int pass, TensorChunk chunk) {
        BlockGram.add(new INDArray[] {chunk.base(), chunk.models()[0]}, gram);
      }

      @Override
      public INDArray merge(TensorChunk chunk) {
        if (c == null) {
          c = Spherical.slerp(t, gram[0][0], gram[1][1], gram[0][1]);
        }
        INDArray out = chunk.base().mul(c[0]);
        try (INDArray b = chunk.models()[0].mul(c[1])) {
          out.addi(b);
        }
        return out;
      }
    };
  }
}
