package io.sparkmerge.method;

import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Localize-and-Stitch (methods.md §3, arXiv 2408.13656). Localize: a binary mask γ_t per task, either
 * given ({@code masks:} on the model entry, learned outside) or dataless: keep |τ_t| ≥ the k-th
 * largest magnitude, k = max(1, floor(s·N)), over the tensor ({@code mask_scope: tensor}) or over the
 * whole task vector ({@code mask_scope: global}, the threshold computed by the runner's pre-pass and
 * passed as {@link MergeMethod#GLOBAL_THRESHOLD}). Ties at the threshold are all kept. Stitch:
 * c = Σ γ_t, θ = θ₀ + Σ (γ_t / c) τ_t where c > 0; uncovered entries keep θ₀.
 */
final class LocalizeStitchMerge implements MergeMethod {
  static final String NAME = "localize_stitch";
  static final String SCOPE_GLOBAL = "global";
  static final String SCOPE_TENSOR = "tensor";

  private final ParamSpec params = ParamSpec.builder()
      .add("sparsity", ParamSpec.Scope.PER_MODEL, ParamSpec.Kind.NUMBER, 0.01,
          v -> ((Number) v).doubleValue() > 0 && ((Number) v).doubleValue() <= 1, "in (0, 1]")
      .add("mask_scope", ParamSpec.Scope.GLOBAL, ParamSpec.Kind.STRING, SCOPE_GLOBAL,
          v -> SCOPE_GLOBAL.equals(v) || SCOPE_TENSOR.equals(v), "global or tensor");

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

  /** τ rows are used as given, so a stitch from exact task vectors equals the one from the checkpoints bit for bit. */
  @Override
  public boolean acceptsTaskVectors() {
    return true;
  }

  @Override
  public boolean usesMasks() {
    return true;
  }

  @Override
  public void validateTensor(TensorMergeContext ctx) {
    if (SCOPE_TENSOR.equals(ctx.global().getString("mask_scope")) && ctx.numel() > Integer.MAX_VALUE) {
      throw new ConfigException("tensor " + ctx.tensorName() + " has " + ctx.numel() + " entries; mask_scope: tensor selects"
          + " within a tensor of up to 2^31 − 1 entries; use mask_scope: global or route it elsewhere with a tensors: override");
    }
  }

  @Override
  public boolean selectsGlobally(ResolvedParams global, ResolvedParams perModel) {
    return SCOPE_GLOBAL.equals(global.getString("mask_scope")) && !perModel.has(MASK_GIVEN);
  }

  @Override
  public long globalTopCount(ResolvedParams perModel, long totalEntries) {
    return topCount(perModel.getDouble("sparsity"), totalEntries);
  }

  /** k = max(1, floor(s·N)) (methods.md §3). */
  static long topCount(double sparsity, long n) {
    return Math.max(1, (long) Math.floor(sparsity * n));
  }

  @Override
  public long workingBytes(long[] shape, int modelCount, int elementSize) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return (long) modelCount * n * 8;
  }

  @Override
  public TensorMerge begin(TensorMergeContext ctx) {
    return new LocalizeStitchTensor(ctx);
  }

  /** Counter names: per model t and per pair (i, j), summed over tensors by the job. */
  static String kept(int t) {
    return "kept[" + t + "]";
  }

  static String intersection(int i, int j) {
    return "intersection[" + i + "," + j + "]";
  }

  static String union(int i, int j) {
    return "union[" + i + "," + j + "]";
  }

  static final String NUMEL = "numel";
  static final String COVERED = "covered";

  /**
   * Per model: density, kept entries, and the bytes of its task vector stored sparse (an I32 index
   * and a value per kept entry) versus dense; per pair: Jaccard overlap of the masks; coverage.
   */
  @Override
  public Map<String, Object> summarize(Map<String, Double> totals, int modelCount, int bytesPerElement) {
    Map<String, Object> out = new LinkedHashMap<>();
    double n = totals.getOrDefault(NUMEL, 0.0);
    if (n == 0) {
      return out;
    }
    List<Map<String, Object>> models = new ArrayList<>();
    for (int t = 0; t < modelCount; t++) {
      double k = totals.getOrDefault(kept(t), 0.0);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("model", t);
      m.put("kept", (long) k);
      m.put("density", k / n);
      m.put("sparse_bytes", (long) (k * (4 + bytesPerElement)));
      m.put("dense_bytes", (long) (n * bytesPerElement));
      models.add(m);
    }
    out.put("masks", models);
    List<Map<String, Object>> pairs = new ArrayList<>();
    for (int i = 0; i < modelCount; i++) {
      for (int j = i + 1; j < modelCount; j++) {
        double u = totals.getOrDefault(union(i, j), 0.0);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("model_i", i);
        p.put("model_j", j);
        p.put("jaccard", u == 0 ? 0.0 : totals.getOrDefault(intersection(i, j), 0.0) / u);
        pairs.add(p);
      }
    }
    out.put("overlap", pairs);
    out.put("coverage", totals.getOrDefault(COVERED, 0.0) / n);
    out.put("entries", (long) n);
    return out;
  }
}
