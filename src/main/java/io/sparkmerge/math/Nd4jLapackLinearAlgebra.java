package io.sparkmerge.math;

import io.sparkmerge.ConfigException;
import org.nd4j.linalg.api.blas.BlasException;
import org.nd4j.linalg.api.blas.impl.BaseLapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Thin SVD through ND4J's own lapack wrapper ({@code Nd4j.getBlasWrapper().lapack()}): on the CUDA
 * backend that is JcublasLapack, i.e. cuSOLVER {@code cusolverDn?gesvd} on the arrays' device buffers;
 * on the CPU backend it is CpuLapack (LAPACK {@code ?gesvd}), which is how this class is tested and how
 * {@code bench/gpu/check.sh --dry-run} runs the GPU code path without a GPU. Products are
 * {@code INDArray.mmul} (cuBLAS GEMM on CUDA), so a tensor's matrices stay on the device.
 *
 * <p>ND4J 1.0.0-M2.1 exposes gesvd only (no gesvdj). Its {@code gesvd(A, S, U, VT)} asks for the full
 * U and Vᵀ ({@code jobu = jobvt = 'A'}: an 11008² Vᵀ for a 4096×11008 tensor), so we call the
 * {@code ?gesvd(jobu, jobvt, M, N, ...)} entry with {@code 'S'} (thin) instead. cuSOLVER's gesvd needs
 * M ≥ N and column-major arrays, and JcublasLapack copies (and transposes) whatever is not; we hand it
 * column-major arrays with M ≥ N so it copies nothing: a tall A as a column-major copy, a wide A as
 * Aᵀ — the row-major copy's transposed view is Aᵀ in column-major order — whose factors Aᵀ = U′SV′ᵀ
 * give A = V′SU′ᵀ, written straight into transposed views of our row-major U and Vᵀ.
 *
 * <p>Its dgesvd sizes the device workspace with the default dtype's width (float32: half of what
 * cusolverDnDgesvd writes), so float64 is refused on the CUDA backend ({@code doubleSupported}).
 */
final class Nd4jLapackLinearAlgebra implements LinearAlgebra {
  private static final byte THIN = (byte) 'S';
  private final boolean doubleSupported;

  Nd4jLapackLinearAlgebra(boolean doubleSupported) {
    this.doubleSupported = doubleSupported;
  }

  @Override
  public String name() {
    return "nd4j-lapack-gesvd";
  }

  @Override
  public Svd.Result thinSvd(INDArray a, String label) {
    if (a.rank() != 2) {
      throw new IllegalArgumentException(label + ": SVD needs a 2-D array, got shape " + java.util.Arrays.toString(a.shape()));
    }
    DataType type = a.dataType();
    if (type == DataType.DOUBLE && !doubleSupported) {
      throw new ConfigException(label + ": compute_dtype float64 is not supported by the GPU SVD (ND4J 1.0.0-M2.1's cuSOLVER"
          + " dgesvd wrapper sizes its device workspace for float32); use compute_dtype: float32, or the CPU build for float64");
    }
    if (type != DataType.FLOAT && type != DataType.DOUBLE) {
      throw new IllegalArgumentException(label + ": SVD needs FLOAT or DOUBLE, got " + type);
    }
    int m = (int) a.size(0);
    int n = (int) a.size(1);
    int r = Math.min(m, n);
    if (r <= 1) {
      return rankOne(a, m, n, r);
    }
    boolean wide = m <= n;
    char order = wide ? 'c' : 'f';
    INDArray u = Nd4j.createUninitialized(type, new long[] {m, r}, order);
    INDArray s = Nd4j.createUninitialized(type, r);
    INDArray vt = Nd4j.createUninitialized(type, new long[] {r, n}, order);
    try (INDArray work = a.dup(order); INDArray info = Nd4j.zeros(DataType.INT, 1)) { // gesvd overwrites its input
      BaseLapack lapack = (BaseLapack) Nd4j.getBlasWrapper().lapack();
      if (wide) {
        gesvd(lapack, type, n, m, columnMajor(work.transpose()), s, columnMajor(vt.transpose()), columnMajor(u.transpose()), info);
      } else {
        gesvd(lapack, type, m, n, work, s, u, vt, info);
      }
      int status = info.getInt(0);
      if (status != 0) {
        throw new ArithmeticException(label + ": gesvd failed (info=" + status + "); the tensor may contain NaN/Inf");
      }
      return new Svd.Result(u, s, vt);
    } catch (BlasException e) { // an Error in ND4J: CpuLapack's failed status, JcublasLapack's failed cuSOLVER call
      new Svd.Result(u, s, vt).close();
      throw new ArithmeticException(label + ": gesvd failed (" + e.getMessage() + "); the tensor may contain NaN/Inf");
    } catch (RuntimeException e) {
      new Svd.Result(u, s, vt).close();
      throw e;
    }
  }

  private static void gesvd(BaseLapack lapack, DataType type, int rows, int cols, INDArray a, INDArray s, INDArray u,
      INDArray vt, INDArray info) {
    if (type == DataType.DOUBLE) {
      lapack.dgesvd(THIN, THIN, rows, cols, a, s, u, vt, info);
    } else {
      lapack.sgesvd(THIN, THIN, rows, cols, a, s, u, vt, info);
    }
  }

  /** The transposed view of a row-major array is column-major; the wrapper would copy it otherwise. */
  private static INDArray columnMajor(INDArray view) {
    if (view.ordering() != 'f') {
      throw new IllegalStateException("expected a column-major view, got ordering " + view.ordering());
    }
    return view;
  }

  /** A vector (or an empty matrix) in closed form: s = ‖a‖, the singular vectors a/‖a‖ and 1. */
  private static Svd.Result rankOne(INDArray a, int m, int n, int r) {
    DataType type = a.dataType();
    INDArray u = Nd4j.zeros(type, m, r);
    INDArray s = Nd4j.zeros(type, r);
    INDArray vt = Nd4j.zeros(type, r, n);
    if (r == 1) {
      double norm = a.norm2Number().doubleValue();
      s.putScalar(0, norm);
      INDArray unit = norm > 0 ? a.div(norm) : null;
      INDArray vector = m == 1 ? vt : u;
      if (unit != null) {
        vector.assign(unit.reshape(vector.shape()));
        unit.close();
      } else {
        vector.putScalar(0, 1.0);
      }
      (m == 1 ? u : vt).putScalar(0, 1.0);
    }
    return new Svd.Result(u, s, vt);
  }
}
