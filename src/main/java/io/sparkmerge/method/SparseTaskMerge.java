package io.sparkmerge.method;

import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.DeterministicRandom;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.math.MagnitudeCut;
import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.method.GeneralizedTaskArithmetic.Sparsifier;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One tensor's merge for {@link GeneralizedTaskArithmetic}. Work goes block by block (whole rows)
 * over each chunk. Whole-tensor quantities are gathered in one preparation pass: the magnitudes for
 * TIES/Breadcrumbs selection, or the L1 norms for {@code rescale: true}. Randomness comes from
 * {@link DeterministicRandom} per (seed, tensor, model, element), so the mask is the same in both
 * passes and whatever the chunking.
 *
 * <p>Magnitudes are compared at the compute precision: rounded to float when computing in float32,
 * so the selection is the one a float32 implementation makes.
 */
final class SparseTaskMerge implements TensorMerge {
  private final Sparsifier sparsifier;
  private final boolean consensus;
  private final int models;
  private final long numel;
  private final boolean floatKeys;
  private final DataType computeType;
  private final double[] weight;
  private final double[] density;
  private final double[] gamma;
  private final double[] epsilon;
  private final long[] rngKey;
  private final double lambda;
  private final boolean normalize;
  private final Object rescale;
  private final boolean inverseRescale;
  private final boolean sparsifies;
  private final int passes;
  private final InputRounding rounding;

  // selection state (magnitude sparsifiers): float keys by a key-free two-pass radix select, double
  // keys held as doubles for quickselect
  private MagnitudeCut.FloatBitsSelection[] selections;
  private double[][] magnitudes;
  private int filled;
  private MagnitudeCut[] upper;
  private MagnitudeCut[] lower;
  // rescale: true state
  private final double[] l1All;
  private final double[] l1Kept;
  private double[] rescaleFactor;
  // sparkmerge masks: the per-model masks of the current block, reported after the block's selection
  private MaskObserver observer;
  private boolean[][] observed;

  SparseTaskMerge(GeneralizedTaskArithmetic method, TensorMergeContext ctx) {
    this.sparsifier = method.sparsifier();
    this.consensus = method.consensus();
    this.models = ctx.modelCount();
    this.numel = ctx.numel();
    this.computeType = ctx.computeType();
    this.floatKeys = ctx.computeType() == DataType.FLOAT;
    this.rounding = ctx.rounding();
    this.weight = new double[models];
    this.density = new double[models];
    this.gamma = new double[models];
    this.epsilon = new double[models];
    this.rngKey = new long[models];
    boolean any = false;
    for (int t = 0; t < models; t++) {
      ResolvedParams p = ctx.perModel().get(t);
      weight[t] = p.getDouble("weight");
      density[t] = p.has("density") ? p.getDouble("density") : 1.0;
      gamma[t] = p.has("gamma") ? p.getDouble("gamma") : 0.0;
      epsilon[t] = p.has("epsilon") ? p.getDouble("epsilon") : 0.0;
      rngKey[t] = DeterministicRandom.key(ctx.seed(), ctx.tensorName(), t);
      any |= density[t] < 1 || (sparsifier == Sparsifier.MAGNITUDE_OUTLIERS && gamma[t] > 0);
    }
    this.sparsifies = sparsifier != Sparsifier.NONE && any;
    this.lambda = ctx.global().getDouble("lambda");
    this.normalize = ctx.global().getBoolean("normalize");
    this.rescale = ctx.global().has("rescale") ? ctx.global().get("rescale") : Boolean.FALSE;
    this.inverseRescale = "inverse".equals(rescale);
    boolean selects = sparsifies && (sparsifier == Sparsifier.MAGNITUDE || sparsifier == Sparsifier.MAGNITUDE_OUTLIERS);
    boolean l1 = sparsifies && Boolean.TRUE.equals(rescale);
    this.passes = selects && floatKeys ? 2 : selects || l1 ? 1 : 0;
    if (selects && floatKeys) {
      selections = new MagnitudeCut.FloatBitsSelection[models];
      for (int t = 0; t < models; t++) {
        selections[t] = new MagnitudeCut.FloatBitsSelection(numel, cutSizes(t, numel));
      }
    } else if (selects) {
      magnitudes = new double[models][(int) numel];
    }
    this.l1All = new double[models];
    this.l1Kept = new double[models];
  }

  @Override
  public int preparationPasses() {
    return passes;
  }

