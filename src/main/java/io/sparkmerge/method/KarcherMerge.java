package io.sparkmerge.method;

import io.sparkmerge.param.ParamSpec;

/**
 * {@code karcher} (methods.md §1): the Riemannian (Karcher) mean of the models' directions on the
 * unit sphere, with equal weights, scaled by the mean of their norms. The mean direction always lies
 * in the span of the models, so the fixed-point iteration runs on coefficients u = Σ cᵢθᵢ using only
 * the Gram matrix Gᵢⱼ = ⟨θᵢ, θⱼ⟩, gathered in one preparation pass: memory stays bounded for any
 * tensor size. Zero tensors contribute norm 0 to the mean of norms and no direction.
 */
final class KarcherMerge extends MethodBase {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .add("max_iter", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 10.0,
          v -> ((Number) v).doubleValue() >= 1, "at least 1")
      .add("tol", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 1e-5, v -> ((Number) v).doubleValue() > 0, "positive");

  KarcherMerge() {
    super("karcher", BaseUse.NOT_USED, PARAMS);
  }

  /** Coefficients c of the Karcher mean in the basis θᵢ, already scaled by the mean norm. */
  static double[] coefficients(double[][] g, int maxIter, double tol) {
    int m = g.length;
    double[] norm = new double[m];
    int valid = 0;
    double normSum = 0;
    for (int i = 0; i < m; i++) {
      norm[i] = Math.sqrt(Math.max(0, g[i][i]));
      normSum += norm[i];
      valid += norm[i] > 0 ? 1 : 0;
    }
    double[] c = new double[m];
    if (valid == 0) {
      return c;
    }
    double w = 1.0 / valid;
    // start from the normalised Euclidean mean of the unit directions
    for (int i = 0; i < m; i++) {
      c[i] = norm[i] > 0 ? w / norm[i] : 0;
    }
    normalize(c, g);
    for (int iter = 0; iter < maxIter; iter++) {
      double[] a = new double[m];
      double[] gc = times(g, c);
      for (int i = 0; i < m; i++) {
        if (norm[i] == 0) {
          continue;
        }
        double cos = Math.max(-1, Math.min(1, gc[i] / norm[i]));
        double theta = Math.acos(cos);
        if (theta < tol) {
          continue;
        }
        double f = w * theta / Math.sin(theta);
        // log map: f·(uᵢ − cos·u), with uᵢ = θᵢ/‖θᵢ‖
        a[i] += f / norm[i];
        for (int j = 0; j < m; j++) {
          a[j] -= f * cos * c[j];
        }
      }
      double tn = Math.sqrt(Math.max(0, dot(a, times(g, a))));
      if (tn < tol) {
        break;
      }
      for (int j = 0; j < m; j++) {
        c[j] = Math.cos(tn) * c[j] + Math.sin(tn) / tn * a[j];
      }
      normalize(c, g);
    }
    double scale = normSum / m;
    for (int j = 0; j < m; j++) {
      c[j] *= scale;
    }
    return c;
  }

  private static void normalize(double[] c, double[][] g) {
    double n = Math.sqrt(Math.max(0, dot(c, times(g, c))));
    if (n > 0) {
      for (int j = 0; j < c.length; j++) {
        c[j] /= n;
      }
    }
  }

  private static double[] times(double[][] g, double[] v) {
    double[] r = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      for (int j = 0; j < v.length; j++) {
        r[i] += g[i][j] * v[j];
      }
    }
    return r;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    int maxIter = (int) ctx.global().getDouble("max_iter");
    double tol = ctx.global().getDouble("tol");
    return new GramCombination(ctx.modelCount(), TensorChunk::models, g -> coefficients(g, maxIter, tol));
  }
}
