package io.sparkmerge.math;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.openblas.global.openblas;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CPU backend's thin SVD ({@link LapackeLinearAlgebra}): A = U·diag(S)·Vᵀ of a 2-D FLOAT or
 * DOUBLE array through LAPACK's divide-and-conquer {@code ?gesdd}, called directly on ND4J's off-heap
 * buffers (ND4J 1.0.0-M2.1's own Svd op is broken and its lapack().gesvd is ~20× slower; see stack-notes). If gesdd fails to converge the tensor is
 * retried with {@code ?gesvd} and the fallback is logged with the tensor's name.
 */
public final class Svd {
  private static final Logger LOG = LoggerFactory.getLogger(Svd.class);
  /**
   * We call LAPACK in column-major order on the row-major buffer, which is Aᵀ (n×m) to LAPACK:
   * Aᵀ = U′ S V′ᵀ gives A = V′ S U′ᵀ, and LAPACK's column-major U′ (n×r) and V′ᵀ (r×m) are, byte for
   * byte, our row-major Vᵀ (r×n) and U (m×r). LAPACKE's row-major interface would instead transpose
   * the input and both outputs around the Fortran call (measured: 1024² went from 1.33× to ~1.0×
   * scipy's time, docs/benchmarks.md).
   */
  private static final int COL_MAJOR = 102;

  private Svd() {}

  /** U (m×r), S (r), Vᵀ (r×n), r = min(m, n), in the input's dtype. Close it to free the arrays. */
  public record Result(INDArray u, INDArray s, INDArray vt) implements AutoCloseable {
    @Override
    public void close() {
      u.close();
      s.close();
      vt.close();
    }
  }

  private static void requireCpuBackend(String label) {
    if (!LinearAlgebra.cpuBackend()) {
      throw new UnsupportedOperationException(label + ": LAPACKE runs on host buffers and needs ND4J's CPU backend (nd4j-native), but "
          + Nd4j.getBackend().getClass().getSimpleName() + " is loaded; LinearAlgebra.forLoadedBackend() picks its SVD");
    }
  }

  public static Result thin(INDArray a, String label) {
    return thin(a, label, false, null);
  }

  /**
   * {@link #thin} without the copy of the input LAPACK overwrites: {@code a} (a whole c-order array, else
   * it is copied as by {@link #thin}) holds garbage afterwards, and the caller still closes it. A run that
   * fails to converge is retried with gesvd on {@code again.get()} (the same matrix made anew; closed
   * here), or, when {@code again} is null, fails naming the tensor.
   */
  public static Result thinOverwriting(INDArray a, String label, java.util.function.Supplier<INDArray> again) {
    return thin(a, label, true, again);
  }

  private static Result thin(INDArray a, String label, boolean overwrite, java.util.function.Supplier<INDArray> again) {
    requireCpuBackend(label);
    if (a.rank() != 2) {
      throw new IllegalArgumentException(label + ": SVD needs a 2-D array, got shape " + java.util.Arrays.toString(a.shape()));
    }
    Result out = allocate(a);
    INDArray u = out.u();
    INDArray s = out.s();
    INDArray vt = out.vt();
    int m = (int) a.size(0);
    int n = (int) a.size(1);
    int r = Math.min(m, n);
    DataType type = a.dataType();
    if (r == 0) {
      return out;
    }
    boolean inPlace = overwrite && !a.isView() && a.offset() == 0 && a.ordering() == 'c' && a.data().length() == a.length();
    int info;
    INDArray work = inPlace ? a : a.dup('c'); // LAPACK overwrites its input
    try {
      info = type == DataType.DOUBLE
          ? openblas.LAPACKE_dgesdd(COL_MAJOR, (byte) 'S', n, m, d(work), n, d(s), d(vt), n, d(u), r)
          : openblas.LAPACKE_sgesdd(COL_MAJOR, (byte) 'S', n, m, f(work), n, f(s), f(vt), n, f(u), r);
    } finally {
      if (!inPlace) {
        work.close();
      }
    }
    if (info > 0) {
      LOG.warn("{}: LAPACK gesdd did not converge (info={}); retrying with gesvd", label, info);
      if (overwrite && again == null) {
        out.close();
        throw new ArithmeticException(label + ": LAPACK gesdd did not converge (info=" + info + ") on a matrix it overwrote;"
            + " rerun with -D" + LinearAlgebra.PROPERTY + "=nd4j (LAPACK gesvd)");
      }
      try (INDArray retry = overwrite ? again.get() : a.dup('c')) {
        info = gesvd(type, m, n, r, retry, s, u, vt);
      }
    }
    if (info != 0) {
      out.close();
      throw new ArithmeticException(label + ": LAPACK SVD failed (info=" + info + "); the tensor may contain NaN/Inf");
    }
    return out;
  }

  /** Runs gesvd directly (tests of the fallback path). */
  public static Result thinWithGesvd(INDArray a) {
    requireCpuBackend("gesvd");
    Result out = allocate(a);
    try (INDArray work = a.dup('c')) {
      int m = (int) a.size(0);
      int n = (int) a.size(1);
      int info = gesvd(a.dataType(), m, n, Math.min(m, n), work, out.s(), out.u(), out.vt());
      if (info != 0) {
        throw new ArithmeticException("gesvd failed: " + info);
      }
    }
    return out;
  }

  /** Uninitialised U [m, r], S [r], Vᵀ [r, n] for the thin SVD of an m×n array (r = min(m, n)). */
  private static Result allocate(INDArray a) {
    int m = (int) a.size(0);
    int n = (int) a.size(1);
    int r = Math.min(m, n);
    DataType type = a.dataType();
    return new Result(Nd4j.createUninitialized(type, m, r), Nd4j.createUninitialized(type, r),
        Nd4j.createUninitialized(type, r, n));
  }

  /** ?gesvd with the same column-major view as {@link #thin} (superb: r − 1 workspace values). */
  private static int gesvd(DataType type, int m, int n, int r, INDArray work, INDArray s, INDArray u, INDArray vt) {
    return type == DataType.DOUBLE
        ? openblas.LAPACKE_dgesvd(COL_MAJOR, (byte) 'S', (byte) 'S', n, m, d(work), n, d(s), d(vt), n, d(u), r,
            java.nio.ByteBuffer.allocateDirect(8 * Math.max(1, r - 1)).order(ByteOrder.nativeOrder()).asDoubleBuffer())
        : openblas.LAPACKE_sgesvd(COL_MAJOR, (byte) 'S', (byte) 'S', n, m, f(work), n, f(s), f(vt), n, f(u), r,
            java.nio.ByteBuffer.allocateDirect(4 * Math.max(1, r - 1)).order(ByteOrder.nativeOrder()).asFloatBuffer());
  }

  private static FloatBuffer f(INDArray a) {
    return a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  private static DoubleBuffer d(INDArray a) {
    return a.data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
  }
}
