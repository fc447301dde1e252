package io.sparkmerge.method;

import io.sparkmerge.math.BlockGram;
import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.Spherical;
import io.sparkmerge.param.ParamSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code nuslerp} (methods.md §1): SLERP between two models at t = w₂/(w₁+w₂) (0.5 when |w₁+w₂| <
 * 1e-6); with a base, between their task vectors, added back to θ₀. {@code nuslerp_flatten} (default
 * true) treats the tensor as one vector (inner products gathered in a preparation pass); otherwise
 * each vector along the last dimension is interpolated on its own, or, with
 * {@code nuslerp_row_wise: true}, each vector along the first dimension (the columns of a matrix).
 * That axis choice follows mergekit's code ({@code dim=0 if row_wise else -1}), whose README words it
 * the other way round. A 1-D tensor is always one vector.
 */
final class NuslerpMerge extends MethodBase {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .add("weight", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, null)
      .add("nuslerp_flatten", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, true)
      .add("nuslerp_row_wise", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, false);

  NuslerpMerge() {
    super("nuslerp", BaseUse.OPTIONAL, PARAMS, Chunking.ROWS); // per-row vectors: a row is never split
    modelCount(2, 2, "merge_method 'nuslerp' takes exactly two models (plus an optional base), got ", "");
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    double w1 = ctx.perModel().get(0).getDouble("weight");
    double w2 = ctx.perModel().get(1).getDouble("weight");
    double t = Math.abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
    boolean oneVector = ctx.global().getBoolean("nuslerp_flatten") || ctx.shape().length < 2;
    boolean columns = !oneVector && ctx.global().getBoolean("nuslerp_row_wise");
    long lastDim = ctx.shape().length < 2 ? 0 : ctx.shape()[ctx.shape().length - 1];
    return new Tensor(new Layout(t, oneVector, columns, lastDim));
  }

  /** A tensor's settings: t, and which vectors are interpolated (the whole tensor, its columns, or its rows of lastDim). */
  private record Layout(double t, boolean oneVector, boolean columns, long lastDim) {}

  /** One tensor's nuslerp in one of three vector layouts. */
  private static final class Tensor implements TensorMerge {
    private final Layout layout;
    private final double[][] gram = new double[2][2];
    private double[][] colSums; // per column: ⟨v0,v0⟩, ⟨v1,v1⟩, ⟨v0,v1⟩

    Tensor(Layout layout) {
      this.layout = layout;
    }

    @Override
    public int preparationPasses() {
      return layout.oneVector() || layout.columns() ? 1 : 0;
    }

    @Override
    public void prepare(int pass, TensorChunk chunk) {
      if (layout.oneVector()) {
        BlockGram.add(chunk.models(), chunk.base(), gram);
        return;
      }
      int cols = (int) chunk.rowLength();
      if (colSums == null) {
        colSums = new double[3][cols];
      }
      double[][] v = new double[2][cols];
      for (int r = 0; r < chunk.rows(); r++) {
        readRow(chunk, r, v);
        for (int j = 0; j < cols; j++) {
          colSums[0][j] += v[0][j] * v[0][j];
          colSums[1][j] += v[1][j] * v[1][j];
          colSums[2][j] += v[0][j] * v[1][j];
        }
      }
    }

    @Override
    public INDArray merge(TensorChunk chunk) {
      int cols = (int) chunk.rowLength();
      INDArray out = chunk.newOutput(chunk.models()[0].dataType());
      double[][] v = new double[2][cols];
      double[] base = new double[cols];
      double[] res = new double[cols];
      double[] whole = layout.oneVector() ? Spherical.nuslerp(layout.t(), gram[0][0], gram[1][1], gram[0][1]) : null;
      for (int r = 0; r < chunk.rows(); r++) {
        readRow(chunk, r, v);
        if (chunk.base() != null) {
          Blocks.read(chunk.base(), (long) r * cols, base, cols);
        }
        if (layout.oneVector()) {
          interpolate(whole, v, base, res, 0, cols);
        } else if (layout.columns()) {
          for (int j = 0; j < cols; j++) {
            double[] c = Spherical.nuslerp(layout.t(), colSums[0][j], colSums[1][j], colSums[2][j]);
            interpolate(c, v, base, res, j, j + 1);
          }
        } else {
          for (int s = 0; s < cols; s += (int) layout.lastDim()) {
            double n00 = 0;
            double n11 = 0;
            double n01 = 0;
            for (int j = s; j < s + layout.lastDim(); j++) {
              n00 += v[0][j] * v[0][j];
              n11 += v[1][j] * v[1][j];
              n01 += v[0][j] * v[1][j];
            }
            interpolate(Spherical.nuslerp(layout.t(), n00, n11, n01), v, base, res, s, (int) (s + layout.lastDim()));
          }
        }
        Blocks.write(out, (long) r * cols, res, cols);
      }
      return out;
    }

    /** res[from..to) = base + c0·v0 + c1·v1 (base is zeros without a base model). */
    private static void interpolate(double[] c, double[][] v, double[] base, double[] res, int from, int to) {
      for (int j = from; j < to; j++) {
        res[j] = base[j] + c[0] * v[0][j] + c[1] * v[1][j];
      }
    }

    /** The two vectors of row r: the models, minus the base when there is one. */
    private static void readRow(TensorChunk chunk, int r, double[][] v) {
      int cols = (int) chunk.rowLength();
      Blocks.read(chunk.models()[0], (long) r * cols, v[0], cols);
      Blocks.read(chunk.models()[1], (long) r * cols, v[1], cols);
      if (chunk.base() != null) {
        double[] b = new double[cols];
        Blocks.read(chunk.base(), (long) r * cols, b, cols);
        for (int j = 0; j < cols; j++) {
          v[0][j] -= b[j];
          v[1][j] -= b[j];
        }
      }
    }
  }
}
