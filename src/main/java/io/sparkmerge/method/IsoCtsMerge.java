package io.sparkmerge.method;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Svd;
import io.sparkmerge.param.ParamSpec;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code iso_cts} (Iso-CTS, arXiv 2502.04959; methods.md §2): a common subspace (top-k of Δ = Σ τ_t)
 * plus, per task, the top-d directions of what the common subspace misses (τ_t − U_c U_cᵀ τ_t); the
 * stacked bases are orthogonalised by their polar factors and the spectrum flattened to its mean.
 */
final class IsoCtsMerge extends SubspaceMerge {
  IsoCtsMerge() {
    super("iso_cts", ParamSpec.builder().addRange("common_space_fraction", ParamSpec.Scope.GLOBAL, 0.8, "[0, 1]"));
  }

  @Override
  int svdCount(int tasks) {
    return 1 + tasks + 2;
  }

  /**
   * {k, d}: k = ⌊r·f⌋, d = round-half-even((r − k)/T), then k = r − T·d. When rounding d up would make
   * k negative (r < T·d), d falls back to ⌊r/T⌋ so the dimensions still add up to r.
   */
  static int[] dims(int r, int tasks, double fraction) {
    int k = (int) Math.floor(r * fraction);
    int d = (int) Math.rint((double) (r - k) / tasks);
    k = r - tasks * d;
    if (k < 0) {
      d = r / tasks;
      k = r - tasks * d;
    }
    return new int[] {k, d};
  }

  @Override
  INDArray update(INDArray[] tau, TensorMergeContext ctx, LinearAlgebra la) {
    return update(tau, ctx, la, new java.util.HashMap<>());
  }

  @Override
  INDArray update(INDArray[] tau, TensorMergeContext ctx, LinearAlgebra la, java.util.Map<String, Double> counters) {
    String name = ctx.tensorName();
    int r = (int) Math.min(tau[0].size(0), tau[0].size(1)); // the rank of the thin SVDs
    int[] kd = dims(r, tau.length, ctx.global().getDouble("common_space_fraction"));
    int k = kd[0];
    int d = kd[1];
    try (INDArray delta = sum(tau); Svd.Result common = la.thinSvd(delta, name)) {
      if (d == 0) {
        // no task-specific directions: Iso-C
        double mean = common.s().meanNumber().doubleValue();
        Spectrum.put(counters, common.s(), mean, (int) common.s().length());
        return la.mmul(common.u(), common.vt()).muli(mean);
      }
      INDArray uc = common.u().get(NDArrayIndex.all(), NDArrayIndex.interval(0, k)).dup('c');
      INDArray vtc = common.vt().get(NDArrayIndex.interval(0, k), NDArrayIndex.all()).dup('c');
      List<INDArray> us = new ArrayList<>();
      List<INDArray> vts = new ArrayList<>();
      double sSum = k == 0 ? 0 : common.s().get(NDArrayIndex.interval(0, k)).sumNumber().doubleValue();
      for (INDArray t : tau) {
        // what the common subspace does not explain of this task
        try (INDArray coords = la.mmul(uc.transpose(), t); INDArray proj = la.mmul(uc, coords); INDArray resid = t.sub(proj);
            Svd.Result own = la.thinSvd(resid, name)) {
          us.add(own.u().get(NDArrayIndex.all(), NDArrayIndex.interval(0, d)).dup('c'));
          vts.add(own.vt().get(NDArrayIndex.interval(0, d), NDArrayIndex.all()).dup('c'));
          sSum += own.s().get(NDArrayIndex.interval(0, d)).sumNumber().doubleValue();
        }
      }
      us.add(uc);
      vts.add(vtc);
      double meanS = sSum / r;
      Spectrum.put(counters, common.s(), meanS, r);
      try (INDArray uStack = Nd4j.hstack(us.toArray(new INDArray[0]));
          INDArray vtStack = Nd4j.vstack(vts.toArray(new INDArray[0]));
          INDArray pu = la.polar(uStack, name);
          INDArray pv = la.polar(vtStack, name)) {
        us.forEach(INDArray::close);
        vts.forEach(INDArray::close);
        return la.mmul(pu, pv).muli(meanS);
      }
    }
  }
}