  @Override
  public void prepare(int pass, TensorChunk chunk) {
    if (selections != null) {
      int[][] scratch = {new int[0]};
      forEachBlock(chunk, (from, n, rowLength, b, x, tau) -> {
        if (scratch[0].length < n) {
          scratch[0] = new int[n];
        }
        int[] bits = scratch[0];
        for (int t = 0; t < models; t++) {
          double[] tt = tau[t];
          for (int i = 0; i < n; i++) {
            bits[i] = Float.floatToIntBits((float) Math.abs(tt[i]));
          }
          if (pass == 0) {
            selections[t].countHigh(bits, n);
          } else {
            selections[t].countLow(bits, n);
          }
        }
      });
    } else if (magnitudes != null) {
      forEachBlock(chunk, (from, n, rowLength, b, x, tau) -> {
        for (int t = 0; t < models; t++) {
          for (int i = 0; i < n; i++) {
            magnitudes[t][filled + i] = key(tau[t][i]);
          }
        }
        filled += n;
      });
    } else {
      forEachBlock(chunk, (from, n, rowLength, b, x, tau) -> {
        boolean[] keep = new boolean[n];
        double[] prob = new double[n];
        for (int t = 0; t < models; t++) {
          randomMask(t, chunk.firstElement() + from, tau[t], n, rowLength, keep, prob);
          for (int i = 0; i < n; i++) {
            double a = Math.abs(tau[t][i]);
            l1All[t] += a;
            if (keep[i]) {
              l1Kept[t] += a;
            }
          }
        }
      });
    }
  }

  @Override
  public INDArray merge(TensorChunk chunk) {
    prepareCutsOnce();
    INDArray out = Blocks.like(chunk, computeType);
    double[][] d = new double[models][];
    boolean[] keep = new boolean[0];
    double[] prob = new double[0];
    double[] res = new double[0];
    final Object[] scratch = {keep, prob, res};
    forEachBlock(chunk, (from, n, rowLength, b, x, tau) -> {
      boolean[] k = (boolean[]) scratch[0];
      double[] p = (double[]) scratch[1];
      double[] r = (double[]) scratch[2];
      if (k.length < n) {
        k = new boolean[n];
        p = new double[n];
        r = new double[n];
        scratch[0] = k;
        scratch[1] = p;
        scratch[2] = r;
      }
      for (int t = 0; t < models; t++) {
        double[] dt = tau[t];
        d[t] = dt;
        if (sparsifies) {
          sparsify(t, chunk.firstElement() + from, dt, n, rowLength, k, p);
        }
        if (observer != null) {
          if (observed[t].length < n) {
            observed[t] = new boolean[n];
          }
          if (sparsifies) {
            System.arraycopy(k, 0, observed[t], 0, n);
          } else {
            Arrays.fill(observed[t], 0, n, true);
          }
        }
        double w = weight[t];
        if (rounding.active()) {
          roundedWeighting(t, dt, n, k, p);
        } else if (!sparsifies) {
          for (int i = 0; i < n; i++) {
            dt[i] = w * dt[i];
          }
        } else if (inverseRescale) {
          for (int i = 0; i < n; i++) {
            dt[i] = k[i] ? w * dt[i] * (1.0 / p[i]) : 0.0;
          }
        } else {
          // (w·τ)·1.0 is w·τ exactly, so the constant factor is applied in every case
          double f = rescaleFactor[t];
          for (int i = 0; i < n; i++) {
            dt[i] = k[i] ? w * dt[i] * f : 0.0;
          }
        }
      }
      if (observer != null) {
        observer.block(chunk.firstElement() + from, n, observed);
      }
      if (rounding.active()) {
        RoundedCombine.combine(rounding, consensus, normalize, lambda, b, d, roundedWeights(), n, r);
      } else {
        combine(b, d, n, r);
      }
      Blocks.write(out, from, r, n);
    });
    return out;
  }

  /**
   * compute_dtype: input: model t's kept τ (already the rounded difference) rescaled, then times its
   * weight, each product rounded, in mergekit's order (sparsify with its rescale, then weight).
   */
  private void roundedWeighting(int t, double[] dt, int n, boolean[] k, double[] p) {
    float w = rounding.value(weight[t]);
    float f = rounding.div(rounding.round((float) l1All[t]), rounding.round((float) l1Kept[t]));
    boolean scaled = sparsifies && !inverseRescale && rescaleFactor[t] != 1.0;
    for (int i = 0; i < n; i++) {
      boolean kept = !sparsifies || k[i];
      double v = !kept ? 0.0 : inverseRescale ? rounding.mul(dt[i], 1.0 / p[i]) : scaled ? rounding.mul(dt[i], f) : dt[i];
      dt[i] = rounding.mul(v, w);
    }
  }

