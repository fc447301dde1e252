package io.sparkmerge.exec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Running min, max and NaN/Inf counts over the chunks of one tensor (finite values only for min/max). */
public final class ValueStats {
  double min = Double.POSITIVE_INFINITY;
  double max = Double.NEGATIVE_INFINITY;
  long nan;
  long inf;

  private static final int BLOCK = 1 << 14;
  private float[] scratch;

  /**
   * Adds a contiguous FLOAT or DOUBLE array's values. Floats go in blocks through a bulk copy: a block
   * without NaN/Inf (counted branch-free) takes a plain min/max loop, only a block with some takes the
   * per-element path (profiled: per-element buffer reads with branches cost more than the merge itself).
   */
  void add(INDArray a) {
    ByteBuffer bb = a.data().asNio().order(ByteOrder.nativeOrder());
    long n = a.length();
    long offset = a.offset();
    if (a.dataType() == DataType.FLOAT) {
      FloatBuffer f = bb.asFloatBuffer();
      if (scratch == null) {
        scratch = new float[BLOCK];
      }
      float[] blk = scratch;
      for (long done = 0; done < n; done += BLOCK) {
        int k = (int) Math.min(BLOCK, n - done);
        f.get((int) (offset + done), blk, 0, k);
        add(blk, k);
      }
    } else {
      DoubleBuffer d = bb.asDoubleBuffer();
      for (int i = (int) offset, end = (int) (offset + n); i < end; i++) {
        one(d.get(i));
      }
    }
  }

  /**
   * Adds the values as encoded in the output's dtype (little-endian bytes from position to limit): what a
   * reader of the file gets, so the manifest's min/max and the NaN/Inf check describe the bytes written
   * even where narrowing to F16/BF16 (or F32 from float64) rounds or overflows.
   */
  void addEncoded(java.nio.ByteBuffer enc, io.sparkmerge.io.DType dtype) {
    java.nio.ByteBuffer b = enc.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      double v = switch (dtype) {
        case F16 -> io.sparkmerge.io.HalfFloats.f16ToFloat(b.getShort());
        case BF16 -> io.sparkmerge.io.HalfFloats.bf16ToFloat(b.getShort());
        case F32 -> b.getFloat();
        case F64 -> b.getDouble();
        default -> throw new IllegalArgumentException("not a floating dtype: " + dtype);
      };
      one(v);
    }
  }

  /** One value: NaN and ±Inf counted, finite ones into min and max. */
  private void one(double v) {
    if (v != v) {
      nan++;
    } else if (Double.isInfinite(v)) {
      inf++;
    } else {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }

  /** Adds blk[0 .. k): a block without NaN/Inf takes a plain min/max loop, only one with some the per-element path. */
  void add(float[] blk, int k) {
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    if (io.sparkmerge.io.TensorCodec.countNonFinite(blk, k) == 0) {
      for (int i = 0; i < k; i++) {
        lo = Math.min(lo, blk[i]);
        hi = Math.max(hi, blk[i]);
      }
    } else {
      for (int i = 0; i < k; i++) {
        one(blk[i]);
      }
    }
    min = Math.min(min, lo);
    max = Math.max(max, hi);
  }

  boolean hasNonFinite() {
    return nan > 0 || inf > 0;
  }
}
