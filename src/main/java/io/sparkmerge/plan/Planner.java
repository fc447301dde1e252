package io.sparkmerge.plan;

import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.ConfigException;
import io.sparkmerge.InputDataException;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.param.ParameterResolver;
import io.sparkmerge.param.ParameterValue;
import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.method.TensorMergeContext;
import io.sparkmerge.vocab.EmbeddingRows;
import io.sparkmerge.vocab.VocabularySurgery;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The driver side of a merge: opens every model's headers (never tensor data), checks that the
 * models match, resolves every tensor's method and parameters, validates them, estimates costs and
 * packs tensors into output shards. Everything that can be wrong with a config or the inputs'
 * layout fails here, before a Spark task starts.
 */
public final class Planner {
  /** Target size of one model's chunk in the compute dtype: bounds executor memory per task. */
  public static final long DEFAULT_CHUNK_BYTES = 64L << 20;
  /** Compute cost in flops that weighs as much as one byte moved (~10 GFLOP/s vs ~1 GB/s). */
  private static final double FLOPS_PER_BYTE = 10.0;

  private final Configuration hadoopConf;

  public Planner(Configuration hadoopConf) {
    this.hadoopConf = hadoopConf;
  }

  public MergePlan plan(MergeConfig cfg, int minPartitions, String runId) {
    MergeMethod method = MethodRegistry.get(cfg.mergeMethod());
    if (method.baseUse() == MergeMethod.BaseUse.REQUIRED && cfg.baseModel() == null) {
      throw new ConfigException("merge_method '" + method.name() + "' needs a base model: add 'base_model: <path>' to the config");
    }
    if (cfg.models().isEmpty() && !cfg.hasSlices()) {
      throw new ConfigException("the config lists no models: add at least one entry under 'models:'");
    }
    for (Map.Entry<String, ParameterValue> e : cfg.parameters().entrySet()) {
      ParameterResolver.checkKnown(method, Map.of(e.getKey(), e.getValue()), "parameters");
    }
    InputModel base = cfg.baseModel() == null ? null : new InputModel("base", cfg.baseModel(), open(cfg.baseModel(), "base_model"));
    boolean usesBase = method.baseUse() != MergeMethod.BaseUse.NOT_USED && base != null;
    DataType computeType = cfg.computeDouble() ? DataType.DOUBLE : DataType.FLOAT;
    if (cfg.hasSlices()) {
      List<InputModel> models = new ArrayList<>();
      List<TensorTask> tasks = planSlices(cfg, method, base, usesBase, models, computeType);
      return pack(cfg, method, runId, minPartitions, base, usesBase, models, tasks);
    }
    List<InputModel> models = new ArrayList<>();
    List<Map<String, ParameterValue>> modelParams = new ArrayList<>();
    for (int i = 0; i < cfg.models().size(); i++) {
      MergeConfig.ModelEntry e = cfg.models().get(i);
      // mergekit lists the base among the models for base-using methods; it contributes no task vector.
      if (usesBase && samePath(e.path(), cfg.baseModel())) {
        continue;
      }
      ParameterResolver.checkKnown(method, e.parameters(), "models[" + i + "] (" + e.path() + ")");
      String role = "models[" + i + "]";
      if (e.taskVector() && !method.acceptsTaskVectors()) {
        throw new ConfigException(role + " (" + e.path() + "): 'task_vector: true' (a task-vectors checkpoint as a model)"
            + " is read by localize_stitch, not by merge_method '" + method.name() + "'; give the fine-tuned model directory instead");
      }
      if (e.taskVector() && base == null) {
        throw new ConfigException(role + " (" + e.path() + "): 'task_vector: true' needs base_model: the task vector is"
            + " relative to it");
      }
      if (e.masks() != null && !method.usesMasks()) {
        throw new ConfigException(role + " (" + e.path() + "): 'masks:' is read by localize_stitch, not by merge_method '"
            + method.name() + "'; remove it or change the method");
      }
      if ((e.importance() != null || e.activations() != null) && !method.usesImportance()) {
        throw new ConfigException(role + " (" + e.path() + "): 'importance:'/'activations:' are read by lewis, not by"
            + " merge_method '" + method.name() + "'; remove them or change the method");
      }
      ModelDirectory masks = e.masks() == null ? null : open(e.masks(), role + ".masks");
      if (e.taskVector()) {
        ModelDirectory tau = open(e.path(), role);
        TaskVectorInputs.check(base.dir(), tau, role);
        models.add(new InputModel(role, e.path(), base.dir(), masks, e.importance(), e.activations(), tau));
      } else {
        models.add(new InputModel(role, e.path(), open(e.path(), role), masks, e.importance(), e.activations()));
      }
      modelParams.add(e.parameters());
    }
    if (models.isEmpty()) {
      throw new ConfigException("every entry under 'models:' is the base model; list at least one model to merge with it");
    }
    method.validateModels(models.size(), usesBase);
    InputModel reference = base != null ? base : models.get(0);
    VocabularySurgery vocab = VocabularyInputs.plan(hadoopConf, cfg, method, base, models);
    checkCompatible(reference, base, models, vocab != null);
    for (InputModel m : models) {
      if (m.masks() != null) {
        MaskInputs.check(reference.dir(), m);
      }
    }

    Map<String, TensorInfo> tensors = reference.dir().tensors();
    LayerPositions positions = new LayerPositions(tensors.keySet());
    List<TensorTask> tasks = new ArrayList<>();
    for (TensorInfo info : tensors.values()) {
      TensorInputs in = new TensorInputs(info.name(), models, java.util.Collections.nCopies(models.size(), info.name()),
          modelParams, Map.of(), null);
      TensorInfo out = vocab != null && EmbeddingRows.isEmbedding(info.name(), info.shape())
          ? new TensorInfo(info.name(), info.dtype(), new long[] {vocab.rows().rows(), info.shape()[1]}, 0, 0, 0) : info;
      tasks.add(planTensor(cfg, method, out, info.name(), positions.position(info.name()), base, usesBase, in, computeType));
    }
    MergePlan plan = pack(cfg, method, runId, minPartitions, base, usesBase, models, tasks);
    return vocab == null ? plan : new MergePlan(plan.runId(), plan.method(), plan.base(), plan.baseInMerge(), plan.models(),
        plan.shards(), plan.computeDouble(), plan.seed(), plan.allowNonfinite(), plan.chunkBytes(), plan.globalDefaults(),
        vocab.rows());
  }