  private float[] roundedWeights() {
    float[] w = new float[models];
    for (int t = 0; t < models; t++) {
      w[t] = rounding.value(weight[t]);
    }
    return w;
  }

  /**
   * θ₀ + λ·mixed per element, with or without sign consensus. Loops run model-major over the block
   * (vectorisable) but add in model order per element, as the definition does.
   */
  private void combine(double[] base, double[][] d, int n, double[] out) {
    double[] mixed = scratchMixed(n);
    double[] divisor = scratchDivisor(n);
    java.util.Arrays.fill(mixed, 0, n, 0.0);
    if (consensus) {
      double[] sum = out; // the sign sum lives in the output until the output is written
      java.util.Arrays.fill(sum, 0, n, 0.0);
      for (int t = 0; t < models; t++) {
        double[] dt = d[t];
        for (int i = 0; i < n; i++) {
          sum[i] += dt[i];
        }
      }
      java.util.Arrays.fill(divisor, 0, n, 0.0);
      for (int t = 0; t < models; t++) {
        double[] dt = d[t];
        double w = weight[t];
        for (int i = 0; i < n; i++) {
          double v = dt[i];
          boolean agrees = v != 0 && (v > 0) == (sum[i] >= 0); // a zero sum elects +
          // branch-free (signs are a coin flip for the branch predictor); adding +0.0 changes nothing:
          // mixed and divisor start at +0.0 and a sum is never −0.0 in round-to-nearest
          mixed[i] += agrees ? v : 0.0;
          divisor[i] += agrees ? w : 0.0;
        }
      }
      for (int i = 0; i < n; i++) {
        double div = divisor[i] == 0 ? 1 : divisor[i];
        out[i] = base[i] + lambda * (normalize ? mixed[i] / div : mixed[i]);
      }
    } else {
      double wSum = 0;
      for (double w : weight) {
        wSum += w;
      }
      double plainDivisor = Math.abs(wSum) < 1e-8 ? 1.0 : wSum;
      for (int t = 0; t < models; t++) {
        double[] dt = d[t];
        for (int i = 0; i < n; i++) {
          mixed[i] += dt[i];
        }
      }
      for (int i = 0; i < n; i++) {
        out[i] = base[i] + lambda * (normalize ? mixed[i] / plainDivisor : mixed[i]);
      }
    }
  }

  private double[] mixedScratch = new double[0];
  private double[] divisorScratch = new double[0];

  private double[] scratchMixed(int n) {
    if (mixedScratch.length < n) {
      mixedScratch = new double[n];
    }
    return mixedScratch;
  }

  private double[] scratchDivisor(int n) {
    if (divisorScratch.length < n) {
      divisorScratch = new double[n];
    }
    return divisorScratch;
  }

  /** Fills keep[0..n) (and the keep probability, for inverse rescaling) of model t's block. */
  private void sparsify(int t, long flat0, double[] tau, int n, long rowLength, boolean[] keep, double[] prob) {
    if (!sparsifies) {
      Arrays.fill(keep, 0, n, true);
      Arrays.fill(prob, 0, n, 1.0);
      return;
    }
    switch (sparsifier) {
      case MAGNITUDE, MAGNITUDE_OUTLIERS -> {
        lower[t].mark(tau, n, floatKeys, keep);
        upper[t].exclude(tau, n, floatKeys, keep);
      }
      case RANDOM, DELLA -> randomMask(t, flat0, tau, n, rowLength, keep, prob);
      default -> throw new IllegalStateException(sparsifier.toString());
    }
  }

  /** DARE (Bernoulli(d)) or DELLA (keep probability d − ε + 2ε·rank within the row). */
  private void randomMask(int t, long flat0, double[] tau, int n, long rowLength, boolean[] keep, double[] prob) {
    if (density[t] >= 1) {
      Arrays.fill(keep, 0, n, true);
      Arrays.fill(prob, 0, n, 1.0);
      return;
    }
    if (sparsifier == Sparsifier.DELLA) {
      dellaProbabilities(t, tau, n, (int) rowLength, prob);
    } else {
      Arrays.fill(prob, 0, n, density[t]);
    }
    for (int i = 0; i < n; i++) {
      keep[i] = DeterministicRandom.uniform(rngKey[t], flat0 + i) < prob[i];
    }
  }

