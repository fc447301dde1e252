package io.sparkmerge.method;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Svd;
import io.sparkmerge.param.ParamSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code iso_cts} (Iso-CTS, arXiv 2502.04959; methods.md §2): a common subspace (top-k of Δ = Σ τ_t)
 * plus, per task, the top-d directions of what the common subspace misses (τ_t − U_c U_cᵀ τ_t); the
 * stacked bases are orthogonalised by their polar factors and the spectrum flattened to its mean.
 * Memory (docs/methods.md): beside the inputs, U_c and one task's τ_t, projection and SVD at a time.
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
  INDArray update(TaskVectors tau, TensorMergeContext ctx, LinearAlgebra la, Map<String, Double> counters) {
    String name = ctx.tensorName();
    int r = (int) Math.min(tau.shape()[0], tau.shape()[1]); // the rank of the thin SVDs
    int[] kd = dims(r, tau.count(), ctx.global().getDouble("common_space_fraction"));
    int k = kd[0];
    int d = kd[1];
    Svd.Result common = IsoCMerge.common(tau, name, la);
    if (d == 0) { // no task-specific directions: Iso-C
      return IsoCMerge.flattened(common, la, counters);
    }
    List<INDArray> us = new ArrayList<>();
    List<INDArray> vts = new ArrayList<>();
    INDArray sigma;
    double sSum;
    try (common) { // U and Vᵀ of Δ freed once their first k vectors are copied
      us.add(common.u().get(NDArrayIndex.all(), NDArrayIndex.interval(0, k)).dup('c'));
      vts.add(common.vt().get(NDArrayIndex.interval(0, k), NDArrayIndex.all()).dup('c'));
      sSum = k == 0 ? 0 : common.s().get(NDArrayIndex.interval(0, k)).sumNumber().doubleValue();
      sigma = common.s().dup();
    }
    try (sigma) {
      INDArray uc = us.get(0);
      for (int t = 0; t < tau.count(); t++) {
        int task = t;
        Svd.Result own;
        try (INDArray resid = residual(tau, t, uc, la)) {
          own = la.thinSvdOverwriting(resid, name, () -> residual(tau, task, uc, la));
        }
        try (own) {
          us.add(us.size() - 1, own.u().get(NDArrayIndex.all(), NDArrayIndex.interval(0, d)).dup('c'));
          vts.add(vts.size() - 1, own.vt().get(NDArrayIndex.interval(0, d), NDArrayIndex.all()).dup('c'));
          sSum += own.s().get(NDArrayIndex.interval(0, d)).sumNumber().doubleValue();
        }
      }
      double meanS = sSum / r;
      Spectrum.put(counters, sigma, meanS, r);
      try (INDArray pu = la.polarClosing(stack(us, true), name); INDArray pv = la.polarClosing(stack(vts, false), name)) {
        return la.mmul(pu, pv).muli(meanS);
      }
    } finally {
      us.forEach(INDArray::close);
      vts.forEach(INDArray::close);
    }
  }

  /** What the common subspace does not explain of task t: τ_t − U_c·(U_cᵀ·τ_t), made in τ_t's array. */
  private static INDArray residual(TaskVectors tau, int t, INDArray uc, LinearAlgebra la) {
    INDArray resid = tau.get(t);
    INDArray proj;
    try (INDArray coords = la.mmul(uc.transpose(), resid)) {
      proj = la.mmul(uc, coords);
    }
    try (proj) {
      return resid.subi(proj);
    }
  }

  /** The pieces side by side (columns) or one above the other (rows), each freed once copied. */
  private static INDArray stack(List<INDArray> pieces, boolean columns) {
    INDArray[] a = pieces.toArray(new INDArray[0]);
    INDArray s = columns ? Nd4j.hstack(a) : Nd4j.vstack(a);
    pieces.forEach(INDArray::close);
    pieces.clear();
    return s;
  }
}
