package io.sparkmerge.config;

import io.sparkmerge.io.DType;
import io.sparkmerge.param.NameFilter;
import io.sparkmerge.param.ParameterValue;
import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * A merge job's configuration as the user wrote it (DESIGN.md §4), after YAML parsing and key
 * validation but before any model is opened. Parameter values are still unevaluated
 * ({@link ParameterValue}: scalars, gradients, condition lists).
 *
 * @param mergeMethod the registry name of the method
 * @param baseModel path of the base model, or null
 * @param models the entries under {@code models:}, in order
 * @param parameters method-wide parameters
 * @param outDtype the output dtype, or null for the base model's (per tensor)
 * @param computeDouble true for {@code compute_dtype: float64}
 * @param seed seed of every random draw
 * @param tensors per-tensor overrides, first match wins
 * @param outShardSize the largest output shard in bytes
 * @param copy file names copied from the base (or first model) when present
 * @param allowNonfinite whether NaN/Inf in inputs or outputs is only reported, not an error
 * @param rawYaml the config as given, for the manifest and model card
 * @param slices mergekit's output slices (empty: the whole models listed under {@code models:})
 * @param tokenizerSource null (tokenizer files from the base, else the first model, or built by a union), "base", or a
 *     model path
 * @param chatTemplate null, "auto" (the template most input models share) or a Jinja template text
 * @param computeInput {@code compute_dtype: input}: mergekit's arithmetic, each operation rounded to
 *     {@code mergekitDtype} or, without it, to each tensor's input dtype (math.InputRounding)
 * @param mergekitDtype the {@code dtype:} key as written (mergekit's compute dtype), or null
 * @param tokenizer the output vocabulary ({@code tokenizer_source} or the {@code tokenizer:} block), or null
 */
public record MergeConfig(
    String mergeMethod,
    String baseModel,
    List<ModelEntry> models,
    Map<String, ParameterValue> parameters,
    DType outDtype,
    boolean computeDouble,
    long seed,
    List<TensorOverride> tensors,
    long outShardSize,
    List<String> copy,
    boolean allowNonfinite,
    String rawYaml,
    List<SliceEntry> slices,
    String tokenizerSource,
    String chatTemplate,
    boolean computeInput,
    DType mergekitDtype,
    TokenizerSpec tokenizer) implements Serializable {

  /** The config without mergekit's slices, tokenizer source or chat template. */
  public MergeConfig(String mergeMethod, String baseModel, List<ModelEntry> models, Map<String, ParameterValue> parameters,
      DType outDtype, boolean computeDouble, long seed, List<TensorOverride> tensors, long outShardSize, List<String> copy,
      boolean allowNonfinite, String rawYaml) {
    this(mergeMethod, baseModel, models, parameters, outDtype, computeDouble, seed, tensors, outShardSize, copy,
        allowNonfinite, rawYaml, List.of(), null, null, false, null, null);
  }

  public boolean hasSlices() {
    return slices != null && !slices.isEmpty();
  }

  /**
   * One output slice (mergekit's {@code slices[].sources}): every source contributes the same number
   * of consecutive layers; output layer j of the slice merges layer {@code from + j} of each source.
   */
  public record SliceEntry(List<SliceSource> sources, Map<String, ParameterValue> parameters) implements Serializable {
    public int layerCount() {
      return sources.get(0).to() - sources.get(0).from();
    }
  }

  /** A slice source: layers [from, to) of a model, with that model's parameters in this slice. */
  public record SliceSource(String path, int from, int to, Map<String, ParameterValue> parameters) implements Serializable {}

  /**
   * One entry of {@code models:}: a model directory and its parameters, plus optional side inputs:
   * {@code masks} a checkpoint of BOOL/U8 masks (Localize-and-Stitch), {@code importance} a LEWIS
   * importance table (or {@code task_vector_norm}), {@code activations} a directory of activation
   * statistics, and {@code taskVector} when the directory holds τ = fine-tuned − base (task-vectors job).
   */
  public record ModelEntry(String path, Map<String, ParameterValue> parameters, String masks, String importance,
      String activations, boolean taskVector) implements Serializable {
    public ModelEntry(String path, Map<String, ParameterValue> parameters) {
      this(path, parameters, null, null, null, false);
    }
  }

  /**
   * One entry of {@code tensors:}: tensors whose name matches {@code filter} (substring, else regex)
   * use {@code mergeMethod} (null: the job's) and these parameters (highest precedence).
   */
  public record TensorOverride(String filter, String mergeMethod, Map<String, ParameterValue> parameters)
      implements Serializable {
    public boolean matches(String tensorName) {
      return NameFilter.matches(filter, tensorName);
    }
  }

  public static final long DEFAULT_OUT_SHARD_SIZE = 5_000_000_000L;

  public static final List<String> DEFAULT_COPY = List.of(
      "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
      "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json",
      "chat_template.jinja");
}