  /** Bin-packs the planned tensors into output shards and sums what each shard reads, writes and needs. */
  private static MergePlan pack(MergeConfig cfg, MergeMethod method, String runId, int minPartitions, InputModel base,
      boolean usesBase, List<InputModel> models, List<TensorTask> tasks) {
    long maxShard = cfg.outShardSize();
    List<List<TensorTask>> packed = ShardPacker.pack(tasks, maxShard, Math.max(1, minPartitions));
    List<ShardPlan> shards = new ArrayList<>();
    int inputs = models.size() + (usesBase ? 1 : 0);
    int elem = cfg.computeDouble() ? 8 : 4;
    for (int i = 0; i < packed.size(); i++) {
      List<TensorTask> ts = packed.get(i);
      long out = 0;
      long read = 0;
      double cost = 0;
      long peak = 0;
      for (TensorTask t : ts) {
        out += t.outBytes();
        read += t.readBytes();
        cost += t.cost();
        peak = Math.max(peak, taskMemory(t, inputs, elem));
      }
      shards.add(new ShardPlan(i, io.sparkmerge.io.HfIndex.shardName(i + 1, packed.size()), List.copyOf(ts), out, read, cost, peak));
    }
    // the method-wide values only: resolving per-model ones here, without the models' parameters, failed
    // for a required per-model parameter given per model (nuslerp's weight)
    ResolvedParams defaults = ParameterResolver.resolve(method, "", 0.0, Map.of(), List.of(), Map.of(), cfg.parameters()).global();
    return new MergePlan(runId, method.name(), base, usesBase, models, shards, cfg.computeDouble(), cfg.seed(),
        cfg.allowNonfinite(), DEFAULT_CHUNK_BYTES, defaults);
  }

  /** The base and the models of an analysis job (base required; a models: entry equal to it is dropped), checked to match. */
  public record AnalysisInputs(InputModel base, List<InputModel> models) implements java.io.Serializable {}

