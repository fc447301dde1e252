package io.sparkmerge.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sparkmerge.io.DType;
import io.sparkmerge.io.TensorCodec;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * compute_dtype: input rounds like PyTorch on the CPU. The reference is torch's own BF16/F16
 * arithmetic (src/test/resources/torch-rounding, written by make_fixture.py there with torch 2.13):
 * every product, sum, difference, quotient, scalar product and dim-0 (weighted) sum agrees bit for bit.
 */
class InputRoundingTest {
  private static final int N = 256;

  private static short[] fixture(String name) throws Exception {
    try (InputStream in = InputRoundingTest.class.getResourceAsStream("/torch-rounding/" + name + ".bin")) {
      byte[] b = in.readAllBytes();
      short[] s = new short[b.length / 2];
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(s);
      return s;
    }
  }

  private static float decode(short h, DType d) {
    return d == DType.BF16 ? io.sparkmerge.io.HalfFloats.bf16ToFloat(h) : io.sparkmerge.io.HalfFloats.f16ToFloat(h);
  }

  private static void check(DType d, String file) throws Exception {
    short[] s = fixture(file);
    InputRounding r = InputRounding.to(d);
    float[][] part = new float[s.length / N][N];
    for (int p = 0; p < part.length; p++) {
      for (int i = 0; i < N; i++) {
        part[p][i] = decode(s[p * N + i], d);
      }
    }
    float[] a = part[0];
    float[] b = part[1];
    float[] c = part[2];
    float[] w = {r.value(0.3), r.value(0.5), r.value(0.2)};
    String[] what = {"a*b", "a+b", "a-b", "a/b", "a*0.3", "sum0", "weighted sum0"};
    for (int i = 0; i < N; i++) {
      float[] got = {r.mul(a[i], b[i]), r.add(a[i], b[i]), r.sub(a[i], b[i]), r.div(a[i], b[i]), r.mul(a[i], 0.3),
          r.round(a[i] + b[i] + c[i]), r.round(r.mul(w[0], a[i]) + r.mul(w[1], b[i]) + r.mul(w[2], c[i]))};
      for (int k = 0; k < got.length; k++) {
        assertEquals(Float.floatToIntBits(part[3 + k][i]), Float.floatToIntBits(got[k]), d + " " + what[k] + " element " + i);
      }
    }
  }

  @Test
  void bf16ArithmeticIsTorchsBitForBit() throws Exception {
    check(DType.BF16, "bf16");
  }

  @Test
  void f16ArithmeticIsTorchsBitForBit() throws Exception {
    check(DType.F16, "f16");
  }

  @Test
  void worked16BitRoundingsAndTheFloat32Default() {
    InputRounding bf = InputRounding.to(DType.BF16);
    assertEquals(1.0f, bf.round(1f + 0x1p-8f), "a tie (halfway between 1 and 1 + 2^-7) goes to the even 1");
    assertEquals(1f + 0x1p-6f, bf.round(1f + 0x1.8p-7f), "halfway between 1 + 2^-7 and 1 + 2^-6 goes to the even 1 + 2^-6");
    assertEquals(1f + 0x1p-7f, bf.round(1f + 0x1.1p-8f), "above halfway rounds up");
    InputRounding h = InputRounding.to(DType.F16);
    assertEquals(1f, h.round(1f + 0x1p-11f), "f16 tie at 1 + 2^-11 goes to the even 1");
    assertEquals(Float.POSITIVE_INFINITY, h.round(65520f), "past the largest half");
    assertFalse(InputRounding.to(DType.F32).active());
    assertEquals(0.1f + 0.2f, InputRounding.NONE.add(0.1f, 0.2f), "float32: one float rounding, no more");
  }

  @Test
  void roundInPlaceRoundsEveryElementOfADecodedArray() {
    org.nd4j.linalg.api.ndarray.INDArray a = org.nd4j.linalg.factory.Nd4j.createFromArray(
        new float[] {1f + 0x1p-8f, 1f + 0x1.1p-8f, -3.14159f, 0f}).reshape(2, 2);
    InputRounding.to(DType.BF16).roundInPlace(a);
    float[] v = a.data().asFloat();
    assertEquals(1f, v[0]);
    assertEquals(1f + 0x1p-7f, v[1]);
    assertEquals(io.sparkmerge.io.HalfFloats.bf16ToFloat(io.sparkmerge.io.HalfFloats.floatToBf16(-3.14159f)), v[2]);
    assertEquals(0f, v[3]);
  }
}
