package io.sparkmerge.method;

import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.math.WeightedSum;
import org.nd4j.linalg.api.ndarray.INDArray;
import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.ConfigException;

/**
 * {@code linear} (model soup, methods.md §1): θ = Σ_t w_t θ_t, divided by Σ_t w_t when
 * {@code normalize} (default true). Σw = 0 with normalize is an error on the driver (differs:
 * mergekit divides by zero). The base takes part only if listed under models.
 */
final class LinearMerge extends MethodBase {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .add("weight", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 1.0)
      .add("normalize", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, true);

  LinearMerge() {
    super("linear", BaseUse.NOT_USED, PARAMS);
  }

  @Override
  public void validate(TensorMergeContext ctx) {
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
  public boolean roundsLikeTorch() {
    return true;
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    if (ctx.rounding().active()) {
      return roundedLikeMergekit(ctx);
    }
    double norm = ctx.global().getBoolean("normalize") ? weightSum(ctx) : 1.0;
    double[] w = new double[ctx.modelCount()];
    for (int i = 0; i < w.length; i++) {
      w[i] = ctx.perModel().get(i).getDouble("weight") / norm;
    }
    if (ctx.computeType() == org.nd4j.linalg.api.buffer.DataType.FLOAT) {
      float[] wf = WeightedSum.floats(w);
      return new ElementwiseMerge() {
        @Override
        public void mergeBlock(float[] base, float[][] models, int n, float[] out) {
          WeightedSum.block(models, wf, n, out);
        }

        @Override
        public boolean propagatesNonFinite() {
          return true;
        }
      };
    }
    return chunk -> WeightedSum.into(chunk.models(), w, chunk.newOutput(chunk.models()[0].dataType()));
  }

  /**
   * compute_dtype: input, in mergekit's order (linear.py): each product w_t·θ_t rounded, their sum
   * accumulated in float32 and rounded, then divided by the rounded Σ w_t and rounded again.
   */
  private static TensorMerge roundedLikeMergekit(TensorMergeContext ctx) {
    InputRounding r = ctx.rounding();
    float[] w = new float[ctx.modelCount()];
    float wSum = 0;
    for (int i = 0; i < w.length; i++) {
      w[i] = r.value(ctx.perModel().get(i).getDouble("weight"));
      wSum += w[i];
    }
    boolean normalize = ctx.global().getBoolean("normalize");
    float divisor = r.round(wSum);
    return chunk -> {
      INDArray out = chunk.newOutput(chunk.models()[0].dataType());
      double[] x = new double[(int) Math.min(Blocks.BLOCK, chunk.length())];
      double[] acc = new double[x.length];
      for (long from = 0; from < chunk.length(); from += x.length) {
        int n = (int) Math.min(x.length, chunk.length() - from);
        java.util.Arrays.fill(acc, 0, n, 0.0);
        for (int t = 0; t < w.length; t++) {
          Blocks.read(chunk.models()[t], from, x, n);
          for (int i = 0; i < n; i++) {
            acc[i] = (float) acc[i] + r.mul(w[t], x[i]);
          }
        }
        for (int i = 0; i < n; i++) {
          float sum = r.round((float) acc[i]);
          acc[i] = normalize ? r.div(sum, divisor) : sum;
        }
        Blocks.write(out, from, acc, n);
      }
      return out;
    };
  }
}
