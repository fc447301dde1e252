package io.sparkmerge.math;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The CPU backend's linear algebra: {@link Svd#thin} (LAPACKE gesdd on ND4J's host buffers, gesvd on
 * failure, ≤ 1.2 × scipy's time: docs/benchmarks.md) and OpenBLAS GEMM through {@code INDArray.mmul}.
 */
final class LapackeLinearAlgebra implements LinearAlgebra {
  static final LapackeLinearAlgebra INSTANCE = new LapackeLinearAlgebra();

  private LapackeLinearAlgebra() {}

  @Override
  public String name() {
    return "lapacke-gesdd";
  }

  @Override
  public Svd.Result thinSvd(INDArray a, String label) {
    return Svd.thin(a, label);
  }

  @Override
  public Svd.Result thinSvdOverwriting(INDArray a, String label, java.util.function.Supplier<INDArray> again) {
    return Svd.thinOverwriting(a, label, again);
  }
}
