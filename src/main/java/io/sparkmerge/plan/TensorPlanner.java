package io.sparkmerge.plan;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.math.InputRounding;
import io.sparkmerge.method.BaseUse;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.method.SideValues;
import io.sparkmerge.method.TensorMergeContext;
import io.sparkmerge.param.ParameterResolver;
import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.param.ParameterValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Plans one output tensor: a raw copy for integer/bool tensors; otherwise the method that merges it
 * (the job's, or a {@code tensors:} override's), its parameters resolved and validated, its side-input
 * values as the plan knows them, and its cost.
 */
final class TensorPlanner {
  /** Compute cost in flops that weighs as much as one byte moved (~10 GFLOP/s vs ~1 GB/s). */
  private static final double FLOPS_PER_BYTE = 10.0;

  /**
   * The inputs of one output tensor: the base's tensor name (null: the base is not read), the models
   * it merges with the tensor name read from each and their parameters, the slice's parameters, and
   * (slices only) the models' indices in the plan.
   */
  record Inputs(String baseName, List<InputModel> models, List<String> names, List<Map<String, ParameterValue>> params,
      Map<String, ParameterValue> sliceParams, int[] modelIndices) {}

  private final MergeConfig cfg;
  private final MergeMethod jobMethod;
  private final InputModel base;
  private final boolean usesBase;
  private final DataType computeType;

  TensorPlanner(MergeConfig cfg, MergeMethod jobMethod, InputModel base, boolean usesBase) {
    this.cfg = cfg;
    this.jobMethod = jobMethod;
    this.base = base;
    this.usesBase = usesBase;
    this.computeType = cfg.computeDouble() ? DataType.DOUBLE : DataType.FLOAT;
  }

  TensorTask plan(TensorInfo info, String name, double t, Inputs in) {
    List<InputModel> models = in.models();
    // bytes a task reads once through: the base (when the method uses it) and every model
    long read = usesBase ? base.dir().tensors().get(in.baseName()).byteLength() : 0;
    boolean allFloat = info.dtype().isFloating();
    for (int i = 0; i < models.size(); i++) {
      TensorInfo mi = models.get(i).dir().tensors().get(in.names().get(i));
      read += mi.byteLength();
      allFloat &= mi.dtype().isFloating();
    }
    // The tensor integer tensors are copied from and whose dtype the output keeps: the base's if read, else the first model's.
    TensorInfo reference = base != null && in.baseName() != null ? base.dir().tensors().get(in.baseName())
        : models.get(0).dir().tensors().get(in.names().get(0));
    TensorTask.Builder task = TensorTask.builder(name, info.shape(), allFloat ? outDtype(reference) : info.dtype()).position(t)
        .sources(in.modelIndices(), sourceNames(in));
    if (!allFloat) {
      // Integer and bool tensors (position ids, masks) are copied from the base or first model unchanged.
      long bytes = reference.byteLength();
      return task.copyFrom(0).costs(bytes, 2.0 * bytes).build();
    }
    MergeConfig.TensorOverride override = override(name);
    MergeMethod method = override != null && override.mergeMethod() != null ? MethodRegistry.get(override.mergeMethod()) : jobMethod;
    if (in.modelIndices() != null) {
      ModelSideInputs.checkUnsliced(method, name);
    }
    if (method != jobMethod && method.baseUse() == BaseUse.REQUIRED && !usesBase) {
      throw new ConfigException("tensors: filter '" + override.filter() + "' sends " + name + " to merge_method '" + method.name()
          + "', which needs a base model the job does not use; set base_model or choose another method");
    }
    Map<String, ParameterValue> overrideParams = override == null ? Map.of() : override.parameters();
    ParameterResolver.Resolved resolved = ParameterResolver.resolve(method, name, t, overrideParams,
        onlyKnown(method, in.params()), onlyKnown(method, in.sliceParams()), onlyKnown(method, cfg.parameters()));
    SideValues sides = ModelSideInputs.values(models);
    InputRounding rounding = InputDtypeCompute.rounding(cfg, method, name, reference.dtype());
    checkWeightSum(name, resolved.perModel());
    method.validate(new TensorMergeContext(name, info.shape(), computeType, cfg.seed(), usesBase, resolved.global(),
        resolved.perModel(), sides, rounding));
    long outBytes = info.numel() * outDtype(reference).size();
    double flops = method.cost(info.shape(), models.size(), computeType == DataType.DOUBLE ? 8 : 4).computeFlops();
    return task.merge(method.name(), resolved.global(), resolved.perModel(), sides, rounding)
        .costs(read, read + outBytes + flops / FLOPS_PER_BYTE).build();
  }

  /** Weights whose sum overflows (1e308 + 1e308) would silently zero a normalized merge: exit 2 instead. */
  private static void checkWeightSum(String tensor, List<ResolvedParams> perModel) {
    double sum = 0;
    for (ResolvedParams p : perModel) {
      Object w = p.has("weight") ? p.get("weight") : null;
      sum += w instanceof Number n ? Math.abs(n.doubleValue()) : 0;
    }
    if (!Double.isFinite(sum)) {
      throw new ConfigException("tensor " + tensor + ": the models' weights sum to more than the largest double; scale them down"
          + " (only their ratios matter when normalize is true)");
    }
  }

  private DType outDtype(TensorInfo reference) {
    return cfg.outDtype() != null ? cfg.outDtype() : reference.dtype();
  }

  /** The first {@code tensors:} entry whose filter matches, or null. */
  private MergeConfig.TensorOverride override(String name) {
    for (MergeConfig.TensorOverride o : cfg.tensors()) {
      if (o.matches(name)) {
        return o;
      }
    }
    return null;
  }

  /** For slices: [0] the base's tensor name, then one per model; null when every input has the output's name. */
  private static String[] sourceNames(Inputs in) {
    if (in.modelIndices() == null) {
      return null;
    }
    String[] names = new String[in.models().size() + 1];
    names[0] = in.baseName();
    for (int i = 0; i < in.models().size(); i++) {
      names[i + 1] = in.names().get(i);
    }
    return names;
  }

  /**
   * A tensor routed to another method by a tensors: override keeps only the job-level parameters
   * that method knows (a TIES density means nothing to linear); the job method's own are checked
   * strictly elsewhere.
   */
  private List<Map<String, ParameterValue>> onlyKnown(MergeMethod m, List<Map<String, ParameterValue>> ps) {
    List<Map<String, ParameterValue>> out = new ArrayList<>();
    for (Map<String, ParameterValue> p : ps) {
      out.add(onlyKnown(m, p));
    }
    return out;
  }

  private Map<String, ParameterValue> onlyKnown(MergeMethod m, Map<String, ParameterValue> p) {
    if (m == jobMethod) {
      return p;
    }
    Map<String, ParameterValue> out = new LinkedHashMap<>();
    p.forEach((k, v) -> {
      if (m.params().has(k)) {
        out.put(k, v);
      }
    });
    return out;
  }
}
