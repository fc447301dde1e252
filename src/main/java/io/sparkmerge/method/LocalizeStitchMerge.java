package io.sparkmerge.method;

import io.sparkmerge.ConfigException;
import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.MagnitudeCut;
import io.sparkmerge.math.Shapes;
import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.param.ResolvedParams;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Localize-and-Stitch (methods.md §3, arXiv 2408.13656). Localize: a binary mask γ_t per task, either
 * given ({@code masks:} on the model entry, learned outside) or dataless: keep |τ_t| ≥ the k-th
 * largest magnitude, k = max(1, floor(s·N)), over the tensor ({@code mask_scope: tensor}) or over the
 * whole task vector ({@code mask_scope: global}, the threshold a side input the driver computes). Ties
 * at the threshold are all kept. Stitch: c = Σ γ_t, θ = θ₀ + Σ (γ_t / c) τ_t where c > 0; uncovered
 * entries keep θ₀. A model may be given as its task vector ({@code task_vector: true}): its τ rows are
 * used as given, so a stitch from exact task vectors equals the one from the checkpoints bit for bit.
 */
final class LocalizeStitchMerge extends MethodBase {
  static final String NAME = "localize_stitch";
  static final String SCOPE_GLOBAL = "global";
  static final String SCOPE_TENSOR = "tensor";

  /** mask_scope: global selects over the whole task vector of every model without given masks. */
  private static final SideInput.GlobalThreshold.Selection GLOBAL = new SideInput.GlobalThreshold.Selection() {
    @Override
    public boolean selects(ResolvedParams global, boolean givenMask) {
      return SCOPE_GLOBAL.equals(global.getString("mask_scope")) && !givenMask;
    }

    @Override
    public long topCount(ResolvedParams perModel, long totalEntries) {
      return LocalizeStitchMerge.topCount(perModel.getDouble("sparsity"), totalEntries);
    }
  };

  private static final MethodReport REPORT = new MethodReport(null, true, MaskCounts::summarize);

  LocalizeStitchMerge() {
    super(NAME, BaseUse.REQUIRED, ParamSpec.builder()
        .addRange("sparsity", ParamSpec.Scope.PER_MODEL, 0.01, "(0, 1]")
        .add("mask_scope", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.STRING, SCOPE_GLOBAL,
            v -> SCOPE_GLOBAL.equals(v) || SCOPE_TENSOR.equals(v), "global or tensor"));
  }

  @Override
  public List<SideInput> sideInputs() {
    return List.of(new SideInput.GivenMasks(), new SideInput.TaskVectors(), new SideInput.GlobalThreshold(GLOBAL));
  }

  @Override
  public void validate(TensorMergeContext ctx) {
    if (SCOPE_TENSOR.equals(ctx.global().getString("mask_scope")) && ctx.numel() > Integer.MAX_VALUE) {
      throw new ConfigException("tensor " + ctx.tensorName() + " has " + ctx.numel() + " entries; mask_scope: tensor selects"
          + " within a tensor of up to 2^31 − 1 entries; use mask_scope: global or route it elsewhere with a tensors: override");
    }
  }

  /** k = max(1, floor(s·N)) (methods.md §3). */
  static long topCount(double sparsity, long n) {
    return Math.max(1, (long) Math.floor(sparsity * n));
  }

  @Override
  public Cost cost(long[] shape, int modelCount, int elementSize) {
    return Cost.memory((long) modelCount * Shapes.numel(shape) * 8);
  }

  @Override
  public MethodReport report() {
    return REPORT;
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    return new Tensor(ctx);
  }

  /**
   * One tensor's Localize-and-Stitch. With {@code mask_scope: tensor} one preparation pass gathers the
   * magnitudes of every model without a given mask and selects the k-th largest; otherwise the masks
   * come from the given mask rows or the global threshold, and the merge is a single pass. Magnitudes
   * are compared at the compute precision (rounded to float in float32), as the global pre-pass
   * compares them.
   */
  private static final class Tensor implements TensorMerge {
    private final int models;
    private final long numel;
    private final boolean floatKeys;
    private final DataType computeType;
    private final SideValues sides;
    private final double[] threshold;
    private final double[] sparsity;
    private final MaskCounts counts;
    private double[][] magnitudes;
    private MaskObserver observer;
    private int filled;

