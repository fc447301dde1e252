package io.sparkmerge.method;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Svd;
import io.sparkmerge.param.ParamSpec;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code tsv_m} (Task Singular Vectors merge, arXiv 2412.00081; methods.md §2): each task keeps its
 * top-d = ⌊r/T⌋ singular triplets in its own block of U, S, Vᵀ (the remainder stays zero); the
 * concatenated bases are decorrelated by their polar factors; the singular values are kept, not
 * flattened: M = polar(U)·diag(S)·polar(Vᵀ). One τ_t at a time is made, and overwritten by its SVD.
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
  INDArray update(TaskVectors tau, TensorMergeContext ctx, LinearAlgebra la, Map<String, Double> counters) {
    String name = ctx.tensorName();
    int m = (int) tau.shape()[0];
    int n = (int) tau.shape()[1];
    int r = Math.min(m, n);
    int d = r / tau.count();
    var type = tau.type();
    INDArray u = Nd4j.zeros(type, m, r);
    INDArray vt = Nd4j.zeros(type, r, n);
    try (INDArray s = Nd4j.zeros(type, 1, r)) {
      for (int t = 0; t < tau.count() && d > 0; t++) {
        int task = t;
        Svd.Result svd;
        try (INDArray taskVector = tau.get(t)) {
          svd = la.thinSvdOverwriting(taskVector, name, () -> tau.get(task));
        }
        try (svd) {
          u.get(NDArrayIndex.all(), NDArrayIndex.interval(t * d, (t + 1) * d))
              .assign(svd.u().get(NDArrayIndex.all(), NDArrayIndex.interval(0, d)));
          s.get(NDArrayIndex.point(0), NDArrayIndex.interval(t * d, (t + 1) * d))
              .assign(svd.s().get(NDArrayIndex.interval(0, d)));
          vt.get(NDArrayIndex.interval(t * d, (t + 1) * d), NDArrayIndex.all())
              .assign(svd.vt().get(NDArrayIndex.interval(0, d), NDArrayIndex.all()));
        }
      }
      INDArray bases = u;
      u = null; // polarClosing frees it
      try (INDArray pu = la.polarClosing(bases, name)) {
        bases = vt;
        vt = null;
        try (INDArray pv = la.polarClosing(bases, name)) {
          return la.mmul(pu.muliRowVector(s), pv);
        }
      }
    } finally {
      if (u != null) {
        u.close();
      }
      if (vt != null) {
        vt.close();
      }
    }
  }
}
