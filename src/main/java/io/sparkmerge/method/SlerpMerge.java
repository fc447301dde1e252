package io.sparkmerge.method;

import io.sparkmerge.math.Spherical;
import io.sparkmerge.param.ParamSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code slerp} (methods.md §1): spherical interpolation between the base (v₀) and one other model
 * (v₁) at {@code t}: θ = sin((1−t)Ω)/sin Ω·v₀ + sin(tΩ)/sin Ω·v₁ with Ω the angle between the
 * Frobenius-normalised tensors; nearly colinear tensors (|cos Ω| > 0.9995) are interpolated linearly.
 * The norms and the dot product are gathered over the tensor's chunks in one preparation pass.
 */
final class SlerpMerge extends MethodBase {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .addRange("t", ParamSpec.Scope.GLOBAL, null, "[0, 1]");

  SlerpMerge() {
    super("slerp", BaseUse.REQUIRED, PARAMS);
    modelCount(1, 1, "merge_method 'slerp' interpolates the base with exactly one other model, got ",
        " besides the base; use nuslerp or karcher for other counts");
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    double t = ctx.global().getDouble("t");
    return new GramCombination(2, chunk -> new INDArray[] {chunk.base(), chunk.models()[0]},
        g -> Spherical.slerp(t, g[0][0], g[1][1], g[0][1]));
  }

  /** mergekit computes slerp in float32 whatever the dtype, so compute_dtype: input changes nothing. */
  @Override
  public boolean roundsLikeTorch() {
    return true;
  }
}
