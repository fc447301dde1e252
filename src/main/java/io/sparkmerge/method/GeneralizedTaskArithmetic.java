package io.sparkmerge.method;

import io.sparkmerge.math.Blocks;
import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.ConfigException;
import java.util.ArrayList;
import java.util.List;

/**
 * The sparsify → consensus → combine family (methods.md §1, mergekit's "generalized task
 * arithmetic"), one implementation parameterised by its parts: task_arithmetic, ties, dare_linear,
 * dare_ties, breadcrumbs, breadcrumbs_ties, della, della_linear.
 *
 * <p>Per tensor: sparsify each task vector τ_t with density d_t; D_t = w_t τ_t; with sign consensus
 * keep the D_t whose sign equals sign(Σ D_t) (0 → +) and divide by the kept weights, otherwise sum
 * and divide by Σ w; θ = θ₀ + λ·mixed (the division only when {@code normalize}).
 */
final class GeneralizedTaskArithmetic implements MergeMethod {

  /** How task vectors are sparsified. */
  enum Sparsifier {
    NONE, MAGNITUDE, RANDOM, MAGNITUDE_OUTLIERS, DELLA
  }

  private final String name;
  private final Sparsifier sparsifier;
  private final boolean consensus;
  private final ParamSpec params;

  GeneralizedTaskArithmetic(String name, Sparsifier sparsifier, boolean consensus, boolean normalizeDefault) {
    this.name = name;
    this.sparsifier = sparsifier;
    this.consensus = consensus;
    ParamSpec p = ParamSpec.builder()
        .add("weight", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 1.0);
    if (sparsifier != Sparsifier.NONE) {
      p.add("density", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 1.0,
          v -> ((Number) v).doubleValue() > 0 && ((Number) v).doubleValue() <= 1, "in (0, 1]");
    }
    if (sparsifier == Sparsifier.MAGNITUDE_OUTLIERS) {
      p.add("gamma", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 0.01,
          v -> ((Number) v).doubleValue() >= 0 && ((Number) v).doubleValue() < 1, "in [0, 1)");
    }
    if (sparsifier == Sparsifier.DELLA) {
      p.add("epsilon", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 0.15,
          v -> ((Number) v).doubleValue() >= 0 && ((Number) v).doubleValue() < 1, "in [0, 1)");
    }
    p.add("lambda", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 1.0)
        .add("normalize", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, normalizeDefault);
    if (sparsifier == Sparsifier.RANDOM || sparsifier == Sparsifier.DELLA) {
      p.add("rescale", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN_OR_STRING, true,
          v -> v instanceof Boolean || "inverse".equals(v), "true, false or inverse");
    }
    // accepted for mergekit configs; no numeric effect here
    p.add("int8_mask", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, false);
    this.params = p;
  }

  static List<MergeMethod> family() {
    List<MergeMethod> l = new ArrayList<>();
    l.add(new GeneralizedTaskArithmetic("task_arithmetic", Sparsifier.NONE, false, false));
    l.add(new GeneralizedTaskArithmetic("ties", Sparsifier.MAGNITUDE, true, true));
    l.add(new GeneralizedTaskArithmetic("dare_linear", Sparsifier.RANDOM, false, false));
    l.add(new GeneralizedTaskArithmetic("dare_ties", Sparsifier.RANDOM, true, false));
    l.add(new GeneralizedTaskArithmetic("breadcrumbs", Sparsifier.MAGNITUDE_OUTLIERS, false, false));
    l.add(new GeneralizedTaskArithmetic("breadcrumbs_ties", Sparsifier.MAGNITUDE_OUTLIERS, true, false));
    l.add(new GeneralizedTaskArithmetic("della", Sparsifier.DELLA, true, true));
    l.add(new GeneralizedTaskArithmetic("della_linear", Sparsifier.DELLA, false, false));
    return l;
  }

  @Override
  public boolean appliesMasks() {
    return sparsifier != Sparsifier.NONE;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean roundsLikeTorch() {
    return true;
  }

  @Override
  public ParamSpec params() {
    return params;
  }

  @Override
  public BaseUse baseUse() {
    return BaseUse.REQUIRED;
  }

  Sparsifier sparsifier() {
    return sparsifier;
  }

  boolean consensus() {
    return consensus;
  }

  @Override
  public void validateTensor(TensorMergeContext ctx) {
    long n = ctx.numel();
    for (int t = 0; t < ctx.modelCount(); t++) {
      ResolvedParams p = ctx.perModel().get(t);
      if (sparsifier == Sparsifier.MAGNITUDE) {
        double d = p.getDouble("density");
        if (d < 1 && n > 0 && (long) Math.floor(d * n) == 0) {
          throw new ConfigException("tensor " + ctx.tensorName() + " (" + n + " entries): density " + d + " of models[" + t
              + "] keeps no entry (floor(density·n) = 0); raise the density for this tensor (e.g. with a tensors: override)");
        }
      }
      if (sparsifier == Sparsifier.DELLA) {
        double d = p.getDouble("density");
        double e = p.getDouble("epsilon");
        if (d < 1 && (d - e <= 0 || d + e > 1)) {
          throw new ConfigException("tensor " + ctx.tensorName() + ", models[" + t + "]: della needs 0 < density − epsilon and"
              + " density + epsilon ≤ 1, got density " + d + ", epsilon " + e);
        }
      }
    }
    if (ctx.numel() > Integer.MAX_VALUE && (sparsifier == Sparsifier.MAGNITUDE || sparsifier == Sparsifier.MAGNITUDE_OUTLIERS)) {
      throw new ConfigException("tensor " + ctx.tensorName() + " has " + n + " entries; magnitude selection supports up to 2^31 − 1"
          + " per tensor; route it to another method with a tensors: override");
    }
  }

  @Override
  public long workingBytes(long[] shape, int modelCount, int elementSize) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    boolean selects = sparsifier == Sparsifier.MAGNITUDE || sparsifier == Sparsifier.MAGNITUDE_OUTLIERS;
    // float32: a key-free radix select (histograms, 256 KB per model and cut); float64 keeps one double
    // key per element and model for quickselect
    long blocks = (long) modelCount * Blocks.BLOCK * 8 * 3;
    return selects && elementSize == 8 ? modelCount * n * 8 + blocks : blocks + (selects ? modelCount * 3L * (1 << 18) : 0);
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    return new SparseTaskMerge(this, ctx);
  }
}
