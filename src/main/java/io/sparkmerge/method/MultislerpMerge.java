package io.sparkmerge.method;

import io.sparkmerge.ConfigException;
import io.sparkmerge.InputDataException;
import io.sparkmerge.math.BlockGram;
import io.sparkmerge.param.ParamSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code multislerp} (mergekit merge_methods/multislerp.py; methods.md): barycentric interpolation of any number
 * of models on the hypersphere. The vectors v_t (the models, or their task vectors with a base) are normalised,
 * u_t = v_t / (‖v_t‖ + eps); their weighted mean m = Σ w_t·u_t is normalised to m̂; the weighted tangent vectors
 * u_t − ⟨u_t, m̂⟩·m̂ are summed to k and mapped back by the exponential map, m̂·cos‖k‖ + k·sin‖k‖/‖k‖ (‖k‖ + eps),
 * scaled by the weighted mean norm Σ w_t‖v_t‖ (and added to the base). Every vector there is a combination of the
 * v_t, so the method works on coefficients from the Gram matrix ⟨v_s, v_t⟩ (one preparation pass, bounded memory)
 * and writes one weighted sum. mergekit's fallbacks: one model is returned as it is; ‖m‖ < eps with two models
 * is their weighted sum, with more an error.
 */
final class MultislerpMerge extends MethodBase {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .add("weight", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, null)
      .add("normalize_weights", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, true)
      .add("eps", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 1e-8, v -> ((Number) v).doubleValue() >= 0, "≥ 0");

  MultislerpMerge() {
    super("multislerp", BaseUse.OPTIONAL, PARAMS);
  }

  @Override
  public void validate(TensorMergeContext ctx) {
    if (ctx.global().getBoolean("normalize_weights") && sum(weights(ctx)) == 0) {
      throw new ConfigException("tensor " + ctx.tensorName() + ": the weights of multislerp sum to 0 and normalize_weights is"
          + " true; change the weights");
    }
  }

  private static double[] weights(TensorMergeContext ctx) {
    double[] w = new double[ctx.modelCount()];
    for (int t = 0; t < w.length; t++) {
      w[t] = ctx.perModel().get(t).getDouble("weight");
    }
    return w;
  }

  private static double sum(double[] a) {
    double s = 0;
    for (double x : a) {
      s += x;
    }
    return s;
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    double[] w = weights(ctx);
    if (ctx.global().getBoolean("normalize_weights")) {
      double s = sum(w);
      for (int t = 0; t < w.length; t++) {
        w[t] /= s;
      }
    }
    double eps = ctx.global().getDouble("eps");
    String name = ctx.tensorName();
    if (w.length == 1) {
      return chunk -> chunk.models()[0].dup();
    }
    double[][] gram = new double[w.length][w.length];
    return new TensorMerge() {
      private double[] c;

      @Override
      public int preparationPasses() {
        return 1;
      }

      @Override
      public void prepare(int pass, TensorChunk chunk) {
        if (chunk.base() != null) {
          BlockGram.add(chunk.models(), chunk.base(), gram);
        } else {
          BlockGram.add(chunk.models(), gram);
        }
      }

      @Override
      public INDArray merge(TensorChunk chunk) {
        if (c == null) {
          c = coefficients(gram, w, eps, name);
        }
        INDArray[] x = chunk.models();
        INDArray out = x[0].mul(c[0]);
        double rest = 1 - c[0];
        for (int t = 1; t < x.length; t++) {
          try (INDArray term = x[t].mul(c[t])) {
            out.addi(term);
          }
          rest -= c[t];
        }
        if (chunk.base() != null) { // base + Σ c_t (x_t − base)
          try (INDArray term = chunk.base().mul(rest)) {
            out.addi(term);
          }
        }
        return out;
      }
    };
  }

  /** The result as Σ c_t·v_t, from the Gram matrix of the v_t and the (normalised) weights. */
  static double[] coefficients(double[][] g, double[] w, double eps, String tensor) {
    int n = w.length;
    double[] norm = new double[n];
    double[] c = new double[n]; // m = Σ c_t v_t
    double avgNorm = 0;
    for (int t = 0; t < n; t++) {
      norm[t] = Math.sqrt(Math.max(0, g[t][t]));
      c[t] = w[t] / (norm[t] + eps);
      avgNorm += w[t] * norm[t];
    }
    double mNorm = Math.sqrt(Math.max(0, quad(g, c, c)));
    if (mNorm < eps) {
      if (n == 2) {
        return w.clone();
      }
      throw new InputDataException("tensor " + tensor + ": the weighted mean of the models' directions is zero (antipodal"
          + " models whose weights balance out); multislerp is undefined there, change the weights");
    }
    double[] mHat = new double[n];
    for (int t = 0; t < n; t++) {
      mHat[t] = c[t] / mNorm;
    }
    // k = Σ_t w_t (u_t − ⟨u_t, m̂⟩ m̂), u_t = v_t / (‖v_t‖ + eps)
    double[] k = new double[n];
    double along = 0;
    for (int t = 0; t < n; t++) {
      double dot = 0;
      for (int s = 0; s < n; s++) {
        dot += g[t][s] * mHat[s];
      }
      dot /= norm[t] + eps;
      k[t] += w[t] / (norm[t] + eps);
      along += w[t] * dot;
    }
    for (int t = 0; t < n; t++) {
      k[t] -= along * mHat[t];
    }
    double kNorm = Math.sqrt(Math.max(0, quad(g, k, k))) + eps;
    double[] out = new double[n];
    for (int t = 0; t < n; t++) {
      out[t] = (mHat[t] * Math.cos(kNorm) + k[t] * Math.sin(kNorm) / kNorm) * avgNorm;
    }
    return out;
  }

  private static double quad(double[][] g, double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < b.length; j++) {
        s += a[i] * g[i][j] * b[j];
      }
    }
    return s;
  }
}
