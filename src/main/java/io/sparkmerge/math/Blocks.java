package io.sparkmerge.math;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Block-wise access to a chunk's contiguous FLOAT/DOUBLE arrays as doubles, for methods whose
 * per-element logic (selection with tie-breaking, random draws, sign election) is not a single ND4J op.
 * Element-wise methods work block by block (a few thousand elements at a time), so their scratch
 * memory stays small whatever the chunk size.
 */
public final class Blocks {
  /** Elements per block (rounded to whole rows by callers that need rows). */
  public static final int BLOCK = 1 << 14;

  private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[BLOCK]);

  private Blocks() {}

  /** Copies {@code n} elements starting at flat index {@code from} of a contiguous array into {@code dst}. */
  public static void read(INDArray a, long from, double[] dst, int n) {
    int at = (int) (a.offset() + from);
    if (a.dataType() == DataType.FLOAT) {
      FloatBuffer fb = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
      float[] f = SCRATCH.get();
      if (f.length < n) {
        f = new float[n];
        SCRATCH.set(f);
      }
      fb.get(at, f, 0, n); // one bulk copy, then a widening loop the JIT vectorises
      for (int i = 0; i < n; i++) {
        dst[i] = f[i];
      }
    } else {
      DoubleBuffer db = a.data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
      db.get(at, dst, 0, n);
    }
  }

  /** Writes {@code n} doubles into a contiguous array at flat index {@code from} (rounded to float for FLOAT). */
  public static void write(INDArray a, long from, double[] src, int n) {
    int at = (int) (a.offset() + from);
    if (a.dataType() == DataType.FLOAT) {
      FloatBuffer fb = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
      for (int i = 0; i < n; i++) {
        fb.put(at + i, (float) src[i]);
      }
    } else {
      DoubleBuffer db = a.data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
      db.put(at, src, 0, n);
    }
    hostWritten(a);
  }

  /**
   * Says that {@code a}'s host copy was written through its NIO view. A no-op on the CPU backend; on
   * ND4J's CUDA backend the device copy is then refreshed from the host before its next use (asNio()
   * syncs the host copy for reading, but does not know we wrote it).
   */
  public static void hostWritten(INDArray a) {
    Nd4j.getAffinityManager().tagLocation(a, org.nd4j.linalg.api.concurrency.AffinityManager.Location.HOST);
  }

  /** Rows per block so a block holds whole rows (at least one). */
  public static int rowsPerBlock(long rowLength) {
    return (int) Math.max(1, BLOCK / Math.max(1, rowLength));
  }
}