  public AnalysisInputs openForAnalysis(MergeConfig cfg, String job) {
    if (cfg.baseModel() == null) {
      throw new ConfigException(job + " analyses task vectors: add 'base_model: <path>' to the config");
    }
    return openWithOptionalBase(cfg);
  }

  /** Like {@link #openForAnalysis(MergeConfig, String)}, but the base is optional (null in the result when absent). */
  public AnalysisInputs openWithOptionalBase(MergeConfig cfg) {
    InputModel base = cfg.baseModel() == null ? null : new InputModel("base", cfg.baseModel(), open(cfg.baseModel(), "base_model"));
    List<InputModel> models = new ArrayList<>();
    // a mergekit slices config analyses the whole models its slices name
    List<String> paths = cfg.hasSlices() ? SliceLayout.paths(cfg.slices())
        : cfg.models().stream().map(MergeConfig.ModelEntry::path).toList();
    for (int i = 0; i < paths.size(); i++) {
      String path = paths.get(i);
      if (cfg.baseModel() == null || !samePath(path, cfg.baseModel())) {
        models.add(new InputModel("models[" + i + "]", path, open(path, "models[" + i + "]")));
      }
    }
    if (models.isEmpty()) {
      throw new ConfigException("every entry under 'models:' is the base model; list at least one fine-tuned model");
    }
    checkCompatible(base != null ? base : models.get(0), base, models);
    return new AnalysisInputs(base, models);
  }

  /**
   * The inputs of one output tensor: the base's tensor name (null: the base is not read), the models
   * it merges with the tensor name read from each and their parameters, the slice's parameters, and
   * (slices only) the models' indices in the plan.
   */
  private record TensorInputs(String baseName, List<InputModel> models, List<String> names,
      List<Map<String, ParameterValue>> params, Map<String, ParameterValue> sliceParams, int[] modelIndices) {}

  /** mergekit slices: every output tensor with its sources (SliceLayout), the base taken out of each slice's sources. */
  private List<TensorTask> planSlices(MergeConfig cfg, MergeMethod method, InputModel base, boolean usesBase,
      List<InputModel> models, DataType computeType) {
    List<String> paths = SliceLayout.paths(cfg.slices());
    List<ModelDirectory> dirs = new ArrayList<>();
    int[] planIndex = new int[paths.size()];
    for (int i = 0; i < paths.size(); i++) {
      String p = paths.get(i);
      boolean isBase = base != null && samePath(p, base.path());
      dirs.add(isBase ? base.dir() : open(p, "slices: model"));
      planIndex[i] = isBase && usesBase ? -1 : models.size();
      if (planIndex[i] >= 0) {
        models.add(new InputModel("slices model[" + models.size() + "]", p, dirs.get(i)));
      }
    }
    if (models.isEmpty()) {
      throw new ConfigException("every source under 'slices:' is the base model; list at least one other model to merge with it");
    }
    for (int s = 0; s < cfg.slices().size(); s++) {
      MergeConfig.SliceEntry slice = cfg.slices().get(s);
      long bases = slice.sources().stream().filter(src -> usesBase && samePath(src.path(), base.path())).count();
      if (usesBase && bases == 0) {
        throw new ConfigException("slices[" + s + "]: merge_method '" + method.name() + "' uses the base model (" + base.path()
            + ") but it is not among the slice's sources; add '- model: " + base.path() + "' with a layer_range to the slice");
      }
      ParameterResolver.checkKnown(method, slice.parameters(), "slices[" + s + "].parameters");
      for (int j = 0; j < slice.sources().size(); j++) {
        ParameterResolver.checkKnown(method, slice.sources().get(j).parameters(), "slices[" + s + "].sources[" + j + "]");
      }
      method.validateModels(slice.sources().size() - (usesBase ? 1 : 0), usesBase);
    }
    List<TensorTask> tasks = new ArrayList<>();
    for (SliceLayout.OutputTensor o : SliceLayout.expand(cfg.slices(), paths, dirs)) {
      String baseName = null;
      List<InputModel> ms = new ArrayList<>();
      List<String> names = new ArrayList<>();
      List<Map<String, ParameterValue>> params = new ArrayList<>();
      List<Integer> idx = new ArrayList<>();
      for (SliceLayout.Source src : o.sources()) {
        if (planIndex[src.model()] < 0 && baseName == null) {
          baseName = src.tensor();
          continue;
        }
        int pi = planIndex[src.model()] < 0 ? models.size() : planIndex[src.model()];
        if (pi == models.size()) {
          throw new ConfigException("slices[" + o.slice() + "]: the base model is listed twice among the slice's sources; list it once");
        }
        ms.add(models.get(pi));
        names.add(src.tensor());
        params.add(src.parameters());
        idx.add(pi);
      }
      TensorInputs in = new TensorInputs(baseName, ms, names, params, o.sliceParameters(),
          idx.stream().mapToInt(Integer::intValue).toArray());
      tasks.add(planTensor(cfg, method, o.reference(), o.name(), o.t(), base, usesBase, in, computeType));
    }
    return tasks;
  }

