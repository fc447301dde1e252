package io.sparkmerge.math;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Σ_t w_t·x_t over a chunk in one pass: block-wise bulk copies and a multiply-add loop the JIT
 * vectorises, accumulating in the compute dtype. Replaces two ND4J ops per model (a scaled temporary
 * and an add) for the element-wise methods whose whole work this is; docs/benchmarks.md has the
 * before/after.
 */
public final class WeightedSum {
  private static final int BLOCK = 1 << 14;

  private WeightedSum() {}

  /** Σ_t w[t]·x[t] into {@code out} (contiguous, of x[0]'s dtype and length), which it returns. */
  public static INDArray into(INDArray[] x, double[] w, INDArray out) {
    DataType type = x[0].dataType();
    int len = (int) x[0].length();
    if (type == DataType.FLOAT) {
      FloatBuffer[] in = new FloatBuffer[x.length];
      for (int t = 0; t < x.length; t++) {
        in[t] = x[t].data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
      }
      FloatBuffer o = out.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
      float[] acc = new float[Math.min(BLOCK, len)];
      float[] blk = new float[acc.length];
      for (int from = 0; from < len; from += BLOCK) {
        int n = Math.min(BLOCK, len - from);
        for (int t = 0; t < x.length; t++) {
          in[t].get((int) x[t].offset() + from, blk, 0, n);
          float wt = (float) w[t];
          if (t == 0) {
            for (int i = 0; i < n; i++) {
              acc[i] = wt * blk[i];
            }
          } else {
            for (int i = 0; i < n; i++) {
              acc[i] += wt * blk[i];
            }
          }
        }
        o.put(from, acc, 0, n);
      }
    } else {
      DoubleBuffer[] in = new DoubleBuffer[x.length];
      for (int t = 0; t < x.length; t++) {
        in[t] = x[t].data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
      }
      DoubleBuffer o = out.data().asNio().order(ByteOrder.nativeOrder()).asDoubleBuffer();
      double[] acc = new double[Math.min(BLOCK, len)];
      double[] blk = new double[acc.length];
      for (int from = 0; from < len; from += BLOCK) {
        int n = Math.min(BLOCK, len - from);
        for (int t = 0; t < x.length; t++) {
          in[t].get((int) x[t].offset() + from, blk, 0, n);
          double wt = w[t];
          if (t == 0) {
            for (int i = 0; i < n; i++) {
              acc[i] = wt * blk[i];
            }
          } else {
            for (int i = 0; i < n; i++) {
              acc[i] += wt * blk[i];
            }
          }
        }
        o.put(from, acc, 0, n);
      }
    }
    Blocks.hostWritten(out);
    return out;
  }
}
