package io.sparkmerge.math;

import io.sparkmerge.ConfigException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What the SVD methods (iso_c, iso_cts, tsv_m) and the subspaces analysis need from linear algebra: a
 * thin SVD, the orthogonal polar factor and matrix products. Their maths is written once against this;
 * the implementation comes from the loaded ND4J backend ({@link #forLoadedBackend}): LAPACKE gesdd on
 * host buffers for the CPU backend (nd4j-native, {@link LapackeLinearAlgebra}), ND4J's own lapack
 * wrapper for the CUDA backend (cuSOLVER gesvd on device buffers, {@link Nd4jLapackLinearAlgebra}).
 * Products are {@code INDArray.mmul}: OpenBLAS GEMM on the CPU backend, cuBLAS GEMM on CUDA.
 */
public interface LinearAlgebra {
  /** System property that overrides the choice: {@code auto} (default), {@code lapacke} or {@code nd4j}. */
  String PROPERTY = "sparkmerge.linalg";

  /** The implementations. */
  enum Kind { LAPACKE, ND4J_LAPACK }

  /** Names the implementation (benchmarks and logs print it). */
  String name();

  /** U (m×r), S (r), Vᵀ (r×n), r = min(m, n), of a 2-D FLOAT or DOUBLE array, in its dtype; {@code a} is not modified. */
  Svd.Result thinSvd(INDArray a, String label);

  /**
   * {@link #thinSvd} that may overwrite {@code a} instead of copying it (the caller still closes it): one
   * m × n matrix less at the peak of the SVD methods. {@code again} makes the same matrix anew for a retry
   * (null: none). By default a's copy is kept, as by thinSvd.
   */
  default Svd.Result thinSvdOverwriting(INDArray a, String label, java.util.function.Supplier<INDArray> again) {
    return thinSvd(a, label);
  }

  /** The orthogonal polar factor P·Qᵀ of A = P·Σ·Qᵀ (the nearest matrix with orthonormal columns/rows). */
  default INDArray polar(INDArray a, String label) {
    try (Svd.Result r = thinSvd(a, label)) {
      return mmul(r.u(), r.vt());
    }
  }

  /** {@link #polar} of an array this call closes (it may overwrite it, and frees it before the product). */
  default INDArray polarClosing(INDArray a, String label) {
    Svd.Result r;
    try {
      r = thinSvdOverwriting(a, label, null);
    } finally {
      a.close();
    }
    try (r) {
      return mmul(r.u(), r.vt());
    }
  }

  /** The matrix product a·b as a new array (the backend's GEMM). */
  default INDArray mmul(INDArray a, INDArray b) {
    return a.mmul(b);
  }

  /** The implementation for the ND4J backend this JVM loaded, unless {@link #PROPERTY} names one. */
  static LinearAlgebra forLoadedBackend() {
    String backend = Nd4j.getBackend().getClass().getName();
    return create(choose(backend, System.getProperty(PROPERTY)), backend);
  }

  /** Whether ND4J runs on its CPU backend (nd4j-native): host buffers, and OpenBLAS carrying LAPACK. */
  static boolean cpuBackend() {
    return isCpu(Nd4j.getBackend().getClass().getName());
  }

  static boolean isCpu(String backendClass) {
    return backendClass.startsWith("org.nd4j.linalg.cpu.");
  }

  /**
   * The CPU backend gets LAPACKE (today's fastest: gesdd directly on the buffers); every other backend
   * (nd4j-cuda's JCublasBackend) gets ND4J's lapack wrapper, whose buffers ND4J itself keeps on the
   * device. {@code override} {@code nd4j} runs the wrapper on the CPU too (LAPACK gesvd: how the GPU
   * code path is tested and dry-run without a GPU).
   */
  static Kind choose(String backendClass, String override) {
    String o = override == null ? "auto" : override.trim().toLowerCase(java.util.Locale.ROOT);
    return switch (o) {
      case "", "auto" -> isCpu(backendClass) ? Kind.LAPACKE : Kind.ND4J_LAPACK;
      case "nd4j" -> Kind.ND4J_LAPACK;
      case "lapacke" -> {
        if (!isCpu(backendClass)) {
          throw new ConfigException("-D" + PROPERTY + "=lapacke needs ND4J's CPU backend (nd4j-native), but " + backendClass
              + " is loaded; drop the property or set it to nd4j");
        }
        yield Kind.LAPACKE;
      }
      default -> throw new ConfigException("-D" + PROPERTY + "=" + override + " is not an implementation; use auto, lapacke or nd4j");
    };
  }

  static LinearAlgebra create(Kind kind, String backendClass) {
    return kind == Kind.LAPACKE ? LapackeLinearAlgebra.INSTANCE
        : new Nd4jLapackLinearAlgebra(!backendClass.startsWith("org.nd4j.linalg.jcublas."));
  }
}
