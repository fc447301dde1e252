package io.sparkmerge.math;

import io.sparkmerge.io.DType;
import io.sparkmerge.io.HalfFloats;
import java.io.Serializable;

/**
 * Arithmetic the way PyTorch does it on BF16/F16 tensors on the CPU, for {@code compute_dtype: input}
 * (docs/mergekit.md): every operation computes in float32 and rounds its result to the 16-bit dtype
 * (nearest even); a reduction accumulates in float32 and rounds once. Measured against torch 2.13:
 * products, sums, differences, quotients and dim-0 sums of BF16 and F16 tensors agree bit for bit
 * with this emulation, while ND4J's own BFLOAT16/HALF arithmetic does not (it rounds scalars and
 * accumulates reductions in 16 bits). Operands are values of the compute arrays (exact in float32).
 * {@link #NONE} is the float32 default: no rounding between operations.
 */
public final class InputRounding implements Serializable {
  public static final InputRounding NONE = new InputRounding(null);

  private final DType dtype;

  private InputRounding(DType dtype) {
    this.dtype = dtype;
  }

  /** Rounding to BF16 or F16; any other dtype (float32 and wider) needs none. */
  public static InputRounding to(DType dtype) {
    return dtype == DType.BF16 || dtype == DType.F16 ? new InputRounding(dtype) : NONE;
  }

  /** For the plan's fingerprint. */
  @Override
  public String toString() {
    return dtype == null ? "no rounding" : "rounded to " + dtype;
  }

  public boolean active() {
    return dtype != null;
  }

  public DType dtype() {
    return dtype;
  }

  /** A float32 result rounded to the dtype (unchanged when inactive). */
  public float round(float f) {
    if (dtype == DType.BF16) {
      return HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(f));
    }
    if (dtype == DType.F16) {
      return HalfFloats.f16ToFloat(HalfFloats.floatToF16(f));
    }
    return f;
  }

  /** Rounds every element of a decoded array in place (an input cast to the dtype, as mergekit casts to {@code dtype:}). */
  public void roundInPlace(org.nd4j.linalg.api.ndarray.INDArray a) {
    double[] buf = new double[(int) Math.min(Blocks.BLOCK, a.length())];
    for (long from = 0; from < a.length(); from += buf.length) {
      int n = (int) Math.min(buf.length, a.length() - from);
      Blocks.read(a, from, buf, n);
      for (int i = 0; i < n; i++) {
        buf[i] = round((float) buf[i]);
      }
      Blocks.write(a, from, buf, n);
    }
  }

  /** A Python scalar or config value as torch.tensor(v, dtype=…) holds it. */
  public float value(double v) {
    return round((float) v);
  }

  public float mul(double a, double b) {
    return round((float) a * (float) b);
  }

  public float add(double a, double b) {
    return round((float) a + (float) b);
  }

  public float sub(double a, double b) {
    return round((float) a - (float) b);
  }

  public float div(double a, double b) {
    return round((float) a / (float) b);
  }
}
