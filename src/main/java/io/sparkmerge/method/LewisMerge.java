package io.sparkmerge.method;

import io.sparkmerge.io.ImportanceRow;
import io.sparkmerge.ConfigException;
import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.param.ResolvedParams;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * LEWIS (methods.md §4, arXiv 2503.03874): a layer-wise density schedule for a sparsifying merge.
 * The densities come from per-model module importances (a side input, {@link SideInput.Importances};
 * the schedule is {@link LewisDensities}); the driver resolves them and each tensor's arrive in
 * {@link SideValues#importanceDensity}. The merge itself is the {@code base_method}'s (ties, dare_ties,
 * dare_linear, breadcrumbs, breadcrumbs_ties) with that density: this class only rewrites the
 * parameters and delegates, so the sparsify/consensus machinery is shared, not copied. Tensors that
 * are not a scored module keep density 1.
 */
final class LewisMerge extends MethodBase {
  static final String NAME = "lewis";
  /** The task-arithmetic family members lewis can schedule, by name. */
  static final Map<String, MergeMethod> BASE_METHODS = new TreeMap<>();
  /** normalize / rescale left at this value take the base method's own default. */
  static final String BASE_DEFAULT = "base_method_default";

  static {
    for (GeneralizedTaskArithmetic m : GeneralizedTaskArithmetic.family()) {
      if (List.of("ties", "dare_ties", "dare_linear", "breadcrumbs", "breadcrumbs_ties").contains(m.name())) {
        BASE_METHODS.put(m.name(), m);
      }
    }
  }

  private static final SideInput.Importances.Scoring SCORING = new SideInput.Importances.Scoring() {
    @Override
    public ImportanceRow module(String tensorName) {
      return LewisDensities.moduleOf(tensorName);
    }

    @Override
    public Map<String, Double> densities(List<ImportanceRow> rows, ResolvedParams global) {
      return LewisDensities.densities(rows, global.getDouble("min_density"), global.getDouble("max_density"));
    }
  };

  LewisMerge() {
    super(NAME, BaseUse.REQUIRED, ParamSpec.builder()
        .add("weight", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 1.0)
        .add("gamma", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 0.01,
            v -> ((Number) v).doubleValue() >= 0 && ((Number) v).doubleValue() < 1, "in [0, 1) (breadcrumbs base methods)")
        .add("base_method", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.STRING, "ties", BASE_METHODS::containsKey,
            "one of " + String.join(", ", BASE_METHODS.keySet()))
        .addRange("min_density", ParamSpec.Scope.GLOBAL, 0.5, "(0, 1]")
        .addRange("max_density", ParamSpec.Scope.GLOBAL, 0.8, "(0, 1]")
        .add("lewis_weights", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, false)
        .add("lambda", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.NUMBER, 1.0)
        .add("normalize", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN_OR_STRING, BASE_DEFAULT,
            v -> v instanceof Boolean || BASE_DEFAULT.equals(v), "true or false")
        .add("rescale", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN_OR_STRING, BASE_DEFAULT,
            v -> v instanceof Boolean || "inverse".equals(v) || BASE_DEFAULT.equals(v), "true, false or inverse (dare base methods)")
        .add("int8_mask", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.BOOLEAN, false));
  }

  @Override
  public List<SideInput> sideInputs() {
    return List.of(new SideInput.Importances(SCORING));
  }

  @Override
  public MethodReport report() {
    return MethodReport.MASKS;
  }

  @Override
  public void validate(TensorMergeContext ctx) {
    LewisDensities.checkRange(ctx.global().getDouble("min_density"), ctx.global().getDouble("max_density"));
    MergeMethod base = base(ctx);
    if (ctx.global().get("rescale") instanceof String s && "inverse".equals(s) && !base.params().has("rescale")) {
      throw new ConfigException("lewis: rescale applies to the dare base methods, not to base_method "
          + base.name() + "; remove it");
    }
    // the lowest density a scored module can get must keep at least one entry
    boolean scored = LewisDensities.moduleOf(ctx.tensorName()) != null;
    base.validate(delegate(ctx, base, scored ? ctx.global().getDouble("min_density") : 1.0));
  }

  @Override
  public Cost cost(long[] shape, int modelCount, int elementSize) {
    return BASE_METHODS.get("ties").cost(shape, modelCount, elementSize);
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    MergeMethod base = base(ctx);
    return base.begin(delegate(ctx, base, Double.NaN));
  }

  private static MergeMethod base(TensorMergeContext ctx) {
    return BASE_METHODS.get(ctx.global().getString("base_method"));
  }

  /**
   * The base method's context: its global parameters (ours, or its defaults where left at
   * {@link #BASE_DEFAULT}); per model the weight, the gamma, and the density the driver resolved
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
    for (int t = 0; t < ctx.modelCount(); t++) {
      ResolvedParams p = ctx.perModel().get(t);
      double resolved = ctx.sides().importanceDensity(t);
      Map<String, Object> m = new LinkedHashMap<>();
      double density = !Double.isNaN(forcedDensity) ? forcedDensity : !Double.isNaN(resolved) ? resolved : 1.0;
      m.put("weight", lewisWeights && !Double.isNaN(resolved) ? density : p.getDouble("weight"));
      m.put("density", density);
      if (base.params().has("gamma")) {
        m.put("gamma", p.getDouble("gamma"));
      }
      pm.add(new ResolvedParams(m));
    }
    return ctx.withParams(new ResolvedParams(g), pm).withSides(SideValues.none(ctx.modelCount()));
  }
}
