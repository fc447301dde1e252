package io.sparkmerge.method;

import io.sparkmerge.math.Blocks;
import io.sparkmerge.param.ParamSpec;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code arcee_fusion} (mergekit merge_methods/arcee_fusion.py; methods.md): the base a and one other model b;
 * importance s = |b − a|·KL(softmax(b) ‖ softmax(a)) with the softmaxes (+ 10⁻⁸) and the KL divergence taken
 * along the last dimension (per row; a 1-D tensor is one row); the entries with s ≥ median + 1.5·IQR of s take
 * b's value, the others keep a's. The quantiles are mergekit's: sorted s at index ⌊q·(n − 1)⌋. mergekit draws
 * 10⁶ entries at random (torch.randperm) for tensors larger than that; sparkmerge uses every entry (exact
 * quantiles), so those tensors may differ at the threshold. Needs the whole tensor (one chunk).
 */
final class ArceeFusionMerge extends MethodBase {
  static final double EPS = 1e-8;

  ArceeFusionMerge() {
    super("arcee_fusion", BaseUse.REQUIRED, ParamSpec.builder());
    modelCount(1, 1, "merge_method 'arcee_fusion' fuses the base with exactly one other model, got ",
        " besides the base; list one model under models:");
  }

  @Override
  public Chunking chunking() {
    return Chunking.WHOLE_TENSOR;
  }

  @Override
  public Cost cost(long[] shape, int modelCount, int elementSize) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return new Cost(n * (2L * 8 + 8 + 8), n * 40.0); // a, b, s and its sorted copy in doubles
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    long[] shape = ctx.shape();
    return chunk -> {
      int n = Math.toIntExact(chunk.length());
      int cols = shape.length == 0 ? 1 : Math.toIntExact(shape[shape.length - 1]);
      double[] a = new double[n];
      double[] b = new double[n];
      Blocks.read(chunk.base(), 0, a, n);
      Blocks.read(chunk.models()[0], 0, b, n);
      double[] s = importance(a, b, cols);
      double threshold = threshold(s);
      for (int i = 0; i < n; i++) {
        if (s[i] >= threshold) {
          a[i] = b[i];
        }
      }
      INDArray out = chunk.newOutput(chunk.base().dataType());
      Blocks.write(out, 0, a, n);
      return out;
    };
  }

  /** |b − a| times the row's KL(softmax(b) + ε ‖ softmax(a) + ε). */
  static double[] importance(double[] a, double[] b, int cols) {
    double[] s = new double[a.length];
    double[] p = new double[cols];
    double[] q = new double[cols];
    for (int r = 0; r < a.length; r += cols) {
      softmax(b, r, cols, p);
      softmax(a, r, cols, q);
      double kl = 0;
      for (int j = 0; j < cols; j++) {
        kl += p[j] * Math.log(p[j] / q[j]);
      }
      for (int j = 0; j < cols; j++) {
        s[r + j] = Math.abs(b[r + j] - a[r + j]) * kl;
      }
    }
    return s;
  }

  private static void softmax(double[] x, int from, int n, double[] out) {
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < n; j++) {
      max = Math.max(max, x[from + j]);
    }
    double sum = 0;
    for (int j = 0; j < n; j++) {
      out[j] = Math.exp(x[from + j] - max);
      sum += out[j];
    }
    for (int j = 0; j < n; j++) {
      out[j] = out[j] / sum + EPS;
    }
  }

  /** median + 1.5·(q3 − q1), the quantiles at sorted index ⌊q·(n − 1)⌋ (q and the product in float32, as torch). */
  static double threshold(double[] s) {
    double[] sorted = s.clone();
    Arrays.sort(sorted);
    int last = sorted.length - 1;
    double median = sorted[(int) (0.5f * last)];
    double q1 = sorted[(int) (0.25f * last)];
    double q3 = sorted[(int) (0.75f * last)];
    return median + 1.5 * (q3 - q1);
  }
}
