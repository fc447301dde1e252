package io.sparkmerge.exec;

import io.sparkmerge.io.DType;
import io.sparkmerge.io.HalfFloats;
import io.sparkmerge.io.TensorCodec;
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
      float[] blk = scratch();
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
   * even where narrowing to F16/BF16 (or F32 from float64) rounds or overflows. F32/F16/BF16 bytes in a
   * heap buffer are decoded (exactly) in blocks and take the float path; the rest element by element.
   */
  void addEncoded(ByteBuffer enc, DType dtype) {
    if (dtype != DType.F64 && enc.hasArray()) {
      float[] blk = scratch();
      int size = dtype.size();
      int off = enc.arrayOffset() + enc.position();
      int n = enc.remaining() / size;
      for (int done = 0; done < n; done += BLOCK) {
        int k = Math.min(BLOCK, n - done);
        TensorCodec.decodeUnchecked(dtype, enc.array(), off + done * size, blk, k);
        add(blk, k);
      }
      return;
    }
    ByteBuffer b = enc.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      double v = switch (dtype) {
        case F16 -> HalfFloats.f16ToFloat(b.getShort());
        case BF16 -> HalfFloats.bf16ToFloat(b.getShort());
        case F32 -> b.getFloat();
        case F64 -> b.getDouble();
        default -> throw new IllegalArgumentException("not a floating dtype: " + dtype);
      };
      one(v);
    }
  }

  /**
   * Encodes blk[0 .. k) as dtype into enc at its position (which advances) and adds the values as
   * encoded: the block itself where dtype holds every float exactly (F32, F64), else the encoded bytes
   * decoded back (F16/BF16 round, and overflow to ±Inf). The fused pass and the chunk path share it.
   */
  void encodeAndAdd(float[] blk, int k, DType dtype, ByteBuffer enc) {
    int start = enc.position();
    TensorCodec.encode(blk, k, dtype, enc);
    if (dtype.size() >= 4) {
      add(blk, k);
      return;
    }
    ByteBuffer written = enc.duplicate();
    written.limit(enc.position()).position(start);
    addEncoded(written, dtype);
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
    if (TensorCodec.countNonFinite(blk, k) == 0) {
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

  private float[] scratch() {
    if (scratch == null) {
      scratch = new float[BLOCK];
    }
    return scratch;
  }

  boolean hasNonFinite() {
    return nan > 0 || inf > 0;
  }
}
