package io.sparkmerge.method;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Svd;
import io.sparkmerge.param.ParamSpec;
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
  INDArray update(INDArray[] tau, TensorMergeContext ctx, LinearAlgebra la) {
    return update(tau, ctx, la, new java.util.HashMap<>());
  }

  @Override
  INDArray update(INDArray[] tau, TensorMergeContext ctx, LinearAlgebra la, java.util.Map<String, Double> counters) {
    try (INDArray delta = sum(tau); Svd.Result svd = la.thinSvd(delta, ctx.tensorName())) {
      double mean = svd.s().meanNumber().doubleValue();
      Spectrum.put(counters, svd.s(), mean, (int) svd.s().length());
      return la.mmul(svd.u(), svd.vt()).muli(mean);
    }
  }
}
