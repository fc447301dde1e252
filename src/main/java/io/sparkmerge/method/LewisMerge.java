package io.sparkmerge.method;

import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LEWIS (methods.md §4, arXiv 2503.03874): a layer-wise density schedule for a sparsifying merge.
 * The densities come from per-model module importances ({@link LewisDensities}); the runner resolves
 * them on the driver and passes each tensor's as {@link MergeMethod#IMPORTANCE_DENSITY}. The merge
 * itself is the {@code base_method}'s (ties, dare_ties, dare_linear, breadcrumbs, breadcrumbs_ties)
 * with that density: this class only rewrites the parameters and delegates, so the sparsify/consensus
 * machinery is shared, not copied. Tensors that are not a scored module keep density 1.
 */
final class LewisMerge implements MergeMethod {
  static final String NAME = "lewis";
  static final Set<String> BASE_METHODS = Set.of("ties", "dare_ties", "dare_linear", "breadcrumbs", "breadcrumbs_ties");
  /** normalize / rescale left at this value take the base method's own default. */
  static final String BASE_DEFAULT = "base_method_default";

  private final ParamSpec params = ParamSpec.builder()
      .add("weight", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 1.0)
      .add("gamma", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 0.01,
          v -> ((Number) v).doubleValue() >= 0 && ((Number) v).doubleValue() < 1, "in [0, 1) (breadcrumbs base methods)")
      .add("base_method", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.STRING, "ties", BASE_METHODS::contains,
          "one of " + String.join(", ", new java.util.TreeSet<>(BASE_METHODS)))
      .add("min_density", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 0.5,
          v -> ((Number) v).doubleValue() > 0 && ((Number) v).doubleValue() <= 1, "in (0, 1]")
      .add("max_density", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 0.8,
          v -> ((Number) v).doubleValue() > 0 && ((Number) v).doubleValue() <= 1, "in (0, 1]")
      .add("lewis_weights", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, false)
      .add("lambda", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 1.0)
      .add("normalize", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN_OR_STRING, BASE_DEFAULT,
          v -> v instanceof Boolean || BASE_DEFAULT.equals(v), "true or false")
      .add("rescale", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN_OR_STRING, BASE_DEFAULT,
          v -> v instanceof Boolean || "inverse".equals(v) || BASE_DEFAULT.equals(v), "true, false or inverse (dare base methods)")
      .add("int8_mask", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, false);

  @Override
  public boolean appliesMasks() {
    return true;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public ParamSpec params() {
    return params;
  }

  @Override
  public BaseUse baseUse() {
    return BaseUse.REQUIRED;
  }

  @Override
  public boolean usesImportance() {
    return true;
  }

  @Override
  public ImportanceRow importanceModule(String tensorName) {
    return LewisDensities.moduleOf(tensorName);
  }

  @Override
  public Map<String, Double> importanceDensities(List<ImportanceRow> rows, ResolvedParams global) {
    return LewisDensities.densities(rows, global.getDouble("min_density"), global.getDouble("max_density"));
  }

  @Override
  public void validateTensor(TensorMergeContext ctx) {
    LewisDensities.checkRange(ctx.global().getDouble("min_density"), ctx.global().getDouble("max_density"));
    MergeMethod base = MethodRegistry.get(ctx.global().getString("base_method"));
    if (ctx.global().get("rescale") instanceof String s && "inverse".equals(s) && !base.params().has("rescale")) {
      throw new ConfigException("lewis: rescale applies to the dare base methods, not to base_method "
          + base.name() + "; remove it");
    }
    // the lowest density a scored module can get must keep at least one entry
    boolean scored = importanceModule(ctx.tensorName()) != null;
    base.validateTensor(delegate(ctx, base, scored ? ctx.global().getDouble("min_density") : 1.0));
  }

  @Override
  public long workingBytes(long[] shape, int modelCount, int elementSize) {
    return MethodRegistry.get("ties").workingBytes(shape, modelCount, elementSize);
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    MergeMethod base = MethodRegistry.get(ctx.global().getString("base_method"));
    return base.begin(delegate(ctx, base, Double.NaN));
  }

  /**
   * The base method's context: its global parameters (ours, or its defaults where left at
   * {@link #BASE_DEFAULT}); per model the weight, the gamma, and the density the runner resolved
   * (1 for an unscored tensor; {@code forcedDensity} when not NaN), weight = density with lewis_weights.
   */
  static TensorMergeContext delegate(TensorMergeContext ctx, MergeMethod base, double forcedDensity) {
    Map<String, Object> g = new LinkedHashMap<>();
    for (ParamSpec.Def d : base.params().defs().values()) {
      if (d.scope() == ParamSpec.Scope.GLOBAL) {
        Object v = ctx.global().has(d.name()) ? ctx.global().get(d.name()) : d.defaultValue();
        g.put(d.name(), BASE_DEFAULT.equals(v) ? d.defaultValue() : v);
      }
    }
    boolean lewisWeights = ctx.global().getBoolean("lewis_weights");
    List<ResolvedParams> pm = new ArrayList<>();
    for (ResolvedParams p : ctx.perModel()) {
      Map<String, Object> m = new LinkedHashMap<>();
      double density = !Double.isNaN(forcedDensity) ? forcedDensity
          : p.has(IMPORTANCE_DENSITY) ? p.getDouble(IMPORTANCE_DENSITY) : 1.0;
      m.put("weight", lewisWeights && p.has(IMPORTANCE_DENSITY) ? density : p.getDouble("weight"));
      m.put("density", density);
      if (base.params().has("gamma")) {
        m.put("gamma", p.getDouble("gamma"));
      }
      pm.add(new ResolvedParams(m));
    }
    return new TensorMergeContext(ctx.tensorName(), ctx.shape(), ctx.computeType(), ctx.seed(), ctx.hasBase(),
        new ResolvedParams(g), pm);
  }
}
