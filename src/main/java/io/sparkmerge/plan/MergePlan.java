package io.sparkmerge.plan;

import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.vocab.EmbeddingRows;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Everything executors need to run a merge, decided on the driver from headers alone: inputs, the
 * output shards and their tensors with resolved parameters. Serializable and broadcast once.
 *
 * @param runId unique id of this run (names the staging directory)
 * @param method the job's merge method
 * @param base the configured base model, or null (integer tensors and config files come from it)
 * @param baseInMerge whether the method computes with the base (chunks carry its rows)
 * @param models the non-base models, in config order (a models: entry equal to the base is removed
 *     for methods that use a base, as mergekit does)
 * @param shards the output shards; shard i is Spark partition i
 * @param computeDouble whether methods compute in float64
 * @param seed the seed of every random draw
 * @param allowNonfinite whether NaN/Inf is reported only
 * @param chunkBytes target bytes of one model's chunk in the compute dtype
 * @param globalDefaults the job method's global parameters with defaults (for the manifest)
 * @param embeddingRows where the embedding matrices' rows come from after a vocabulary change
 *     ({@code tokenizer_source: union}, the {@code tokenizer:} block), or null
 */
public record MergePlan(
    String runId,
    String method,
    InputModel base,
    boolean baseInMerge,
    List<InputModel> models,
    List<ShardPlan> shards,
    boolean computeDouble,
    long seed,
    boolean allowNonfinite,
    long chunkBytes,
    ResolvedParams globalDefaults,
    EmbeddingRows embeddingRows) implements Serializable {

  public MergePlan(String runId, String method, InputModel base, boolean baseInMerge, List<InputModel> models,
      List<ShardPlan> shards, boolean computeDouble, long seed, boolean allowNonfinite, long chunkBytes,
      ResolvedParams globalDefaults) {
    this(runId, method, base, baseInMerge, models, shards, computeDouble, seed, allowNonfinite, chunkBytes, globalDefaults,
        null);
  }

  /** Input i of the embedding row map: the base first when there is one, then the models. */
  public InputModel embeddingInput(int i) {
    return base == null ? models.get(i) : i == 0 ? base : models.get(i - 1);
  }

  /** The embedding row map's index of plan model i (or of the base, for i = −1). */
  public int embeddingInputIndex(int modelIndex) {
    return modelIndex < 0 ? 0 : base == null ? modelIndex : modelIndex + 1;
  }

  /** The plan with every merged tensor's task replaced by {@code f(task)} (raw copies unchanged): how pre-passes fill in side inputs. */
  public MergePlan mapMerged(UnaryOperator<TensorTask> f) {
    List<ShardPlan> out = new ArrayList<>();
    for (ShardPlan s : shards) {
      out.add(s.withTensors(s.tensors().stream().map(t -> t.isRawCopy() ? t : f.apply(t)).toList()));
    }
    return new MergePlan(runId, method, base, baseInMerge, models, List.copyOf(out), computeDouble, seed, allowNonfinite,
        chunkBytes, globalDefaults, embeddingRows);
  }

  /** The plan reading the embedding matrices through this row map (a vocabulary change; null: none). */
  public MergePlan withEmbeddingRows(EmbeddingRows rows) {
    return new MergePlan(runId, method, base, baseInMerge, models, shards, computeDouble, seed, allowNonfinite, chunkBytes,
        globalDefaults, rows);
  }

  public int tensorCount() {
    int n = 0;
    for (ShardPlan s : shards) {
      n += s.tensors().size();
    }
    return n;
  }

  public long totalOutBytes() {
    long n = 0;
    for (ShardPlan s : shards) {
      n += s.outBytes();
    }
    return n;
  }

  public long totalReadBytes() {
    long n = 0;
    for (ShardPlan s : shards) {
      n += s.readBytes();
    }
    return n;
  }

  /** The input raw (integer/bool) tensors are copied from: the base if any, else the first model. */
  public InputModel rawSource() {
    return base != null ? base : models.get(0);
  }

  public long peakMemoryBytes() {
    long m = 0;
    for (ShardPlan s : shards) {
      m = Math.max(m, s.peakMemoryBytes());
    }
    return m;
  }
}
