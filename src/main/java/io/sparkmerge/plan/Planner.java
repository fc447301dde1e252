package io.sparkmerge.plan;

import io.sparkmerge.ConfigException;
import io.sparkmerge.InputDataException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.HfIndex;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.method.BaseUse;
import io.sparkmerge.method.Chunking;
import io.sparkmerge.method.Cost;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.param.ParameterResolver;
import io.sparkmerge.param.ParameterValue;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import io.sparkmerge.vocab.EmbeddingRows;
import io.sparkmerge.vocab.VocabularySurgery;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * The driver side of a merge: opens every model's headers (never tensor data), checks that the
 * models match, resolves every tensor's method and parameters ({@link TensorPlanner}; slices:
 * {@link SlicePlanner}), validates them, estimates costs and packs tensors into output shards.
 * Everything that can be wrong with a config or the inputs' layout fails here, before a Spark task
 * starts. Side inputs that need a pass over the data are filled in later by the job's pre-passes.
 */
public final class Planner {
  /** Target size of one model's chunk in the compute dtype: bounds executor memory per task. */
  public static final long DEFAULT_CHUNK_BYTES = 64L << 20;

  private final Configuration hadoopConf;
  private final ModelOpener opener;

  /** The planned tensors, and the embedding row map of a vocabulary change (null: none). */
  private record Planned(List<TensorTask> tasks, EmbeddingRows embeddingRows) {}

  public Planner(Configuration hadoopConf) {
    this.hadoopConf = hadoopConf;
    this.opener = new ModelOpener(hadoopConf);
  }

  public MergePlan plan(MergeConfig cfg, int minPartitions, String runId) {
    MergeMethod method = MethodRegistry.get(cfg.mergeMethod());
    if (method.baseUse() == BaseUse.REQUIRED && cfg.baseModel() == null) {
      throw new ConfigException("merge_method '" + method.name() + "' needs a base model: add 'base_model: <path>' to the config");
    }
    if (cfg.models().isEmpty() && !cfg.hasSlices()) {
      throw new ConfigException("the config lists no models: add at least one entry under 'models:'");
    }
    for (Map.Entry<String, ParameterValue> e : cfg.parameters().entrySet()) {
      ParameterResolver.checkKnown(method, Map.of(e.getKey(), e.getValue()), "parameters");
    }
    opener.readAhead(cfg);
    InputModel base = opener.base(cfg.baseModel());
    boolean usesBase = method.baseUse() != BaseUse.NOT_USED && base != null;
    TensorPlanner tensors = new TensorPlanner(cfg, method, base, usesBase);
    List<InputModel> models = new ArrayList<>();
    Planned planned = cfg.hasSlices() ? new Planned(SlicePlanner.plan(cfg, method, base, usesBase, models, opener, tensors), null)
        : planModels(cfg, method, base, usesBase, models, tensors);
    return pack(cfg, method, runId, minPartitions, base, usesBase, models, planned.tasks())
        .withEmbeddingRows(planned.embeddingRows());
  }

  /** Whether two configured paths name the same model directory. */
  public static boolean samePath(String a, String b) {
    return new Path(a).toUri().normalize().getPath().replaceAll("/+$", "")
        .equals(new Path(b).toUri().normalize().getPath().replaceAll("/+$", ""));
  }

  /** The whole models under {@code models:} (an entry equal to the base dropped for base-using methods), every tensor planned. */
  private Planned planModels(MergeConfig cfg, MergeMethod method, InputModel base, boolean usesBase,
      List<InputModel> models, TensorPlanner tensors) {
    List<Map<String, ParameterValue>> modelParams = new ArrayList<>();
    for (int i = 0; i < cfg.models().size(); i++) {
      MergeConfig.ModelEntry e = cfg.models().get(i);
      // mergekit lists the base among the models for base-using methods; it contributes no task vector.
      if (usesBase && samePath(e.path(), cfg.baseModel())) {
        continue;
      }
      ParameterResolver.checkKnown(method, e.parameters(), "models[" + i + "] (" + e.path() + ")");
      models.add(ModelSideInputs.open(e, i, method, base, opener));
      modelParams.add(e.parameters());
    }
    if (models.isEmpty()) {
      throw new ConfigException("every entry under 'models:' is the base model; list at least one model to merge with it");
    }
    InputModel reference = base != null ? base : models.get(0);
    VocabularySurgery vocab = VocabularyInputs.plan(hadoopConf, cfg, method, base, models);
    ModelOpener.checkCompatible(reference, base, models, vocab != null);
    ModelSideInputs.checkHeaders(reference, models);
    Map<String, TensorInfo> infos = reference.dir().tensors();
    if (infos.isEmpty()) {
      throw new InputDataException(reference.role() + " (" + reference.path() + ") holds no tensors; a merge of empty checkpoints"
          + " has no weights: check the model paths");
    }
    LayerPositions positions = new LayerPositions(infos.keySet());
    List<TensorTask> tasks = new ArrayList<>();
    for (TensorInfo info : infos.values()) {
      TensorPlanner.Inputs in = new TensorPlanner.Inputs(info.name(), models, Collections.nCopies(models.size(), info.name()),
          modelParams, Map.of(), null);
      // after a vocabulary change an embedding matrix has the output vocabulary's rows
      TensorInfo out = vocab != null && EmbeddingRows.isEmbedding(info.name(), info.shape())
          ? new TensorInfo(info.name(), info.dtype(), new long[] {vocab.rows().rows(), info.shape()[1]}, 0, 0, 0) : info;
      tasks.add(tensors.plan(out, info.name(), positions.position(info.name()), in));
    }
    return new Planned(tasks, vocab == null ? null : vocab.rows());
  }

