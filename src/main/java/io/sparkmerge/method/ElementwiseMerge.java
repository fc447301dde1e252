package io.sparkmerge.method;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A per-tensor merge in float32 whose output element i depends only on the inputs' element i, with
 * no preparation pass. Its arithmetic is {@link #mergeBlock}, the one place it lives: the runner may
 * feed it blocks decoded straight from the input bytes and encode its blocks straight into the output
 * (exec's fused pass: no intermediate off-heap arrays), and {@link #merge} drives the same kernel over
 * a decoded chunk for every other caller (masks, tests, permuted embedding rows).
 *
 * <p>A method whose θ = θ₀ + λ·Δ computes Δ in the kernel's first step, so a kernel producing several
 * outputs per block (one per λ candidate, issue 18's sweep) adds a loop over λ after Δ, not a new pass.
 */
public interface ElementwiseMerge extends TensorMerge {
  /** Elements per block of {@link #merge} (fits in L2 with a few inputs). */
  int BLOCK = 1 << 14;

  /**
   * out[i] = the merge of base[i] (null when the method reads no base) and models[t][i], for
   * i &lt; n; the inputs are read-only and at least n long.
   */
  void mergeBlock(float[] base, float[][] models, int n, float[] out);

  /**
   * Whether a NaN or ±Inf in any input always gives a NaN or ±Inf output element (true of a weighted
   * sum: w·NaN, 0·Inf and Inf − Inf are NaN). Then the runner checks the inputs for non-finite values
   * only in a block whose output has some, instead of counting every input element.
   */
  default boolean propagatesNonFinite() {
    return false;
  }

  @Override
  default int preparationPasses() {
    return 0;
  }

  /** The chunk's FLOAT arrays through {@link #mergeBlock}, block by block. */
  @Override
  default INDArray merge(TensorChunk chunk) {
    INDArray[] in = chunk.models();
    INDArray out = chunk.newOutput(DataType.FLOAT);
    FloatBuffer[] src = new FloatBuffer[in.length];
    for (int t = 0; t < in.length; t++) {
      src[t] = floats(in[t]);
    }
    FloatBuffer baseSrc = chunk.base() == null ? null : floats(chunk.base());
    FloatBuffer dst = floats(out);
    int len = Math.toIntExact(chunk.length());
    float[][] x = new float[in.length][Math.min(BLOCK, len)];
    float[] base = baseSrc == null ? null : new float[Math.min(BLOCK, len)];
    float[] o = new float[Math.min(BLOCK, len)];
    for (int from = 0; from < len; from += BLOCK) {
      int n = Math.min(BLOCK, len - from);
      for (int t = 0; t < in.length; t++) {
        src[t].get((int) in[t].offset() + from, x[t], 0, n);
      }
      if (base != null) {
        baseSrc.get((int) chunk.base().offset() + from, base, 0, n);
      }
      mergeBlock(base, x, n, o);
      dst.put((int) out.offset() + from, o, 0, n);
    }
    io.sparkmerge.math.Blocks.hostWritten(out);
    return out;
  }

  private static FloatBuffer floats(INDArray a) {
    if (a.dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException("an element-wise float32 merge got a " + a.dataType() + " array");
    }
    return a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
  }
}
