package io.sparkmerge.method;

import io.sparkmerge.math.Shapes;
import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.MagnitudeCut;
import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.ConfigException;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code sce} (FuseChat, methods.md §1). Select: with {@code select_topk} < 1, keep the
 * ⌊select_topk · #nonzero(var)⌋ positions where the task vectors vary most across models (the same
 * positions for every model; equal variances broken by lower flat index first; found by selection,
 * not sorting). Calculate: w_t = mean(τ_t²)/Σ_j mean(τ_j²) over the selected task vectors (uniform if
 * the sum < 1e-6; as mergekit, after the selection). Erase: TIES sign consensus (sign of Σ τ_t, zero
 * elects +; zeros never kept). θ = θ₀ + Σ w_t m_t τ_t / max(Σ w_t m_t, 1e-6).
 *
 * <p>Passes: the variances (when selecting), then the selected squared norms, then the merge.
 */
final class SceMerge extends MethodBase {
  private static final ParamSpec PARAMS = ParamSpec.builder()
      .addRange("select_topk", ParamSpec.Scope.GLOBAL, 1.0, "(0, 1]");

  SceMerge() {
    super("sce", BaseUse.REQUIRED, PARAMS);
  }

  @Override
  public void validate(TensorMergeContext ctx) {
    if (ctx.global().getDouble("select_topk") < 1 && ctx.numel() > Integer.MAX_VALUE) {
      throw new ConfigException("tensor " + ctx.tensorName() + " has " + ctx.numel() + " entries; sce's selection supports up to"
          + " 2^31 − 1 per tensor; route it to another method with a tensors: override");
    }
  }

  @Override
  public Cost cost(long[] shape, int modelCount, int elementSize) {
    return Cost.memory(Shapes.numel(shape) * 8);
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    return new Tensor(ctx.modelCount(), ctx.numel(), ctx.global().getDouble("select_topk"));
  }

  private static final class Tensor implements TensorMerge {
    private final int models;
    private final long numel;
    private final double topk;
    private final boolean selects;
    private double[] variance;
    private int filled;
    private MagnitudeCut cut = MagnitudeCut.ALL;
    private final double[] sumSq;
    private double[] weight;

    Tensor(int models, long numel, double topk) {
      this.models = models;
      this.numel = numel;
      this.topk = topk;
      this.selects = topk < 1;
      this.sumSq = new double[models];
      if (selects) {
        variance = new double[(int) numel];
      }
    }

    @Override
    public int preparationPasses() {
      return selects ? 2 : 1;
    }

    @Override
    public void prepare(int pass, TensorChunk chunk) {
      boolean variancePass = selects && pass == 0;
      if (!variancePass && selects && variance != null) {
        int nonzero = 0;
        for (int i = 0; i < filled; i++) {
          nonzero += variance[i] != 0 ? 1 : 0;
        }
        cut = MagnitudeCut.top(variance, filled, (long) Math.floor(topk * nonzero));
        variance = null;
      }
      forEachBlock(chunk, (from, n, b, tau) -> {
        for (int i = 0; i < n; i++) {
          if (variancePass) {
            variance[filled + i] = varianceOf(tau, i);
          } else if (cut.next(varianceOf(tau, i))) {
            for (int t = 0; t < models; t++) {
              sumSq[t] += tau[t][i] * tau[t][i];
            }
          }
        }
        if (variancePass) {
          filled += n;
        }
      });
    }

    private double varianceOf(double[][] tau, int i) {
      double mean = 0;
      for (int t = 0; t < models; t++) {
        mean += tau[t][i];
      }
      mean /= models;
      double v = 0;
      for (int t = 0; t < models; t++) {
        v += (tau[t][i] - mean) * (tau[t][i] - mean);
      }
      return v / models;
    }

    @Override
    public INDArray merge(TensorChunk chunk) {
      if (weight == null) {
        weight = new double[models];
        double total = 0;
        for (double s : sumSq) {
          total += s / numel;
        }
        for (int t = 0; t < models; t++) {
          weight[t] = total < 1e-6 ? 1.0 / models : (sumSq[t] / numel) / total;
        }
        cut = cut.restart();
      }
      INDArray out = chunk.newOutput(chunk.base().dataType());
      double[] res = new double[(int) Math.min(Blocks.BLOCK, chunk.length())];
      forEachBlock(chunk, (from, n, b, tau) -> {
        for (int i = 0; i < n; i++) {
          boolean selected = cut.next(varianceOf(tau, i));
          double sum = 0;
          if (selected) {
            for (int t = 0; t < models; t++) {
              sum += tau[t][i];
            }
          }
          boolean positive = sum >= 0;
          double num = 0;
          double den = 0;
          if (selected) {
            for (int t = 0; t < models; t++) {
              double v = tau[t][i];
              if (v != 0 && (v > 0) == positive) {
                num += weight[t] * v;
                den += weight[t];
              }
            }
          }
          res[i] = b[i] + num / Math.max(den, 1e-6);
        }
        Blocks.write(out, from, res, n);
      });
      return out;
    }

    private interface Visitor {
      void visit(long from, int n, double[] base, double[][] tau);
    }

    /** Whole chunk in blocks of Blocks.BLOCK elements, in flat order (the selection's tie counter relies on it). */
    private void forEachBlock(TensorChunk chunk, Visitor v) {
      long len = chunk.length();
      int cap = (int) Math.min(Blocks.BLOCK, len);
      double[] b = new double[cap];
      double[][] tau = new double[models][cap];
      for (long from = 0; from < len; from += cap) {
        int n = (int) Math.min(cap, len - from);
        Blocks.read(chunk.base(), from, b, n);
        for (int t = 0; t < models; t++) {
          Blocks.read(chunk.models()[t], from, tau[t], n);
          for (int i = 0; i < n; i++) {
            tau[t][i] -= b[i];
          }
        }
        v.visit(from, n, b, tau);
      }
    }
  }
}
