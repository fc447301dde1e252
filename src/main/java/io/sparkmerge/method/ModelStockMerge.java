package io.sparkmerge.method;

import io.sparkmerge.math.BlockGram;
import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.Spherical;
import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.InputDataException;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code model_stock} (methods.md §1): with cos the mean pairwise cosine of the task vectors (over
 * the whole tensor, or per row with {@code filter_wise}), t = T·cos / (1 + (T−1)·cos) and
 * θ = t·mean_t θ_t + (1−t)·θ₀. A zero denominator (cos = −1/(T−1)) leaves t undefined: that is an
 * input-data error naming the tensor, not a silent NaN.
 */
final class ModelStockMerge extends MethodBase {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .add("filter_wise", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, false);

  ModelStockMerge() {
    super("model_stock", BaseUse.REQUIRED, PARAMS, Chunking.ROWS); // per-row vectors: a row is never split
    modelCount(2, Integer.MAX_VALUE, "merge_method 'model_stock' needs a base and at least two other models, got ",
        " besides the base");
  }

  /** t from the task vectors' Gram matrix. */
  static double ratio(double[][] g, String tensor, String where) {
    int m = g.length;
    double sum = 0;
    int pairs = 0;
    for (int i = 0; i < m; i++) {
      for (int j = i + 1; j < m; j++) {
        sum += g[i][j] / Math.max(Math.sqrt(g[i][i]) * Math.sqrt(g[j][j]), 1e-6);
        pairs++;
      }
    }
    double cos = sum / pairs;
    double denominator = 1 + (m - 1) * cos;
    if (denominator == 0) {
      throw new InputDataException("tensor " + tensor + where + ": model_stock is undefined (1 + (T−1)·cos = 0 for cos = " + cos
          + "); merge this tensor with another method via a tensors: override");
    }
    return m * cos / denominator;
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    boolean filterWise = ctx.global().getBoolean("filter_wise");
    int models = ctx.modelCount();
    String name = ctx.tensorName();
    return new TensorMerge() {
      private final double[][] gram = new double[models][models];
      private double t = Double.NaN;

      @Override
      public int preparationPasses() {
        return filterWise ? 0 : 1;
      }

      @Override
      public void prepare(int pass, TensorChunk chunk) {
        BlockGram.add(chunk.models(), chunk.base(), gram);
      }

      @Override
      public INDArray merge(TensorChunk chunk) {
        int cols = (int) chunk.rowLength();
        if (!filterWise && Double.isNaN(t)) {
          t = ratio(gram, name, "");
        }
        INDArray out = chunk.newOutput(chunk.base().dataType());
        double[] b = new double[cols];
        double[][] x = new double[models][cols];
        double[] res = new double[cols];
        for (int r = 0; r < chunk.rows(); r++) {
          long from = (long) r * cols;
          Blocks.read(chunk.base(), from, b, cols);
          for (int i = 0; i < models; i++) {
            Blocks.read(chunk.models()[i], from, x[i], cols);
          }
          double rt = t;
          if (filterWise) {
            double[][] g = new double[models][models];
            double[][] tau = new double[models][cols];
            for (int i = 0; i < models; i++) {
              for (int j = 0; j < cols; j++) {
                tau[i][j] = x[i][j] - b[j];
              }
            }
            Spherical.accumulateGram(tau, cols, g);
            rt = ratio(g, name, " row " + (chunk.firstRow() + r));
          }
          for (int j = 0; j < cols; j++) {
            double mean = 0;
            for (int i = 0; i < models; i++) {
              mean += x[i][j];
            }
            mean /= models;
            res[j] = rt * mean + (1 - rt) * b[j];
          }
          Blocks.write(out, from, res, cols);
        }
        return out;
      }
    };
  }
}
