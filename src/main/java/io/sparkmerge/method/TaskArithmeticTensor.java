package io.sparkmerge.method;

import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.DeterministicRandom;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.param.ResolvedParams;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * {@link GeneralizedTaskArithmetic}'s merge of one tensor, block by block (whole rows) over each chunk.
 * Whole-tensor quantities (the magnitude selections, the L1 norms of {@code rescale: true}) are gathered
 * by the sparsifiers in preparation passes; the masks are the same in every pass and whatever the chunking.
 */
final class TaskArithmeticTensor implements DeltaMerge {
  private final int models;
  private final DataType computeType;
  private final double lambda;
  private final double[] weight;
  /** One per model, or null when no model sparsifies this tensor (every density 1, no outliers). */
  private final Sparsifier[] sparsifiers;
  private final Consensus consensus;
  private final int passes;
  private final InputRounding rounding;
  private TensorMerge.MaskObserver observer;
  private boolean[][] observed;
  /** What each model's sparsifier kept (counting only); null for task_arithmetic, which keeps everything. */
  private final MaskCounts counts;

  TaskArithmeticTensor(Sparsifier.Kind kind, boolean signElection, TensorMergeContext ctx) {
    this.models = ctx.modelCount();
    this.computeType = ctx.computeType();
    this.rounding = ctx.rounding();
    this.lambda = ctx.global().getDouble("lambda");
    this.weight = new double[models];
    boolean floatKeys = computeType == DataType.FLOAT;
    RandomSparsifier.Rescale rescale = RandomSparsifier.Rescale.of(ctx.global().has("rescale") ? ctx.global().get("rescale") : false);
    Sparsifier[] s = new Sparsifier[models];
    boolean any = false;
    int p = 0;
    for (int t = 0; t < models; t++) {
      ResolvedParams pm = ctx.perModel().get(t);
      weight[t] = pm.getDouble("weight");
      double density = pm.has("density") ? pm.getDouble("density") : 1.0;
      double gamma = pm.has("gamma") ? pm.getDouble("gamma") : 0.0;
      double epsilon = pm.has("epsilon") ? pm.getDouble("epsilon") : 0.0;
      any |= density < 1 || (kind == Sparsifier.Kind.MAGNITUDE_OUTLIERS && gamma > 0);
      long key = DeterministicRandom.key(ctx.seed(), ctx.tensorName(), t);
      s[t] = switch (kind) {
        case NONE -> null;
        case MAGNITUDE, MAGNITUDE_OUTLIERS -> new MagnitudeSparsifier(kind == Sparsifier.Kind.MAGNITUDE_OUTLIERS, density, gamma,
            ctx.numel(), floatKeys);
        case RANDOM, DELLA -> new RandomSparsifier(
            new RandomSparsifier.Draw(kind == Sparsifier.Kind.DELLA, density, epsilon, key, floatKeys), rescale,
            rounding);
      };
      p = s[t] == null ? p : Math.max(p, s[t].preparationPasses());
    }
    this.sparsifiers = kind != Sparsifier.Kind.NONE && any ? s : null;
    this.passes = sparsifiers == null ? 0 : p;
    this.consensus = new Consensus(signElection, weight, ctx.global().getBoolean("normalize"), rounding);
    this.counts = kind == Sparsifier.Kind.NONE ? null : new MaskCounts(models, ctx.numel());
    this.observed = new boolean[models][0];
  }

  @Override
  public int preparationPasses() {
    return passes;
  }

  @Override
  public double lambda() {
    return lambda;
  }

  @Override
  public DataType computeType() {
    return computeType;
  }

  @Override
  public InputRounding rounding() {
    return rounding;
  }

  @Override
  public void prepare(int pass, TensorChunk chunk) {
    forEachBlock(chunk, (from, n, rowLength, base, tau) -> {
      for (int t = 0; t < models; t++) {
        sparsifiers[t].prepare(pass, chunk.firstElement() + from, tau[t], n, rowLength);
      }
    });
  }

