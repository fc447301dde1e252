package io.sparkmerge.method;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Svd;
import io.sparkmerge.param.ParamSpec;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code tsv_m} (Task Singular Vectors merge, arXiv 2412.00081; methods.md §2): each task keeps its
 * top-d = ⌊r/T⌋ singular triplets in its own block of U, S, Vᵀ (the remainder stays zero); the
 * concatenated bases are decorrelated by their polar factors; the singular values are kept, not
 * flattened: M = polar(U)·diag(S)·polar(Vᵀ).
 */
final class TsvMerge extends SubspaceMerge {
  TsvMerge() {
    super("tsv_m", ParamSpec.builder());
  }

  @Override
  int svdCount(int tasks) {
    return tasks + 2;
  }

  @Override
  INDArray update(INDArray[] tau, TensorMergeContext ctx, LinearAlgebra la) {
    String name = ctx.tensorName();
    int m = (int) tau[0].size(0);
    int n = (int) tau[0].size(1);
    int r = Math.min(m, n);
    int d = r / tau.length;
    var type = tau[0].dataType();
    try (INDArray u = Nd4j.zeros(type, m, r); INDArray s = Nd4j.zeros(type, 1, r); INDArray vt = Nd4j.zeros(type, r, n)) {
      for (int t = 0; t < tau.length && d > 0; t++) {
        try (Svd.Result svd = la.thinSvd(tau[t], name)) {
          u.get(NDArrayIndex.all(), NDArrayIndex.interval(t * d, (t + 1) * d))
              .assign(svd.u().get(NDArrayIndex.all(), NDArrayIndex.interval(0, d)));
          s.get(NDArrayIndex.point(0), NDArrayIndex.interval(t * d, (t + 1) * d))
              .assign(svd.s().get(NDArrayIndex.interval(0, d)));
          vt.get(NDArrayIndex.interval(t * d, (t + 1) * d), NDArrayIndex.all())
              .assign(svd.vt().get(NDArrayIndex.interval(0, d), NDArrayIndex.all()));
        }
      }
      try (INDArray pu = la.polar(u, name); INDArray pv = la.polar(vt, name); INDArray pus = pu.mulRowVector(s)) {
        return la.mmul(pus, pv);
      }
    }
  }
}
