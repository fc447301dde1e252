package io.sparkmerge.config;

import io.sparkmerge.io.DType;
import io.sparkmerge.param.NameFilter;
import io.sparkmerge.param.ParameterValue;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A merge job's configuration as the user wrote it (DESIGN.md §4), after YAML parsing and key
 * validation but before any model is opened. Parameter values are still unevaluated
 * ({@link ParameterValue}: scalars, gradients, condition lists). Read by {@link ConfigLoader}; built
 * in code with {@link #builder} (no YAML round trip).
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
 * @param rawYaml the config as given (or as rendered for a config built in code), for the manifest and model card
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

  public static final long DEFAULT_OUT_SHARD_SIZE = 5_000_000_000L;

  public static final List<String> DEFAULT_COPY = List.of(
      "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
      "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json",
      "chat_template.jinja");

  /** A config of this method with every other key at its default. */
  public static Builder builder(String mergeMethod) {
    return new Builder(mergeMethod);
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
   * One entry of {@code models:}: a model directory and its parameters, plus optional side inputs
   * (the keys {@code io.sparkmerge.method.SideInput.Kind} names): {@code masks} a checkpoint of BOOL/U8
   * masks (Localize-and-Stitch), {@code importance} a LEWIS importance table (or {@code task_vector_norm}),
   * {@code activations} a directory of activation statistics, and {@code taskVector} when the directory
   * holds τ = fine-tuned − base (task-vectors job).
   */
  public record ModelEntry(String path, Map<String, ParameterValue> parameters, String masks, String importance,
      String activations, boolean taskVector) implements Serializable {
    public ModelEntry(String path, Map<String, ParameterValue> parameters) {
      this(path, parameters, null, null, null, false);
    }

    /** The side-input keys this entry sets. */
    public List<String> sideInputKeys() {
      List<String> keys = new ArrayList<>();
      if (masks != null) {
        keys.add("masks");
      }
      if (taskVector) {
        keys.add("task_vector");
      }
      if (importance != null) {
        keys.add("importance");
      }
      if (activations != null) {
        keys.add("activations");
      }
      return keys;
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

  /**
   * Builds a {@link MergeConfig}: models, parameters and overrides one by one; the output, numeric and
   * mergekit options in groups (each group's defaults are the loader's). {@link #build} renders the YAML
   * of a config built in code when no text is given.
   */
  public static final class Builder {
    private final String mergeMethod;
    private String baseModel;
    private final List<ModelEntry> models = new ArrayList<>();
    private final Map<String, ParameterValue> parameters = new LinkedHashMap<>();
    private final List<TensorOverride> tensors = new ArrayList<>();
    private DType outDtype;
    private long outShardSize = DEFAULT_OUT_SHARD_SIZE;
    private List<String> copy = DEFAULT_COPY;
    private boolean computeDouble;
    private boolean computeInput;
    private DType mergekitDtype;
    private long seed;
    private boolean allowNonfinite;
    private List<SliceEntry> slices = List.of();
    private String tokenizerSource;
    private String chatTemplate;
    private TokenizerSpec tokenizer;
    private String rawYaml;
    private String comment;

    private Builder(String mergeMethod) {
      this.mergeMethod = mergeMethod;
    }

    /** The config's text as the user wrote it, or (null) a comment heading the rendered YAML. */
    public Builder text(String yaml, String renderedComment) {
      this.rawYaml = yaml;
      this.comment = renderedComment;
      return this;
    }

    public Builder baseModel(String path) {
      this.baseModel = path;
      return this;
    }

    public Builder model(ModelEntry entry) {
      models.add(entry);
      return this;
    }

    /** An entry with plain parameter values (numbers, booleans, strings). */
    public Builder model(String path, Map<String, Object> params) {
      Map<String, ParameterValue> values = new LinkedHashMap<>();
      params.forEach((k, v) -> values.put(k, ParameterValue.parse(v, k)));
      return model(new ModelEntry(path, values));
    }

    /** A method-wide parameter with a plain value. */
    public Builder parameter(String name, Object value) {
      return parameters(Map.of(name, ParameterValue.parse(value, name)));
    }

    public Builder parameters(Map<String, ParameterValue> values) {
      parameters.putAll(values);
      return this;
    }

    public Builder tensor(TensorOverride override) {
      tensors.add(override);
      return this;
    }

    /** Output dtype (null: the inputs'), the largest shard, the files copied from the base. */
    public Builder output(DType dtype, long shardBytes, List<String> copied) {
      this.outDtype = dtype;
      this.outShardSize = shardBytes;
      this.copy = List.copyOf(copied);
      return this;
    }

    /**
     * How the merge computes: in float64 or float32; with {@code compute_dtype: input} each operation rounded to
     * {@code dtype} (mergekit's {@code dtype:}, null: each tensor's input dtype); the seed of every random
     * draw; whether NaN/Inf is only reported.
     */
    public Builder compute(boolean inDouble, boolean input, DType dtype, long randomSeed, boolean nonfiniteAllowed) {
      computeDouble = inDouble;
      computeInput = input;
      mergekitDtype = dtype;
      seed = randomSeed;
      allowNonfinite = nonfiniteAllowed;
      return this;
    }

    /** mergekit's slices (empty: whole models), tokenizer source, chat template and output vocabulary (null: none). */
    public Builder mergekit(List<SliceEntry> outputSlices, String source, String template, TokenizerSpec vocabulary) {
      this.slices = List.copyOf(outputSlices);
      this.tokenizerSource = source;
      this.chatTemplate = template;
      this.tokenizer = vocabulary;
      return this;
    }

    public MergeConfig build() {
      MergeConfig cfg = new MergeConfig(mergeMethod, baseModel, List.copyOf(models),
          java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters)), outDtype, computeDouble, seed,
          List.copyOf(tensors), outShardSize, copy, allowNonfinite, rawYaml, slices, tokenizerSource, chatTemplate, computeInput,
          mergekitDtype, tokenizer);
      return rawYaml != null ? cfg : new MergeConfig(mergeMethod, baseModel, cfg.models(), cfg.parameters(), outDtype,
          computeDouble, seed, cfg.tensors(), outShardSize, copy, allowNonfinite, ConfigYaml.render(cfg, comment), slices,
          tokenizerSource, chatTemplate, computeInput, mergekitDtype, tokenizer);
    }
  }
}
