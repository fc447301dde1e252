package io.sparkmerge.method;

import io.sparkmerge.math.Blocks;
import io.sparkmerge.param.ParamSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code ram} and {@code ramplus_tl} (Reinforced Agent Merging, arXiv 2601.13572; mergekit merge_methods/ram.py;
 * methods.md): per element, the task vectors τ_t whose |τ_t| > epsilon contribute; an entry only one model
 * changes keeps that model's τ (times λ_t), an entry several change gets their mean. θ = θ₀ + Σ_t τ_t·[|τ_t| > ε]·
 * (λ_t·[count = 1] + [count > 1] / count). {@code ram}: λ_t = 1, element-wise. {@code ramplus_tl} (tensor-local):
 * λ_t = 1 + r·clamp(ρ_t, 0, alpha) with ρ_t = (entries of the tensor model t shares with others) / max(entries only
 * it changes, ε), counted in one preparation pass.
 */
final class RamMerge extends MethodBase {
  private final boolean plus;

  private RamMerge(String name, boolean plus, ParamSpec params) {
    super(name, BaseUse.REQUIRED, params);
    this.plus = plus;
  }

  static RamMerge ram() {
    return new RamMerge("ram", false, ParamSpec.builder().add("epsilon", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 1e-5));
  }

  static RamMerge ramplusTl() {
    return new RamMerge("ramplus_tl", true, ParamSpec.builder()
        .add("r", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 0.1)
        .add("alpha", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 0.2)
        .add("epsilon", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 1e-5));
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    double eps = ctx.global().getDouble("epsilon");
    int n = ctx.modelCount();
    double[] lambda = new double[n];
    java.util.Arrays.fill(lambda, 1);
    long[] shared = new long[n];
    long[] unique = new long[n];
    double r = plus ? ctx.global().getDouble("r") : 0;
    double alpha = plus ? ctx.global().getDouble("alpha") : 0;
    return new TensorMerge() {
      private boolean lambdasSet = !plus;

      @Override
      public int preparationPasses() {
        return plus ? 1 : 0;
      }

      @Override
      public void prepare(int pass, TensorChunk chunk) {
        blocks(chunk, eps, (tau, nz, count, m) -> {
          for (int t = 0; t < n; t++) {
            if (nz[t][m]) {
              shared[t] += count > 1 ? 1 : 0;
              unique[t] += count == 1 ? 1 : 0;
            }
          }
          return 0;
        }, null);
      }

      @Override
      public INDArray merge(TensorChunk chunk) {
        if (!lambdasSet) {
          for (int t = 0; t < n; t++) {
            double rho = shared[t] / Math.max(unique[t], eps);
            lambda[t] = 1 + r * Math.min(alpha, Math.max(0, rho));
          }
          lambdasSet = true;
        }
        INDArray out = chunk.newOutput(chunk.base().dataType());
        blocks(chunk, eps, (tau, nz, count, m) -> {
          double s = 0;
          for (int t = 0; t < n; t++) {
            if (nz[t][m]) {
              s += count == 1 ? tau[t][m] * lambda[t] : tau[t][m] / count;
            }
          }
          return s;
        }, out);
        return out;
      }
    };
  }

  /** What one element contributes, given every model's τ, which exceed ε, and how many do. */
  private interface Element {
    double apply(double[][] tau, boolean[][] nz, int count, int i);
  }

  /** Walks the chunk in blocks; with {@code out}, writes base + the element's value there. */
  private static void blocks(TensorChunk chunk, double eps, Element e, INDArray out) {
    int n = chunk.models().length;
    int block = (int) Math.min(Blocks.BLOCK, chunk.length());
    double[] base = new double[block];
    double[][] tau = new double[n][block];
    boolean[][] nz = new boolean[n][block];
    for (long from = 0; from < chunk.length(); from += block) {
      int len = (int) Math.min(block, chunk.length() - from);
      Blocks.read(chunk.base(), from, base, len);
      for (int t = 0; t < n; t++) {
        Blocks.read(chunk.models()[t], from, tau[t], len);
        for (int i = 0; i < len; i++) {
          tau[t][i] -= base[i];
          nz[t][i] = Math.abs(tau[t][i]) > eps;
        }
      }
      for (int i = 0; i < len; i++) {
        int count = 0;
        for (int t = 0; t < n; t++) {
          count += nz[t][i] ? 1 : 0;
        }
        base[i] += e.apply(tau, nz, count, i);
      }
      if (out != null) {
        Blocks.write(out, from, base, len);
      }
    }
  }
}
