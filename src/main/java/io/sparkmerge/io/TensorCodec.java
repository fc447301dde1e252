package io.sparkmerge.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Converts between safetensors' little-endian float encodings (F64, F32, F16, BF16) and ND4J arrays
 * in the compute dtype (FLOAT or DOUBLE). Decoding is exact (BF16 → F32 is a shift). Encoding rounds
 * to nearest, ties to even, keeps NaN (quiet) and ±Inf, and gets F16 subnormals and overflow right;
 * doubles are rounded once (through round-to-odd), never twice.
 *
 * <p>This is the hot path of an I/O-bound merge: bulk copies through scratch arrays and plain loops
 * the JIT vectorises, no boxing, no per-element ND4J calls.
 */
public final class TensorCodec {
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private TensorCodec() {}

  private static final class Scratch {
    short[] shorts = new short[0];
    float[] floats = new float[0];
    double[] doubles = new double[0];

    short[] shorts(int n) {
      if (shorts.length < n) {
        shorts = new short[n];
      }
      return shorts;
    }

    float[] floats(int n) {
      if (floats.length < n) {
        floats = new float[n];
      }
      return floats;
    }

    double[] doubles(int n) {
      if (doubles.length < n) {
        doubles = new double[n];
      }
      return doubles;
    }
  }

  /** Block size of the scratch conversions (elements). */
  private static final int BLOCK = 1 << 16;

  /**
   * Decodes {@code dest.length()} elements of {@code dtype} from {@code src} (little-endian, starting
   * at its position; the position advances) into {@code dest}, a contiguous FLOAT or DOUBLE array.
   * Returns how many decoded values are NaN or ±Inf (counted in the same pass, so checking inputs
   * costs no extra read of the data).
   */
  public static long decode(DType dtype, ByteBuffer src, INDArray dest) {
    ByteBuffer in = src.slice().order(ByteOrder.LITTLE_ENDIAN);
    long n = dest.length();
    ByteBuffer nio = dest.data().asNio().order(ByteOrder.nativeOrder());
    Scratch s = SCRATCH.get();
    long nonFinite = 0;
    if (dest.dataType() == DataType.FLOAT) {
      FloatBuffer out = nio.asFloatBuffer();
      out.position((int) dest.offset());
      for (long done = 0; done < n; done += BLOCK) {
        int k = (int) Math.min(BLOCK, n - done);
        float[] f = s.floats(k);
        decodeToFloat(dtype, in, f, k, s);
        nonFinite += countNonFinite(f, k);
        out.put(f, 0, k);
      }
    } else if (dest.dataType() == DataType.DOUBLE) {
      DoubleBuffer out = nio.asDoubleBuffer();
      out.position((int) dest.offset());
      for (long done = 0; done < n; done += BLOCK) {
        int k = (int) Math.min(BLOCK, n - done);
        double[] d = s.doubles(k);
        if (dtype == DType.F64) {
          in.asDoubleBuffer().get(d, 0, k);
          in.position(in.position() + 8 * k);
          for (int i = 0; i < k; i++) {
            nonFinite += Double.isFinite(d[i]) ? 0 : 1;
          }
        } else {
          float[] f = s.floats(k);
          decodeToFloat(dtype, in, f, k, s);
          nonFinite += countNonFinite(f, k);
          for (int i = 0; i < k; i++) {
            d[i] = f[i];
          }
        }
        out.put(d, 0, k);
      }
    } else {
      throw new IllegalArgumentException("decode target must be FLOAT or DOUBLE, not " + dest.dataType());
    }
    src.position(src.position() + in.position());
    // we wrote the host copy: on ND4J's CUDA backend the device copy is refreshed from it before its next use
    org.nd4j.linalg.factory.Nd4j.getAffinityManager().tagLocation(dest, org.nd4j.linalg.api.concurrency.AffinityManager.Location.HOST);
    return nonFinite;
  }

  /**
   * Decodes n elements of {@code dtype} from {@code src[off ..]} (little-endian) into {@code dst[0 .. n)}
   * as float32, exactly as {@link #decode(DType, ByteBuffer, INDArray)} does into a FLOAT array, and
   * returns how many are NaN or ±Inf. For the fused element-wise pass (no ND4J array in between).
   */
  public static int decode(DType dtype, byte[] src, int off, float[] dst, int n) {
    ByteBuffer in = ByteBuffer.wrap(src, off, n * dtype.size()).slice().order(ByteOrder.LITTLE_ENDIAN);
    decodeToFloat(dtype, in, dst, n, SCRATCH.get());
    return countNonFinite(dst, n);
  }

  /** {@link #decode(DType, byte[], int, float[], int)} without counting NaN/Inf. */
  public static void decodeUnchecked(DType dtype, byte[] src, int off, float[] dst, int n) {
    ByteBuffer in = ByteBuffer.wrap(src, off, n * dtype.size()).slice().order(ByteOrder.LITTLE_ENDIAN);
    decodeToFloat(dtype, in, dst, n, SCRATCH.get());
  }