  private TensorTask planTensor(MergeConfig cfg, MergeMethod jobMethod, TensorInfo info, String name, double t, InputModel base,
      boolean usesBase, TensorInputs in, DataType computeType) {
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
    String[] sourceNames = null;
    if (in.modelIndices() != null) {
      sourceNames = new String[models.size() + 1];
      sourceNames[0] = in.baseName();
      for (int i = 0; i < models.size(); i++) {
        sourceNames[i + 1] = in.names().get(i);
      }
    }
    if (!allFloat) {
      // Integer and bool tensors (position ids, masks) are copied from the base or first model unchanged.
      long bytes = reference.byteLength();
      return new TensorTask(name, info.shape(), info.dtype(), null, null, null, 0, t, bytes, 2.0 * bytes, in.modelIndices(),
          sourceNames);
    }
    MergeConfig.TensorOverride override = null;
    for (MergeConfig.TensorOverride o : cfg.tensors()) {
      if (o.matches(name)) {
        override = o;
        break;
      }
    }
    MergeMethod method = override != null && override.mergeMethod() != null ? MethodRegistry.get(override.mergeMethod()) : jobMethod;
    if (in.modelIndices() != null && (method.usesMasks() || method.usesImportance())) {
      // their whole-model side inputs (global thresholds, given masks, importances) are per model, not per slice
      throw new ConfigException("merge_method '" + method.name() + "' cannot merge tensors of 'slices:' (" + name
          + "); list whole models under 'models:' for it");
    }
    if (method != jobMethod || in.modelIndices() != null) {
      if (method.baseUse() == MergeMethod.BaseUse.REQUIRED && !usesBase) {
        throw new ConfigException("tensors: filter '" + override.filter() + "' sends " + name + " to merge_method '" + method.name()
            + "', which needs a base model the job does not use; set base_model or choose another method");
      }
      method.validateModels(models.size(), usesBase);
    }
    Map<String, ParameterValue> overrideParams = override == null ? Map.of() : override.parameters();
    ParameterResolver.Resolved resolved = ParameterResolver.resolve(method, name, t, overrideParams,
        onlyKnown(method, jobMethod, in.params()), onlyKnown(method, jobMethod, in.sliceParams()),
        onlyKnown(method, jobMethod, cfg.parameters()));
    List<ResolvedParams> perModel = TaskVectorInputs.mark(models, MaskInputs.mark(models, resolved.perModel()));
    ResolvedParams global = InputDtypeCompute.mark(cfg, method, name, reference.dtype(), resolved.global());
    TensorMergeContext ctx = new TensorMergeContext(name, info.shape(), computeType, cfg.seed(), usesBase, global, perModel);
    method.validateTensor(ctx);
    DType out = cfg.outDtype() != null ? cfg.outDtype() : reference.dtype();
    long outBytes = info.numel() * out.size();
    double cost = read + outBytes + method.computeCost(info.shape(), models.size()) / FLOPS_PER_BYTE;
    return new TensorTask(name, info.shape(), out, method.name(), global, perModel, -1, t, read, cost,
        in.modelIndices(), sourceNames);
  }

  /**
   * A tensor routed to another method by a tensors: override keeps only the job-level parameters
   * that method knows (a TIES density means nothing to linear); the job method's own are checked
   * strictly elsewhere.
   */
  private static List<Map<String, ParameterValue>> onlyKnown(MergeMethod m, MergeMethod job, List<Map<String, ParameterValue>> ps) {
    List<Map<String, ParameterValue>> out = new ArrayList<>();
    for (Map<String, ParameterValue> p : ps) {
      out.add(onlyKnown(m, job, p));
    }
    return out;
  }