  @Override
  public void deltas(TensorChunk chunk, DeltaSink sink) {
    boolean[][] keep = {new boolean[0]};
    double[][] scale = {new double[0], new double[0]}; // the survivors' factors, and Δ
    forEachBlock(chunk, (from, n, rowLength, base, tau) -> {
      if (keep[0].length < n) {
        keep[0] = new boolean[n];
        scale[0] = new double[n];
        scale[1] = new double[n];
      }
      boolean[] k = keep[0];
      double[] f = scale[0];
      for (int t = 0; t < models; t++) {
        if (sparsifiers == null) {
          Arrays.fill(k, 0, n, true);
          Arrays.fill(f, 0, n, 1.0);
        } else {
          sparsifiers[t].mask(chunk.firstElement() + from, tau[t], n, rowLength, k, f);
        }
        observe(t, n, k);
        weigh(t, tau[t], n, k, f);
      }
      if (observer != null) {
        observer.block(chunk.firstElement() + from, n, observed);
      }
      if (counts != null) {
        counts.add(observed, n);
      }
      consensus.delta(tau, n, scale[1]);
      sink.block(from, n, base, scale[1]);
    });
  }

  /**
   * D_t = w_t·(sparsified τ_t) of a block, in place; with compute_dtype: input in mergekit's order: the kept τ
   * (already the rounded difference) rescaled, then times the weight as the dtype holds it, each product rounded.
   */
  private void weigh(int t, double[] dt, int n, boolean[] keep, double[] scale) {
    double w = weight[t];
    if (rounding.active()) {
      float wr = rounding.value(w);
      for (int i = 0; i < n; i++) {
        double v = !keep[i] ? 0.0 : scale[i] == 1.0 ? dt[i] : rounding.mul(dt[i], scale[i]);
        dt[i] = rounding.mul(v, wr);
      }
    } else if (sparsifiers == null) {
      for (int i = 0; i < n; i++) {
        dt[i] = w * dt[i];
      }
    } else {
      for (int i = 0; i < n; i++) {
        dt[i] = keep[i] ? w * dt[i] * scale[i] : 0.0;
      }
    }
  }

  /** Keeps model t's mask of the block for the observer and the counts. */
  private void observe(int t, int n, boolean[] keep) {
    if (observer != null || counts != null) {
      if (observed[t].length < n) {
        observed[t] = new boolean[n];
      }
      System.arraycopy(keep, 0, observed[t], 0, n);
    }
  }

  @Override
  public boolean observeMasks(TensorMerge.MaskObserver o) {
    this.observer = o;
    return true;
  }

  /**
   * {@link MaskCounts} of the sparsifiers' masks ({@code kept[t]}: entries of τ_t the sparsifier kept, before
   * any sign election), and with sign election {@code elected[t]}: entries whose non-zero D_t agrees with the
   * elected sign, i.e. those that enter Δ. Counting only: Δ is computed exactly as without it.
   */
  @Override
  public java.util.Map<String, Double> counters() {
    if (counts == null) {
      return java.util.Map.of();
    }
    java.util.Map<String, Double> c = counts.counters();
    consensus.electedCounts(c);
    return c;
  }

  /** A block of whole rows: {@code from} is its flat offset in the chunk; {@code tau[t]} = θ_t − θ₀, writable. */
  private interface BlockVisitor {
    void visit(long from, int n, int rowLength, double[] base, double[][] tau);
  }

  private void forEachBlock(TensorChunk chunk, BlockVisitor v) {
    long rowLength = chunk.rowLength();
    int rowsPer = Blocks.rowsPerBlock(rowLength);
    int cap = (int) Math.min((long) rowsPer * rowLength, chunk.length());
    double[] b = new double[cap];
    double[] x = new double[cap];
    double[][] tau = new double[models][cap];
    for (long row = 0; row < chunk.rows(); row += rowsPer) {
      long from = row * rowLength;
      int n = (int) (Math.min(rowsPer, chunk.rows() - row) * rowLength);
      Blocks.read(chunk.base(), from, b, n);
      for (int t = 0; t < models; t++) {
        Blocks.read(chunk.models()[t], from, x, n);
        for (int i = 0; i < n; i++) {
          tau[t][i] = rounding.active() ? rounding.sub(x[i], b[i]) : x[i] - b[i];
        }
      }
      v.visit(from, n, (int) rowLength, b, tau);
    }
  }
}
