package io.sparkmerge.method;

import io.sparkmerge.ConfigException;
import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.DeterministicRandom;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.math.Shapes;
import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.param.ResolvedParams;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The sparsify → consensus → combine family (methods.md §1, mergekit's "generalized task
 * arithmetic"): task_arithmetic, ties, dare_linear, dare_ties, breadcrumbs, breadcrumbs_ties, della,
 * della_linear, one descriptor parameterised by its parts.
 *
 * <p>Per tensor: sparsify each task vector τ_t with density d_t ({@link Sparsifier}); D_t = w_t τ_t;
 * Δ = Σ D_t, or with sign election the D_t whose sign equals sign(Σ D_t), divided by the (kept) weights
 * when {@code normalize} ({@link Consensus}); θ = θ₀ + λ·Δ ({@link DeltaMerge#combine}).
 */
final class GeneralizedTaskArithmetic extends MethodBase {
  private final Sparsifier.Kind sparsifier;
  private final boolean signElection;
  /** Masks per model; the tensors' {@link MaskCounts} summed into densities, overlaps and coverage. */
  private static final MethodReport MASK_REPORT = new MethodReport(null, true, MaskCounts::summarize);
  /** Whether it selects by magnitude over the whole tensor (TIES, Breadcrumbs). */
  private final boolean selects;

  GeneralizedTaskArithmetic(String name, Sparsifier.Kind sparsifier, boolean signElection, boolean normalizeDefault) {
    super(name, BaseUse.REQUIRED, params(sparsifier, normalizeDefault), sparsifier.chunking());
    this.sparsifier = sparsifier;
    this.signElection = signElection;
    this.selects = sparsifier == Sparsifier.Kind.MAGNITUDE || sparsifier == Sparsifier.Kind.MAGNITUDE_OUTLIERS;
  }

  /** The family's members, by config name. */
  static List<GeneralizedTaskArithmetic> family() {
    return List.of(
        new GeneralizedTaskArithmetic("task_arithmetic", Sparsifier.Kind.NONE, false, false),
        new GeneralizedTaskArithmetic("ties", Sparsifier.Kind.MAGNITUDE, true, true),
        new GeneralizedTaskArithmetic("dare_linear", Sparsifier.Kind.RANDOM, false, false),
        new GeneralizedTaskArithmetic("dare_ties", Sparsifier.Kind.RANDOM, true, false),
        new GeneralizedTaskArithmetic("breadcrumbs", Sparsifier.Kind.MAGNITUDE_OUTLIERS, false, false),
        new GeneralizedTaskArithmetic("breadcrumbs_ties", Sparsifier.Kind.MAGNITUDE_OUTLIERS, true, false),
        new GeneralizedTaskArithmetic("della", Sparsifier.Kind.DELLA, true, true),
        new GeneralizedTaskArithmetic("della_linear", Sparsifier.Kind.DELLA, false, false));
  }

  private static ParamSpec params(Sparsifier.Kind sparsifier, boolean normalizeDefault) {
    ParamSpec p = ParamSpec.builder().add("weight", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 1.0);
    if (sparsifier != Sparsifier.Kind.NONE) {
      p.addRange("density", ParamSpec.Scope.PER_MODEL, 1.0, "(0, 1]");
    }
    if (sparsifier == Sparsifier.Kind.MAGNITUDE_OUTLIERS) {
      p.addRange("gamma", ParamSpec.Scope.PER_MODEL, 0.01, "[0, 1)");
    }
    if (sparsifier == Sparsifier.Kind.DELLA) {
      p.addRange("epsilon", ParamSpec.Scope.PER_MODEL, 0.15, "[0, 1)");
    }
    p.add("lambda", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 1.0)
        .add("normalize", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, normalizeDefault);
    if (sparsifier == Sparsifier.Kind.RANDOM || sparsifier == Sparsifier.Kind.DELLA) {
      p.add("rescale", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN_OR_STRING, true,
          v -> v instanceof Boolean || "inverse".equals(v), "true, false or inverse");
    }
    // accepted for mergekit configs; no numeric effect here
    return p.add("int8_mask", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, false);
  }

  @Override
  public void validate(TensorMergeContext ctx) {
    long n = ctx.numel();
    for (int t = 0; t < ctx.modelCount(); t++) {
      ResolvedParams p = ctx.perModel().get(t);
      if (sparsifier == Sparsifier.Kind.MAGNITUDE) {
        double d = p.getDouble("density");
        if (d < 1 && n > 0 && (long) Math.floor(d * n) == 0) {
          throw new ConfigException("tensor " + ctx.tensorName() + " (" + n + " entries): density " + d + " of models[" + t
              + "] keeps no entry (floor(density·n) = 0); raise the density for this tensor (e.g. with a tensors: override)");
        }
      }
      if (sparsifier == Sparsifier.Kind.DELLA) {
        double d = p.getDouble("density");
        double e = p.getDouble("epsilon");
        if (d < 1 && (d - e <= 0 || d + e > 1)) {
          throw new ConfigException("tensor " + ctx.tensorName() + ", models[" + t + "]: della needs 0 < density − epsilon and"
              + " density + epsilon ≤ 1, got density " + d + ", epsilon " + e);
        }
      }
    }
    if (n > Integer.MAX_VALUE && selects) {
      throw new ConfigException("tensor " + ctx.tensorName() + " has " + n + " entries; magnitude selection supports up to 2^31 − 1"
          + " per tensor; route it to another method with a tensors: override");
    }
  }

  @Override
  public Cost cost(long[] shape, int modelCount, int elementSize) {
    long n = Shapes.numel(shape);
    // float32: a key-free radix select (histograms, 256 KB per model and cut); float64 keeps one double
    // key per element and model for quickselect
    long blocks = (long) modelCount * Blocks.BLOCK * 8 * 3;
    // a λ sweep keeps the chunk's float64 Δ across the candidates (DeltaMerge.mergeScaled)
    return Cost.memory(selects && elementSize == 8 ? modelCount * n * 8 + blocks
        : blocks + (selects ? modelCount * 3L * (1 << 18) : 0)).withSweepBytesPerElement(8);
  }

  @Override
  public MethodReport report() {
    return sparsifier == Sparsifier.Kind.NONE ? MethodReport.NONE : MASK_REPORT;
  }

  /** compute_dtype: input: every operation rounded to the inputs' 16-bit dtype in mergekit's order. */
  @Override
  public boolean roundsLikeTorch() {
    return true;
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    return new TaskArithmeticTensor(sparsifier, signElection, ctx);
  }
}