  /** Bin-packs the planned tensors into output shards and sums what each shard reads, writes and needs. */
  private static MergePlan pack(MergeConfig cfg, MergeMethod method, String runId, int minPartitions, InputModel base,
      boolean usesBase, List<InputModel> models, List<TensorTask> tasks) {
    List<List<TensorTask>> packed = ShardPacker.pack(tasks, cfg.outShardSize(), Math.max(1, minPartitions));
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
        peak = Math.max(peak, taskMemory(t, inputs, elem, false));
      }
      shards.add(new ShardPlan(i, HfIndex.shardName(i + 1, packed.size()), List.copyOf(ts), out, read, cost, peak));
    }
    return new MergePlan(runId, method.name(), base, usesBase, models, shards, cfg.computeDouble(), cfg.seed(),
        cfg.allowNonfinite(), DEFAULT_CHUNK_BYTES, ParameterResolver.resolveGlobal(method, cfg.parameters()));
  }

  /** Executor memory for one tensor: raw + decoded chunk per input, the output chunk, and the method's working set. */
  private static long taskMemory(TensorTask t, int inputs, int elem, boolean sweep) {
    if (t.isRawCopy()) {
      return Math.min(t.readBytes(), DEFAULT_CHUNK_BYTES);
    }
    MergeMethod m = MethodRegistry.get(t.method());
    long chunkElems = m.chunking() == Chunking.WHOLE_TENSOR ? t.numel() : Math.min(t.numel(), DEFAULT_CHUNK_BYTES / elem);
    Cost cost = m.cost(t.shape(), t.perModel().size(), elem);
    return (long) (inputs + 1) * chunkElems * (elem + 2) + cost.workingBytes()
        + (sweep ? chunkElems * cost.sweepBytesPerElement() : 0);
  }

  /**
   * The plan with each shard's memory estimate for a sweep whose candidates differ by λ: a task writes them
   * one after the other from one merge, which may hold more than a single merge ({@link Cost#sweepBytesPerElement}).
   */
  public static MergePlan forLambdaSweep(MergePlan p) {
    int inputs = p.models().size() + (p.baseInMerge() ? 1 : 0);
    int elem = p.computeDouble() ? 8 : 4;
    List<ShardPlan> shards = new ArrayList<>();
    for (ShardPlan s : p.shards()) {
      long peak = 0;
      for (TensorTask t : s.tensors()) {
        peak = Math.max(peak, taskMemory(t, inputs, elem, true));
      }
      shards.add(new ShardPlan(s.index(), s.fileName(), s.tensors(), s.outBytes(), s.readBytes(), s.cost(), peak));
    }
    return new MergePlan(p.runId(), p.method(), p.base(), p.baseInMerge(), p.models(), List.copyOf(shards), p.computeDouble(),
        p.seed(), p.allowNonfinite(), p.chunkBytes(), p.globalDefaults(), p.embeddingRows());
  }

  /**
   * One model reference of a job that is not a merge (extract-lora): a directory or MODEL+ADAPTER, its headers
   * validated; {@code key} names it in errors.
   */
  public InputModel input(String ref, String key, boolean isBase) {
    return opener.model(ref, key, d -> isBase ? InputModel.base(ref, d) : InputModel.entry(0, ref, d));
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
    opener.readAhead(cfg);
    InputModel base = opener.base(cfg.baseModel());
    List<InputModel> models = new ArrayList<>();
    // a mergekit slices config analyses the whole models its slices name
    List<String> paths = cfg.hasSlices() ? SliceLayout.paths(cfg.slices())
        : cfg.models().stream().map(MergeConfig.ModelEntry::path).toList();
    for (int i = 0; i < paths.size(); i++) {
      String path = paths.get(i);
      if (cfg.baseModel() == null || !samePath(path, cfg.baseModel())) {
        int k = i;
        models.add(opener.model(path, "models[" + i + "]", d -> InputModel.entry(k, path, d)));
      }
    }
    if (models.isEmpty()) {
      throw new ConfigException("every entry under 'models:' is the base model; list at least one fine-tuned model");
    }
    ModelOpener.checkCompatible(base != null ? base : models.get(0), base, models, false);
    return new AnalysisInputs(base, models);
  }
}
