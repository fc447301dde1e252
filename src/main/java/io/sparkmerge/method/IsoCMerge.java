package io.sparkmerge.method;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Svd;
import io.sparkmerge.param.ParamSpec;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code iso_c} (Iso-C, arXiv 2502.04959; methods.md §2): Δ = Σ_t τ_t = U S Vᵀ, and M = mean(S)·U Vᵀ —
 * the spectrum of the summed task matrix flattened to its mean, so every direction gets equal weight.
 */
final class IsoCMerge extends SubspaceMerge {
  IsoCMerge() {
    super("iso_c", ParamSpec.builder());
  }

  @Override
  int svdCount(int tasks) {
    return 1;
  }

  @Override
  INDArray update(TaskVectors tau, TensorMergeContext ctx, LinearAlgebra la, Map<String, Double> counters) {
    return flattened(common(tau, ctx.tensorName(), la), la, counters);
  }

  /** The SVD of Δ = Σ_t τ_t, which it overwrites: Δ is freed before U and Vᵀ are used. */
  static Svd.Result common(TaskVectors tau, String name, LinearAlgebra la) {
    try (INDArray delta = tau.sum()) {
      return la.thinSvdOverwriting(delta, name, tau::sum);
    }
  }

  /** mean(S)·U Vᵀ of Δ's SVD (closed here), with the spectrum's counters. */
  static INDArray flattened(Svd.Result svd, LinearAlgebra la, Map<String, Double> counters) {
    try (svd) {
      double mean = svd.s().meanNumber().doubleValue();
      Spectrum.put(counters, svd.s(), mean, (int) svd.s().length());
      return la.mmul(svd.u(), svd.vt()).muli(mean);
    }
  }
}
