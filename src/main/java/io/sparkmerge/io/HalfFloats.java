package io.sparkmerge.io;

/**
 * Scalar conversions between float and the 16-bit formats (BF16, IEEE half), round to nearest even,
 * and float64 → float32 with round-to-odd (so a second rounding to 16 bits is a correct single rounding).
 */
public final class HalfFloats {
  private HalfFloats() {}

  /** The float nearest d toward zero, with its last bit set when d is not exactly representable. */
  public static float toFloatRoundToOdd(double d) {
    float f = (float) d;
    if (Double.isNaN(d) || (double) f == d) {
      return f;
    }
    if (Math.abs((double) f) > Math.abs(d)) {
      f = Math.nextAfter(f, 0.0);
    }
    return Float.intBitsToFloat(Float.floatToRawIntBits(f) | 1);
  }

  public static float bf16ToFloat(short h) {
    return Float.intBitsToFloat(h << 16);
  }

  /** Float → BF16, round to nearest even; NaN stays a (quiet) NaN, ±Inf stays ±Inf. */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7FFFFFFF) > 0x7F800000) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
  }

  public static float f16ToFloat(short h) {
    int sign = (h & 0x8000) << 16;
    int e = (h >>> 10) & 0x1F;
    int m = h & 0x3FF;
    if (e == 0) {
      float v = m * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    if (e == 31) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (m << 13));
    }
    return Float.intBitsToFloat(sign | ((e - 15 + 127) << 23) | (m << 13));
  }

  /** Float → IEEE half, round to nearest even, subnormals and overflow to ±Inf; NaN stays a (quiet) NaN. */
  public static short floatToF16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7FFFFFFF;
    if (abs >= 0x7F800000) {
      return (short) (sign | 0x7C00 | (abs > 0x7F800000 ? 0x0200 | ((abs >>> 13) & 0x3FF) : 0));
    }
    if (abs >= 0x477FF000) { // ≥ 65520 rounds past the largest half (65504)
      return (short) (sign | 0x7C00);
    }
    if (abs < 0x38800000) { // below 2^-14: a half subnormal or zero
      if (abs <= 0x33000000) { // ≤ 2^-25: rounds to zero (2^-25 itself ties to the even zero)
        return (short) sign;
      }
      int e = abs >>> 23;
      int mant = (abs & 0x7FFFFF) | 0x800000;
      int shift = 126 - e;
      int m = mant >>> shift;
      int rem = mant & ((1 << shift) - 1);
      int half = 1 << (shift - 1);
      if (rem > half || (rem == half && (m & 1) == 1)) {
        m++;
      }
      return (short) (sign | m);
    }
    int h = (((abs >>> 23) - 112) << 10) | ((abs & 0x7FFFFF) >>> 13);
    int rem = abs & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1)) {
      h++;
    }
    return (short) (sign | h);
  }
}