  private static Map<String, ParameterValue> onlyKnown(MergeMethod m, MergeMethod job, Map<String, ParameterValue> p) {
    if (m == job) {
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

  /** Executor memory for one tensor: raw + decoded chunk per input, the output chunk, and the method's working set. */
  private static long taskMemory(TensorTask t, int inputs, int elem) {
    if (t.isRawCopy()) {
      return Math.min(t.readBytes(), DEFAULT_CHUNK_BYTES);
    }
    MergeMethod m = MethodRegistry.get(t.method());
    long chunkElems = m.chunking() == MergeMethod.Chunking.WHOLE_TENSOR ? t.numel() : Math.min(t.numel(), DEFAULT_CHUNK_BYTES / elem);
    return (long) (inputs + 1) * chunkElems * (elem + 2) + m.workingBytes(t.shape(), t.perModel().size(), elem);
  }

  private ModelDirectory open(String path, String key) {
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(hadoopConf);
      if (!fs.exists(p)) {
        throw new ConfigException(key + ": model path '" + path + "' does not exist; check the path in the config");
      }
      return ModelDirectory.open(fs, p);
    } catch (FileNotFoundException e) {
      throw new ConfigException(key + ": model path '" + path + "' does not exist; check the path in the config", e);
    } catch (IOException e) {
      throw new UncheckedIOException(key + ": cannot read model '" + path + "': " + e.getMessage(), e);
    }
  }

  public static boolean samePath(String a, String b) {
    return new Path(a).toUri().normalize().getPath().replaceAll("/+$", "")
        .equals(new Path(b).toUri().normalize().getPath().replaceAll("/+$", ""));
  }

  /** Every model must have the reference's tensor names and shapes; the error names the model and the first differences. */
  static void checkCompatible(InputModel reference, InputModel base, List<InputModel> models) {
    checkCompatible(reference, base, models, false);
  }

  /** embeddingRowsMayDiffer: a vocabulary change permutes the embedding matrices, so only their row length must match. */
  static void checkCompatible(InputModel reference, InputModel base, List<InputModel> models, boolean embeddingRowsMayDiffer) {
    List<InputModel> all = new ArrayList<>();
    if (base != null && base != reference) {
      all.add(base);
    }
    all.addAll(models);
    Map<String, TensorInfo> ref = reference.dir().tensors();
    for (InputModel m : all) {
      if (m == reference) {
        continue;
      }
      Map<String, TensorInfo> other = m.dir().tensors();
      List<String> missing = new ArrayList<>();
      List<String> extra = new ArrayList<>();
      List<String> shape = new ArrayList<>();
      for (TensorInfo t : ref.values()) {
        TensorInfo o = other.get(t.name());
        if (o == null) {
          missing.add(t.name());
        } else if (!java.util.Arrays.equals(o.shape(), t.shape()) && !(embeddingRowsMayDiffer && EmbeddingRows.isEmbedding(t.name(),
            t.shape()) && o.shape().length == 2 && o.shape()[1] == t.shape()[1])) {
          shape.add(t.name() + " " + t.shapeString() + " vs " + o.shapeString());
        }
      }
      for (String n : other.keySet()) {
        if (!ref.containsKey(n)) {
          extra.add(n);
        }
      }
      if (!missing.isEmpty() || !extra.isEmpty() || !shape.isEmpty()) {
        StringBuilder sb = new StringBuilder(m.role() + " (" + m.path() + ") does not match " + reference.role() + " ("
            + reference.path() + "):");
        if (!missing.isEmpty()) {
          sb.append(" missing tensors ").append(first(missing));
        }
        if (!extra.isEmpty()) {
          sb.append(" extra tensors ").append(first(extra));
        }
        if (!shape.isEmpty()) {
          sb.append(" different shapes ").append(first(shape));
        }
        throw new InputDataException(sb.append("; merge only checkpoints of one architecture").toString());
      }
    }
  }

  private static String first(List<String> names) {
    int n = Math.min(3, names.size());
    String s = String.join(", ", names.subList(0, n));
    return names.size() > n ? s + " (and " + (names.size() - n) + " more)" : s;
  }
}