  /** Per row: rank |τ| ascending (stable: lower index first), r = rank/(L − 1) (0.5 for L = 1), p = d − ε + 2ε·r. */
  private void dellaProbabilities(int t, double[] tau, int n, int rowLength, double[] prob) {
    Integer[] idx = new Integer[rowLength];
    for (int row = 0; row * rowLength < n; row++) {
      int off = row * rowLength;
      for (int j = 0; j < rowLength; j++) {
        idx[j] = j;
      }
      final int o = off;
      Arrays.sort(idx, (a, c) -> {
        int cmp = Double.compare(key(tau[o + a]), key(tau[o + c]));
        return cmp != 0 ? cmp : Integer.compare(a, c);
      });
      for (int rank = 0; rank < rowLength; rank++) {
        double r = rowLength == 1 ? 0.5 : (double) rank / (rowLength - 1);
        prob[off + idx[rank]] = density[t] - epsilon[t] + 2 * epsilon[t] * r;
      }
    }
  }

  private void prepareCutsOnce() {
    if ((magnitudes != null || selections != null) && upper == null) {
      upper = new MagnitudeCut[models];
      lower = new MagnitudeCut[models];
      int n = (int) numel;
      for (int t = 0; t < models; t++) {
        long[] sizes = cutSizes(t, n);
        if (sparsifier == Sparsifier.MAGNITUDE) {
          upper[t] = MagnitudeCut.NONE;
          lower[t] = density[t] >= 1 ? MagnitudeCut.ALL : top(t, n, sizes, 0);
        } else {
          upper[t] = top(t, n, sizes, 0);
          lower[t] = top(t, n, sizes, 1);
        }
        if (magnitudes != null) {
          magnitudes[t] = null;
        }
      }
      magnitudes = null;
      selections = null;
    }
    if (rescaleFactor == null) {
      rescaleFactor = new double[models];
      for (int t = 0; t < models; t++) {
        boolean l1 = sparsifies && Boolean.TRUE.equals(rescale);
        rescaleFactor[t] = !l1 || l1All[t] < 1e-7 || l1Kept[t] < 1e-7 ? 1.0 : l1All[t] / l1Kept[t];
      }
    }
  }

  @Override
  public boolean observeMasks(MaskObserver o) {
    this.observer = o;
    this.observed = new boolean[models][0];
    return true;
  }

  /**
   * The sizes of model t's top sets: {keep} for magnitude, {drop, drop + keep} for magnitude with
   * outliers (drop the nTop largest, keep the next keepN; differs from mergekit when nTop = 0, see
   * methods.md).
   */
  private long[] cutSizes(int t, long n) {
    if (sparsifier == Sparsifier.MAGNITUDE) {
      return new long[] {density[t] >= 1 ? n : (long) Math.floor(density[t] * n)};
    }
    long nTop = (long) Math.floor(gamma[t] * n);
    long keepN = (long) Math.floor(density[t] * n);
    long nBottom = n - keepN - nTop;
    if (nBottom < 0) {
      nTop += nBottom;
    }
    return new long[] {nTop, nTop + keepN};
  }

  /** Model t's top-{@code sizes[c]} set (the double keys' buffer is reordered). */
  private MagnitudeCut top(int t, int n, long[] sizes, int c) {
    return selections != null ? selections[t].cut(c) : MagnitudeCut.top(magnitudes[t], n, sizes[c]);
  }

  private double key(double tau) {
    return MagnitudeCut.key(tau, floatKeys);
  }

  /** A block of whole rows: {@code from} is the block's flat offset inside the chunk. */
  private interface BlockVisitor {
    void visit(long from, int n, long rowLength, double[] base, double[][] models, double[][] tau);
  }

  private void forEachBlock(TensorChunk chunk, BlockVisitor v) {
    long rowLength = chunk.rowLength();
    int rowsPer = Blocks.rowsPerBlock(rowLength);
    int cap = (int) Math.min((long) rowsPer * rowLength, chunk.length());
    double[] b = new double[cap];
    double[][] x = new double[models][cap];
    double[][] tau = new double[models][cap];
    for (long row = 0; row < chunk.rows(); row += rowsPer) {
      long from = row * rowLength;
      int n = (int) (Math.min(rowsPer, chunk.rows() - row) * rowLength);
      Blocks.read(chunk.base(), from, b, n);
      for (int t = 0; t < models; t++) {
        Blocks.read(chunk.models()[t], from, x[t], n);
        for (int i = 0; i < n; i++) {
          tau[t][i] = rounding.active() ? rounding.sub(x[t][i], b[i]) : x[t][i] - b[i];
        }
      }
      v.visit(from, n, rowLength, b, x, tau);
    }
  }

  @Override
  public void close() {
    magnitudes = null;
    selections = null;
  }
}
