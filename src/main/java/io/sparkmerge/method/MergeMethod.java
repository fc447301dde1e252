package io.sparkmerge.method;

import io.sparkmerge.math.Blocks;
import io.sparkmerge.param.ParamSpec;
import io.sparkmerge.param.ResolvedParams;

/**
 * One merge method (methods.md), as pure math on ND4J arrays: it knows nothing of files or Spark.
 *
 * <p>The executor-side runner drives a method tensor by tensor: {@link #begin} once per output
 * tensor, then, for {@link TensorMerge#preparationPasses()} passes, every chunk of the tensor in
 * row order through {@link TensorMerge#prepare}, then every chunk again through
 * {@link TensorMerge#merge}. A chunk is a block of whole rows; methods that need the whole tensor
 * at once (SVD) say so with {@link #chunking()} and get it as one chunk.
 */
public interface MergeMethod {

  /** How the runner may split a tensor. */
  enum Chunking {
    /** Blocks of whole rows (of the first dimension); 0-D and 1-D tensors are one row. */
    ROWS,
    /** The whole tensor in one chunk (e.g. methods that take an SVD of a 2-D tensor). */
    WHOLE_TENSOR
  }

  /** Whether the method uses a base model. */
  enum BaseUse {
    REQUIRED,
    OPTIONAL,
    NOT_USED
  }

  /** The registry name used in configs ({@code merge_method: ties}). */
  String name();

  /** The parameters this method accepts, with their defaults, scope and validation. */
  ParamSpec params();

  BaseUse baseUse();

  default Chunking chunking() {
    return Chunking.ROWS;
  }

  /**
   * Checks the model list before any data is read (e.g. slerp needs exactly two models). Throws a
   * {@link io.sparkmerge.ConfigException} naming the method and what to change.
   *
   * @param modelCount the number of entries under {@code models:} (the base is not counted)
   * @param hasBase whether a base model is configured
   */
  default void validateModels(int modelCount, boolean hasBase) {}

  /**
   * Checks one tensor's resolved parameters on the driver, before any data is read (e.g. a TIES
   * density that keeps no entry of this tensor). Throws a {@link io.sparkmerge.ConfigException}
   * naming the tensor, the parameter and the fix.
   */
  default void validateTensor(TensorMergeContext ctx) {}

  /**
   * Estimated working memory in bytes, beyond the input chunks themselves, to merge one tensor of
   * this shape with this many models at the given element size (for --dry-run and planning).
   */
  default long workingBytes(long[] shape, int modelCount, int elementSize) {
    return 0;
  }

  /**
   * Relative compute cost of one tensor beyond reading it (the planner adds the bytes read);
   * SVD methods return ≈ m·n·min(m,n) × the number of SVDs they run.
   */
  default double computeCost(long[] shape, int modelCount) {
    return 0;
  }

  /**
   * A sentence the manifest records about what this method is (e.g. that it is an analogue of a
   * paper's training-time method), or null.
   */
  default String manifestNote() {
    return null;
  }

  /**
   * Whether the method takes a model as its task vector ({@code task_vector: true}): the chunks then
   * carry τ for that model, marked by the per-model value {@link #TASK_VECTOR_INPUT}.
   */
  default boolean acceptsTaskVectors() {
    return false;
  }

  /** Per-model resolved value the runner adds (true) when the model's chunk rows are τ, not θ. */
  String TASK_VECTOR_INPUT = "task_vector_input";

  /** Whether the method reads given masks ({@code masks:} on a model entry). */
  default boolean usesMasks() {
    return false;
  }

  /**
   * Whether the method applies a binary mask per model and entry, which its {@link TensorMerge}
   * reports through {@link TensorMerge#observeMasks} ({@code sparkmerge masks}).
   */
  default boolean appliesMasks() {
    return false;
  }

  /**
   * Per-model resolved value the runner adds when a model carries a given mask ({@code masks:} on its
   * entry): {@code true}; the chunks then carry the mask's rows ({@link TensorChunk#mask}).
   */
  String MASK_GIVEN = "mask_given";

  /**
   * Per-model resolved value the runner adds for methods that select over a whole model
   * ({@link #selectsGlobally}): the exact k-th largest |τ_t| over every tensor the method merges
   * (magnitudes compared at the compute precision), k from {@link #globalTopCount}.
   */
  String GLOBAL_THRESHOLD = "global_magnitude_threshold";

  /**
   * Whether this tensor's model t needs a whole-model magnitude threshold (methods.md §3, global
   * masks), which the runner computes in a distributed pre-pass before the merge.
   */
  default boolean selectsGlobally(ResolvedParams global, ResolvedParams perModel) {
    return false;
  }

  /** For a whole-model selection: how many entries of model t's task vector to keep, out of all N. */
  default long globalTopCount(ResolvedParams perModel, long totalEntries) {
    throw new UnsupportedOperationException(name() + " makes no whole-model selection");
  }

  /**
   * Turns the sums over all tensors of the per-tensor {@link TensorMerge#counters()} into the job's
   * report (log and manifest), e.g. mask densities and overlaps. Empty for most methods.
   *
   * @param bytesPerElement bytes of one element of the models' dense checkpoints (for storage figures)
   */
  default java.util.Map<String, Object> summarize(java.util.Map<String, Double> totals, int modelCount, int bytesPerElement) {
    return java.util.Map.of();
  }

  /**
   * Per-model resolved value the runner adds for methods that read module importances
   * ({@link #usesImportance}): this tensor's density for that model (absent for an unscored tensor).
   */
  String IMPORTANCE_DENSITY = "importance_density";

  /**
   * Whether the method reads per-model module importances ({@code importance:} or {@code activations:}
   * on the model entries, methods.md §4), which the runner turns into per-tensor densities.
   */
  default boolean usesImportance() {
    return false;
  }

  /** The scored module (layer, component; importances 0) a tensor is, or null when it is not scored. */
  default ImportanceRow importanceModule(String tensorName) {
    return null;
  }

  /** One model's density per module key ({@link ImportanceRow#key()}), from its importance rows and the method-wide parameters. */
  default java.util.Map<String, Double> importanceDensities(java.util.List<ImportanceRow> rows, ResolvedParams global) {
    throw new UnsupportedOperationException(name() + " reads no importances");
  }

  /** Starts merging one tensor. The returned object holds per-tensor state and is closed after the last chunk. */
  /**
   * Whether the method can reproduce mergekit's 16-bit arithmetic ({@code compute_dtype: input}):
   * it rounds every operation as {@link TensorMergeContext#rounding()} says, in mergekit's order, or
   * mergekit itself computes it in float32 (slerp) or in one operation (passthrough).
   */
  default boolean roundsLikeTorch() {
    return false;
  }

  TensorMerge begin(TensorMergeContext ctx);
}
