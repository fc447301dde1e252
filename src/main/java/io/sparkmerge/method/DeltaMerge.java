package io.sparkmerge.method;

import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.InputRounding;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A tensor merge of the form θ = θ₀ + λ·Δ whose Δ does not depend on λ (the task-arithmetic family:
 * sparsify → consensus → combine). Everything expensive — selections, random masks, sign election —
 * is in Δ; λ enters only through {@link #combine}. A merge of many candidates that differ only by λ
 * (a sweep) calls {@link #deltas} once per chunk and {@link #combine} once per candidate, and gets,
 * bit for bit, what a single merge with that λ computes, because {@link #merge} is exactly that.
 */
public interface DeltaMerge extends ScaledMerge {

  /** Receives Δ of a chunk block by block: entries {@code from .. from + n − 1} of the chunk (flat). */
  interface DeltaSink {
    /** The arrays are reused after the call. */
    void block(long from, int n, double[] base, double[] delta);
  }

  /** This tensor's λ. */
  double lambda();

  /** The dtype merged values are computed in (the chunk's output arrays). */
  DataType computeType();

  /** How the combine rounds (compute_dtype: input), or {@link InputRounding#NONE}. */
  InputRounding rounding();

  /** Δ of every entry of the chunk, in flat order, after the preparation passes. */
  void deltas(TensorChunk chunk, DeltaSink sink);

  /**
   * θ = θ₀ + λ·Δ for n entries: the one formula of a merge and of every λ candidate. With compute_dtype:
   * input each operation rounds, in mergekit's order (λ·Δ only when λ ≠ 1, then θ₀ + …).
   */
  static void combine(InputRounding r, double[] base, double lambda, double[] delta, int n, double[] out) {
    if (r.active()) {
      for (int i = 0; i < n; i++) {
        out[i] = r.add(base[i], lambda != 1 ? r.mul(delta[i], lambda) : (float) delta[i]);
      }
      return;
    }
    for (int i = 0; i < n; i++) {
      out[i] = base[i] + lambda * delta[i];
    }
  }

  /** Δ of the chunk is computed once (kept in float64, one value per entry), then θ₀ + λ_k·Δ per candidate. */
  @Override
  default void mergeScaled(TensorChunk chunk, double[] lambdas, CandidateSink sink) {
    int len = Math.toIntExact(chunk.length());
    double[] delta = new double[len];
    deltas(chunk, (from, n, base, d) -> System.arraycopy(d, 0, delta, (int) from, n));
    InputRounding r = rounding();
    double[] base = new double[Math.min(len, Blocks.BLOCK)];
    double[] theta = new double[base.length];
    double[] part = new double[base.length];
    for (int k = 0; k < lambdas.length; k++) {
      INDArray out = chunk.newOutput(computeType());
      for (int from = 0; from < len; from += base.length) {
        int n = Math.min(base.length, len - from);
        Blocks.read(chunk.base(), from, base, n);
        System.arraycopy(delta, from, part, 0, n);
        combine(r, base, lambdas[k], part, n, theta);
        Blocks.write(out, from, theta, n);
      }
      sink.accept(k, out);
    }
  }

  @Override
  default INDArray merge(TensorChunk chunk) {
    INDArray out = chunk.newOutput(computeType());
    double lambda = lambda();
    InputRounding r = rounding();
    double[][] theta = {new double[0]};
    deltas(chunk, (from, n, base, delta) -> {
      if (theta[0].length < n) {
        theta[0] = new double[n];
      }
      combine(r, base, lambda, delta, n, theta[0]);
      Blocks.write(out, from, theta[0], n);
    });
    return out;
  }
}