    Tensor(TensorMergeContext ctx) {
      this.models = ctx.modelCount();
      this.numel = ctx.numel();
      this.computeType = ctx.computeType();
      this.floatKeys = computeType == DataType.FLOAT;
      this.sides = ctx.sides();
      this.threshold = new double[models];
      this.sparsity = new double[models];
      boolean tensorScope = SCOPE_TENSOR.equals(ctx.global().getString("mask_scope"));
      boolean selects = false;
      for (int t = 0; t < models; t++) {
        sparsity[t] = ctx.perModel().get(t).getDouble("sparsity");
        threshold[t] = Double.NaN;
        if (sides.hasGivenMask(t)) {
          continue;
        }
        if (tensorScope) {
          selects = true;
        } else if (!Double.isNaN(sides.globalThreshold(t))) {
          threshold[t] = sides.globalThreshold(t);
        } else {
          throw new IllegalStateException("tensor " + ctx.tensorName() + ", models[" + t + "]: mask_scope global needs the"
              + " whole-model threshold from the runner's pre-pass, and none was supplied");
        }
      }
      if (selects) {
        magnitudes = new double[models][];
        for (int t = 0; t < models; t++) {
          if (!sides.hasGivenMask(t)) {
            magnitudes[t] = new double[Math.toIntExact(numel)];
          }
        }
      }
      this.counts = new MaskCounts(models, numel);
    }

    @Override
    public int preparationPasses() {
      return magnitudes != null ? 1 : 0;
    }

    @Override
    public void prepare(int pass, TensorChunk chunk) {
      int n = (int) chunk.length();
      double[] b = new double[n];
      double[] x = new double[n];
      Blocks.read(chunk.base(), 0, b, n);
      for (int t = 0; t < models; t++) {
        if (magnitudes[t] == null) {
          continue;
        }
        Blocks.read(chunk.models()[t], 0, x, n);
        for (int i = 0; i < n; i++) {
          magnitudes[t][filled + i] = MagnitudeCut.key(sides.isTaskVector(t) ? x[i] : x[i] - b[i], floatKeys);
        }
      }
      filled += n;
    }

    private void selectOnce() {
      if (magnitudes == null) {
        return;
      }
      int n = Math.toIntExact(numel);
      for (int t = 0; t < models; t++) {
        if (magnitudes[t] != null) {
          long k = topCount(sparsity[t], n);
          threshold[t] = k >= n ? Double.NEGATIVE_INFINITY : MagnitudeCut.select(magnitudes[t], n, (int) (n - k));
        }
      }
      magnitudes = null;
    }

    @Override
    public INDArray merge(TensorChunk chunk) {
      selectOnce();
      INDArray out = chunk.newOutput(computeType);
      long rowLength = chunk.rowLength();
      int rowsPer = Blocks.rowsPerBlock(rowLength);
      int cap = (int) Math.min((long) rowsPer * rowLength, chunk.length());
      double[] b = new double[cap];
      double[][] tau = new double[models][cap];
      boolean[][] keep = new boolean[models][cap];
      double[] m = new double[cap];
      double[] r = new double[cap];
      for (long row = 0; row < chunk.rows(); row += rowsPer) {
        long from = row * rowLength;
        int n = (int) (Math.min(rowsPer, chunk.rows() - row) * rowLength);
        Blocks.read(chunk.base(), from, b, n);
        for (int t = 0; t < models; t++) {
          boolean given = sides.hasGivenMask(t);
          Blocks.read(chunk.models()[t], from, tau[t], n);
          if (given) {
            Blocks.read(chunk.mask(t), from, m, n);
          }
          for (int i = 0; i < n; i++) {
            tau[t][i] -= sides.isTaskVector(t) ? 0.0 : b[i];
            keep[t][i] = given ? m[i] != 0 : kept(MagnitudeCut.key(tau[t][i], floatKeys), threshold[t]);
          }
        }
        if (observer != null) {
          observer.block(chunk.firstElement() + from, n, keep);
        }
        counts.add(keep, n);
        stitch(b, tau, keep, n, r);
        Blocks.write(out, from, r, n);
      }
      return out;
    }

    /**
     * Whether the dataless mask keeps an entry of magnitude {@code key}: at or above the threshold, and never a
     * zero of τ. When s·N exceeds τ's non-zeros the k-th largest magnitude is 0 (or the threshold is −∞ for
     * k ≥ N); a zero carries nothing and must not count in the stitch's overlap divisor. Above a positive
     * threshold the second test is implied, so such masks are unchanged.
     */
    static boolean kept(double key, double threshold) {
      return key >= threshold && key > 0;
    }

    /** θ₀ + the mean of the kept τ_t per entry (in model order); θ₀ where no mask keeps it. */
    private void stitch(double[] b, double[][] tau, boolean[][] keep, int n, double[] r) {
      for (int i = 0; i < n; i++) {
        int c = 0;
        double sum = 0;
        for (int t = 0; t < models; t++) {
          if (keep[t][i]) {
            c++;
            sum += tau[t][i];
          }
        }
        r[i] = c == 0 ? b[i] : b[i] + sum / c;
      }
    }

    @Override
    public boolean observeMasks(MaskObserver o) {
      this.observer = o;
      return true;
    }

    @Override
    public Map<String, Double> counters() {
      return counts.counters();
    }

    @Override
    public void close() {
      magnitudes = null;
    }
  }
}
