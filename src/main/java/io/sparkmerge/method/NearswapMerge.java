package io.sparkmerge.method;

import io.sparkmerge.math.Blocks;
import io.sparkmerge.param.ParamSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code nearswap} (mergekit merge_methods/nearswap.py; methods.md): element by element, the other model's value
 * where it is near the base's and the base's where it is far: w = clamp(t / max(|a − b|, 10⁻⁶), 0, 1),
 * θ = w·b + (1 − w)·a, with a the base and b the one other model. Entries closer than t take b outright; the
 * swap fades as t / |a − b| beyond. {@code t} (required, ≥ 0; a gradient over the layers like any global
 * parameter) is the distance in the weights' units. Computed in float64 per element (mergekit: the input dtype).
 */
final class NearswapMerge extends MethodBase {
  /** mergekit's floor of |a − b|, so identical entries give w = 1 (take b, which equals a). */
  static final double MIN_DISTANCE = 1e-6;
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .add("t", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, null, v -> ((Number) v).doubleValue() >= 0, "≥ 0");

  NearswapMerge() {
    super("nearswap", BaseUse.REQUIRED, PARAMS);
    modelCount(1, 1, "merge_method 'nearswap' swaps entries between the base and exactly one other model, got ",
        " besides the base; list one model under models:");
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    double t = ctx.global().getDouble("t");
    return chunk -> {
      INDArray out = chunk.newOutput(chunk.base().dataType());
      int block = (int) Math.min(Blocks.BLOCK, chunk.length());
      double[] a = new double[block];
      double[] b = new double[block];
      for (long from = 0; from < chunk.length(); from += block) {
        int n = (int) Math.min(block, chunk.length() - from);
        Blocks.read(chunk.base(), from, a, n);
        Blocks.read(chunk.models()[0], from, b, n);
        for (int i = 0; i < n; i++) {
          double w = Math.min(1, Math.max(0, t / Math.max(Math.abs(a[i] - b[i]), MIN_DISTANCE)));
          a[i] = w * b[i] + (1 - w) * a[i];
        }
        Blocks.write(out, from, a, n);
      }
      return out;
    };
  }
}
