package io.sparkmerge.math;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
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

  /** The weights as the float32 path multiplies by them. */
  public static float[] floats(double[] w) {
    float[] f = new float[w.length];
    for (int t = 0; t < w.length; t++) {
      f[t] = (float) w[t];
    }
    return f;
  }

  /**
   * acc[i] = Σ_t w[t]·x[t][i] for i &lt; n in float32, the models in order, from -0: the float path's
   * arithmetic for the fused pass over input bytes, the same multiply-add as {@link #into}'s chunks.
   */
  public static void block(float[][] x, float[] w, int n, float[] acc) {
    Arrays.fill(acc, 0, n, -0f);
    for (int t = 0; t < x.length; t++) {
      addScaled(acc, x[t], w[t], n);
    }
  }

  /** acc[i] += w·x[i] for i &lt; n: the float multiply-add, one loop for both paths. */
  static void addScaled(float[] acc, float[] x, float w, int n) {
    for (int i = 0; i < n; i++) {
      acc[i] += w * x[i];
    }
  }

  /** Σ_t w[t]·x[t] into {@code out} (contiguous, of x[0]'s dtype and length), which it returns. */
  public static INDArray into(INDArray[] x, double[] w, INDArray out) {
    int len = (int) x[0].length();
    Lanes lanes = x[0].dataType() == DataType.FLOAT ? new FloatLanes(Math.min(BLOCK, len)) : new DoubleLanes(Math.min(BLOCK, len));
    ByteBuffer[] in = new ByteBuffer[x.length];
    for (int t = 0; t < x.length; t++) {
      in[t] = nio(x[t]);
    }
    ByteBuffer o = nio(out);
    for (int from = 0; from < len; from += BLOCK) {
      int n = Math.min(BLOCK, len - from);
      lanes.clear(n);
      for (int t = 0; t < x.length; t++) {
        lanes.add(in[t], (int) x[t].offset() + from, n, w[t]);
      }
      lanes.store(o, from, n);
    }
    Blocks.hostWritten(out);
    return out;
  }

  private static ByteBuffer nio(INDArray a) {
    return a.data().asNio().order(ByteOrder.nativeOrder());
  }

  /**
   * One block's accumulator in the compute dtype (Java has no generics over primitives: a float and a
   * double twin, each only the typed copy and multiply-add). It starts at -0, the identity of + to the
   * bit (x + -0 = x, also for x = ±0), so the first model's w·x goes in exactly as w·x.
   */
  private abstract static class Lanes {
    abstract void clear(int n);

    /** acc += w·src[at, at + n). */
    abstract void add(ByteBuffer src, int at, int n, double w);

    abstract void store(ByteBuffer dst, int at, int n);
  }

  private static final class FloatLanes extends Lanes {
    private final float[] acc;
    private final float[] blk;

    FloatLanes(int size) {
      acc = new float[size];
      blk = new float[size];
    }

    @Override
    void clear(int n) {
      Arrays.fill(acc, 0, n, -0f);
    }

    @Override
    void add(ByteBuffer src, int at, int n, double w) {
      src.asFloatBuffer().get(at, blk, 0, n);
      addScaled(acc, blk, (float) w, n);
    }

    @Override
    void store(ByteBuffer dst, int at, int n) {
      dst.asFloatBuffer().put(at, acc, 0, n);
    }
  }

  private static final class DoubleLanes extends Lanes {
    private final double[] acc;
    private final double[] blk;

    DoubleLanes(int size) {
      acc = new double[size];
      blk = new double[size];
    }

    @Override
    void clear(int n) {
      Arrays.fill(acc, 0, n, -0d);
    }

    @Override
    void add(ByteBuffer src, int at, int n, double w) {
      src.asDoubleBuffer().get(at, blk, 0, n);
      for (int i = 0; i < n; i++) {
        acc[i] += w * blk[i];
      }
    }

    @Override
    void store(ByteBuffer dst, int at, int n) {
      dst.asDoubleBuffer().put(at, acc, 0, n);
    }
  }
}
