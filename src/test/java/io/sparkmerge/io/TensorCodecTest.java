package io.sparkmerge.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TensorCodecTest {

  @Test
  void bf16KnownPatternsAndTiesToEven() {
    assertEquals((short) 0x3F80, HalfFloats.floatToBf16(1.0f));
    assertEquals((short) 0xC000, HalfFloats.floatToBf16(-2.0f));
    // exactly halfway: 0x3F808000 lies between 0x3F80 and 0x3F81 → the even one, 0x3F80
    assertEquals((short) 0x3F80, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F808000)));
    // halfway between 0x3F81 and 0x3F82 → 0x3F82 (even)
    assertEquals((short) 0x3F82, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F818000)));
    // just above halfway rounds up
    assertEquals((short) 0x3F81, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F808001)));
    assertEquals((short) 0x7F80, HalfFloats.floatToBf16(Float.POSITIVE_INFINITY));
    assertEquals((short) 0xFF80, HalfFloats.floatToBf16(Float.NEGATIVE_INFINITY));
    assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN))));
    // a NaN whose payload sits only in the low 16 bits must stay NaN, not become Inf
    assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x7F800001)))));
    // the largest float rounds past the largest bf16 to Inf
    assertEquals((short) 0x7F80, HalfFloats.floatToBf16(Float.MAX_VALUE));
    // subnormal float keeps its top bits
    assertEquals((short) 0x0001, HalfFloats.floatToBf16(Float.intBitsToFloat(0x00010000)));
    assertEquals(1.0f, HalfFloats.bf16ToFloat((short) 0x3F80));
  }

  @Test
  void bf16RoundingMatchesAnExhaustiveNearestSearch() {
    SplittableRandom r = new SplittableRandom(1);
    for (int k = 0; k < 20000; k++) {
      float f = Float.intBitsToFloat(r.nextInt());
      if (Float.isNaN(f) || Float.isInfinite(f)) {
        continue;
      }
      short got = HalfFloats.floatToBf16(f);
      // candidates: truncation and the next bf16 up in magnitude; pick nearest, ties to even mantissa
      int bits = Float.floatToRawIntBits(f);
      short lo = (short) (bits >>> 16);
      short hi = (short) (lo + 1);
      double dlo = Math.abs((double) HalfFloats.bf16ToFloat(lo) - f);
      double fhi = HalfFloats.bf16ToFloat(hi);
      double dhi = Double.isInfinite(fhi) ? Math.abs(Math.scalb(1.0, 128) * Math.signum(f) - f) : Math.abs(fhi - f);
      short expect = dlo < dhi ? lo : dhi < dlo ? hi : ((lo & 1) == 0 ? lo : hi);
      assertEquals(expect, got, "bf16 of " + f);
    }
  }

  @Test
  void f16KnownPatternsSubnormalsOverflow() {
    assertEquals((short) 0x3C00, HalfFloats.floatToF16(1.0f));
    assertEquals((short) 0x7BFF, HalfFloats.floatToF16(65504f));
    assertEquals((short) 0x7C00, HalfFloats.floatToF16(65520f), "65520 ties to even → Inf");
    assertEquals((short) 0x7BFF, HalfFloats.floatToF16(65519.99f));
    assertEquals((short) 0x0001, HalfFloats.floatToF16(0x1p-24f), "smallest subnormal half");
    assertEquals((short) 0x0000, HalfFloats.floatToF16(0x1p-25f), "2^-25 ties to even → 0");
    assertEquals((short) 0x0001, HalfFloats.floatToF16(Math.nextUp(0x1p-25f)));
    assertEquals((short) 0x0400, HalfFloats.floatToF16(0x1p-14f), "smallest normal half");
    assertEquals((short) 0x8000, HalfFloats.floatToF16(-0.0f));
    assertEquals((short) 0xFC00, HalfFloats.floatToF16(Float.NEGATIVE_INFINITY));
    assertTrue(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.floatToF16(Float.NaN))));
    assertEquals(0x1p-24f, HalfFloats.f16ToFloat((short) 0x0001));
    assertEquals(65504f, HalfFloats.f16ToFloat((short) 0x7BFF));
    assertEquals(Float.POSITIVE_INFINITY, HalfFloats.f16ToFloat((short) 0x7C00));
  }

  /** Independent reference: the nearest of all 65536 halves by exact decimal arithmetic, ties to even. */
  private static short nearestHalf(float f, float[] halves) {
    BigDecimal x = new BigDecimal(f);
    short best = 0;
    BigDecimal bestD = null;
    for (int h = 0; h < 0x10000; h++) {
      float v = halves[h];
      if (Float.isNaN(v) || Float.isInfinite(v) || ((h & 0x8000) != 0) != (f < 0)) {
        continue;
      }
      BigDecimal d = new BigDecimal(v).subtract(x).abs();
      int c = bestD == null ? -1 : d.compareTo(bestD);
      if (c < 0 || (c == 0 && (h & 1) == 0)) {
        best = (short) h;
        bestD = d;
      }
    }
    return best;
  }

  @Test
  void f16RoundingMatchesExactNearestSearch() {
    float[] halves = new float[0x10000];
    for (int h = 0; h < 0x10000; h++) {
      halves[h] = HalfFloats.f16ToFloat((short) h);
    }
    SplittableRandom r = new SplittableRandom(2);
    for (int k = 0; k < 150; k++) {
      // values spread over the half range, including subnormals
      float f = (float) (Math.scalb(r.nextDouble(1, 2), r.nextInt(-26, 16)) * (r.nextBoolean() ? 1 : -1));
      short got = HalfFloats.floatToF16(f);
      short want = nearestHalf(f, halves);
      assertEquals(HalfFloats.f16ToFloat(want), HalfFloats.f16ToFloat(got), "f16 of " + f);
    }
  }

  @Test
  void arrayRoundTripsForEveryDtypeAndBothComputeTypes() {
    float[] values = {0f, -0f, 1f, -1.5f, 3.14159f, 1e-8f, -65504f, 0x1p-24f, 123456.789f, Float.POSITIVE_INFINITY, Float.NaN};
    for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16, DType.F16}) {
      for (DataType ct : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
        INDArray a = Nd4j.createFromArray(values).castTo(ct).reshape(1, values.length);
        ByteBuffer buf = ByteBuffer.allocate(values.length * dt.size()).order(ByteOrder.LITTLE_ENDIAN);
        TensorCodec.encode(a, dt, buf);
        assertEquals(buf.capacity(), buf.position());
        buf.flip();
        INDArray back = Nd4j.createUninitialized(ct, 1, values.length);
        TensorCodec.decode(dt, buf, back);
        for (int i = 0; i < values.length; i++) {
          double want = switch (dt) {
            case F32, F64 -> values[i];
            case BF16 -> HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(values[i]));
            case F16 -> HalfFloats.f16ToFloat(HalfFloats.floatToF16(values[i]));
            default -> throw new IllegalStateException();
          };
          double got = back.getDouble(0, i);
          if (Double.isNaN(want)) {
            assertTrue(Double.isNaN(got), dt + "/" + ct + " NaN");
          } else {
            assertEquals(want, got, 0.0, dt + "/" + ct + " element " + i);
          }
        }
      }
    }
  }

  @Test
  void arrayBf16PathsMatchTheScalarDefinitionsOnEveryBf16AndManyFloatPatterns() {
    // decode: all 65536 BF16 patterns through the array path, bit-exact, NaN/Inf counted
    int n = 1 << 16;
    ByteBuffer in = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
    int nonFinite = 0;
    for (int h = 0; h < n; h++) {
      in.putShort((short) h);
      nonFinite += Float.isFinite(HalfFloats.bf16ToFloat((short) h)) ? 0 : 1;
    }
    in.flip();
    INDArray dec = Nd4j.createUninitialized(DataType.FLOAT, 1, n);
    assertEquals(nonFinite, TensorCodec.decode(DType.BF16, in, dec), "NaN/Inf counted");
    assertEquals(256, nonFinite, "exponent all ones: 2 signs × 128 mantissas (±Inf and NaNs)");
    float[] got = dec.data().asFloat();
    for (int h = 0; h < n; h++) {
      assertEquals(Float.floatToRawIntBits(HalfFloats.bf16ToFloat((short) h)), Float.floatToRawIntBits(got[h]), "bf16 " + h);
    }
    // encode: every high half with low halves at and around the rounding boundaries, plus random ones
    int[] lows = {0, 1, 0x3FFF, 0x7FFE, 0x7FFF, 0x8000, 0x8001, 0xBFFF, 0xFFFE, 0xFFFF};
    SplittableRandom rnd = new SplittableRandom(11);
    int m = n * (lows.length + 2);
    int[] bits = new int[m];
    for (int hi = 0, i = 0; hi < n; hi++) {
      for (int lo : lows) {
        bits[i++] = (hi << 16) | lo;
      }
      bits[i++] = (hi << 16) | rnd.nextInt(1 << 16);
      bits[i++] = rnd.nextInt();
    }
    // through encode() of a FLOAT array, against the scalar definition
    INDArray src = Nd4j.createUninitialized(DataType.FLOAT, 1, m);
    src.data().asNio().order(ByteOrder.nativeOrder()).asIntBuffer().put(bits);
    ByteBuffer out = ByteBuffer.allocate(2 * m).order(ByteOrder.LITTLE_ENDIAN);
    TensorCodec.encode(src, DType.BF16, out);
    for (int i = 0; i < m; i++) {
      assertEquals(HalfFloats.floatToBf16(Float.intBitsToFloat(bits[i])), out.getShort(2 * i),
          "encode() of float bits " + Integer.toHexString(bits[i]));
    }
  }

  @Test
  void doublesRoundOnceToBf16() {
    // 1 + 2^-8 + 2^-40: just above the bf16 halfway point 1 + 2^-8. Through float it would become exactly
    // the halfway value (1 + 2^-8) and tie to even 1.0; the correct single rounding is up to 1 + 2^-7.
    double d = 1 + 0x1p-8 + 0x1p-40;
    INDArray a = Nd4j.createFromArray(new double[] {d}).reshape(1, 1);
    ByteBuffer buf = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
    TensorCodec.encode(a, DType.BF16, buf);
    assertEquals((short) 0x3F81, buf.getShort(0));
  }

  @Test
  void knownLittleEndianBytes() {
    INDArray a = Nd4j.createFromArray(1.0f, -2.0f).reshape(1, 2);
    ByteBuffer f32 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    TensorCodec.encode(a, DType.F32, f32);
    assertEquals("0000803f000000c0", java.util.HexFormat.of().formatHex(f32.array()));
    ByteBuffer bf = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    TensorCodec.encode(a, DType.BF16, bf);
    assertEquals("803f00c0", java.util.HexFormat.of().formatHex(bf.array()));
  }
}