  /** Encodes {@code src[0 .. n)} as {@code dtype} into {@code dst} at its position (which advances), as {@link #encode} does a FLOAT array. */
  public static void encode(float[] src, int n, DType dtype, ByteBuffer dst) {
    ByteBuffer out = dst.slice().order(ByteOrder.LITTLE_ENDIAN);
    encodeFloats(src, n, dtype, out, SCRATCH.get());
    dst.position(dst.position() + out.position());
  }

  /**
   * NaN and ±Inf have all exponent bits set: adding one unit of exponent then carries into bit 31
   * exactly for them. Branch-free, so the JIT vectorises it (profiled: the branchy form cost as much
   * as the BF16 decode itself).
   */
  public static int countNonFinite(float[] f, int k) {
    int bad = 0;
    for (int i = 0; i < k; i++) {
      bad += ((Float.floatToRawIntBits(f[i]) & 0x7F800000) + 0x00800000) >>> 31;
    }
    return bad;
  }

  private static void decodeToFloat(DType dtype, ByteBuffer in, float[] f, int k, Scratch s) {
    switch (dtype) {
      case F32 -> {
        in.asFloatBuffer().get(f, 0, k);
        in.position(in.position() + 4 * k);
      }
      case BF16 -> {
        short[] h = s.shorts(k);
        in.asShortBuffer().get(h, 0, k);
        in.position(in.position() + 2 * k);
        for (int i = 0; i < k; i++) {
          f[i] = Float.intBitsToFloat(h[i] << 16);
        }
      }
      case F16 -> {
        short[] h = s.shorts(k);
        in.asShortBuffer().get(h, 0, k);
        in.position(in.position() + 2 * k);
        for (int i = 0; i < k; i++) {
          f[i] = HalfFloats.f16ToFloat(h[i]);
        }
      }
      case F64 -> {
        DoubleBuffer db = in.asDoubleBuffer();
        for (int i = 0; i < k; i++) {
          f[i] = (float) db.get(i);
        }
        in.position(in.position() + 8 * k);
      }
      default -> throw new IllegalArgumentException("cannot decode " + dtype + " as floating point");
    }
  }

  /**
   * Encodes every element of {@code src} (a contiguous FLOAT or DOUBLE array) as {@code dtype} into
   * {@code dst} at its position (little-endian; the position advances).
   */
  public static void encode(INDArray src, DType dtype, ByteBuffer dst) {
    long n = src.length();
    ByteBuffer nio = src.data().asNio().order(ByteOrder.nativeOrder());
    ByteBuffer out = dst.slice().order(ByteOrder.LITTLE_ENDIAN);
    Scratch s = SCRATCH.get();
    boolean isFloat = src.dataType() == DataType.FLOAT;
    if (!isFloat && src.dataType() != DataType.DOUBLE) {
      throw new IllegalArgumentException("encode source must be FLOAT or DOUBLE, not " + src.dataType());
    }
    FloatBuffer fin = isFloat ? nio.asFloatBuffer() : null;
    DoubleBuffer din = isFloat ? null : nio.asDoubleBuffer();
    int base = (int) src.offset();
    for (long done = 0; done < n; done += BLOCK) {
      int k = (int) Math.min(BLOCK, n - done);
      int at = (int) (base + done);
      if (isFloat) {
        float[] f = s.floats(k);
        fin.get(at, f, 0, k);
        encodeFloats(f, k, dtype, out, s);
      } else {
        double[] d = s.doubles(k);
        din.get(at, d, 0, k);
        encodeDoubles(d, k, dtype, out, s);
      }
    }
    dst.position(dst.position() + out.position());
  }

  private static void encodeFloats(float[] f, int k, DType dtype, ByteBuffer out, Scratch s) {
    switch (dtype) {
      case F32 -> {
        out.asFloatBuffer().put(f, 0, k);
        out.position(out.position() + 4 * k);
      }
      case BF16, F16 -> {
        short[] h = s.shorts(k);
        if (dtype == DType.BF16) {
          for (int i = 0; i < k; i++) {
            h[i] = HalfFloats.floatToBf16(f[i]);
          }
        } else {
          for (int i = 0; i < k; i++) {
            h[i] = HalfFloats.floatToF16(f[i]);
          }
        }
        out.asShortBuffer().put(h, 0, k);
        out.position(out.position() + 2 * k);
      }
      case F64 -> {
        DoubleBuffer db = out.asDoubleBuffer();
        for (int i = 0; i < k; i++) {
          db.put(i, f[i]);
        }
        out.position(out.position() + 8 * k);
      }
      default -> throw new IllegalArgumentException("cannot encode floating point as " + dtype);
    }
  }

  private static void encodeDoubles(double[] d, int k, DType dtype, ByteBuffer out, Scratch s) {
    if (dtype == DType.F64) {
      out.asDoubleBuffer().put(d, 0, k);
      out.position(out.position() + 8 * k);
      return;
    }
    float[] f = s.floats(k);
    if (dtype == DType.F32) {
      for (int i = 0; i < k; i++) {
        f[i] = (float) d[i];
      }
    } else {
      // Round to odd first so the second rounding (to 8 or 11 bits) is the correct single rounding.
      for (int i = 0; i < k; i++) {
        f[i] = HalfFloats.toFloatRoundToOdd(d[i]);
      }
    }
    encodeFloats(f, k, dtype, out, s);
  }
}
