package io.sparkmerge.method;

import io.sparkmerge.math.WeightedSum;
import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.ConfigException;

/**
 * {@code linear} (model soup, methods.md §1): θ = Σ_t w_t θ_t, divided by Σ_t w_t when
 * {@code normalize} (default true). Σw = 0 with normalize is an error on the driver (differs:
 * mergekit divides by zero). The base takes part only if listed under models.
 */
final class LinearMerge implements MergeMethod {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .add("weight", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 1.0)
      .add("normalize", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, true);

  @Override
  public String name() {
    return "linear";
  }

  @Override
  public ParamSpec params() {
    return PARAMS;
  }

  @Override
  public BaseUse baseUse() {
    return BaseUse.NOT_USED;
  }

  @Override
  public void validateTensor(TensorMergeContext ctx) {
    if (ctx.global().getBoolean("normalize") && weightSum(ctx) == 0) {
      throw new ConfigException("tensor " + ctx.tensorName() + ": the weights of linear sum to 0 and normalize is true;"
          + " change the weights or set normalize: false");
    }
  }

  static double weightSum(TensorMergeContext ctx) {
    double s = 0;
    for (ResolvedParams p : ctx.perModel()) {
      s += p.getDouble("weight");
    }
    return s;
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    double norm = ctx.global().getBoolean("normalize") ? weightSum(ctx) : 1.0;
    double[] w = new double[ctx.modelCount()];
    for (int i = 0; i < w.length; i++) {
      w[i] = ctx.perModel().get(i).getDouble("weight") / norm;
    }
    return chunk -> WeightedSum.of(chunk.models(), w, chunk);
  }
}
