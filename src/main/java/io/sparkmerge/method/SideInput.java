package io.sparkmerge.method;

import io.sparkmerge.io.ImportanceRow;
import io.sparkmerge.param.ResolvedParams;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a method reads beyond the checkpoints' tensors (methods.md §3–§4), declared by
 * {@link MergeMethod#sideInputs()}. Each kind names the model-entry keys that supply it (the config
 * loader accepts exactly these keys, and the planner refuses them for a method that does not declare
 * the kind), and the typed per-model value a tensor's merge finds in {@link TensorMergeContext#sides()}.
 * The driver supplies each kind before a task starts: header checks in {@code plan.MaskInputs} and
 * {@code plan.TaskVectorInputs}, pre-passes in {@code job.GlobalThresholdJob} and
 * {@code job.ImportanceSideInputs}; the method itself knows no files and no Spark.
 */
public sealed interface SideInput extends Serializable {

  /** The kinds, with the keys of a {@code models:} entry that supply each (none: it follows from parameters). */
  enum Kind {
    GIVEN_MASKS("given masks", "masks"),
    TASK_VECTORS("a task-vectors checkpoint as a model", "task_vector"),
    GLOBAL_THRESHOLD("a whole-model magnitude threshold"),
    IMPORTANCES("module importances", "importance", "activations");

    private final String description;
    private final List<String> entryKeys;

    Kind(String description, String... entryKeys) {
      this.description = description;
      this.entryKeys = List.of(entryKeys);
    }

    /** A few words for messages ("given masks"). */
    public String description() {
      return description;
    }

    public List<String> entryKeys() {
      return entryKeys;
    }

    /** The kind a model-entry key supplies, or null. */
    public static Kind ofEntryKey(String key) {
      for (Kind k : values()) {
        if (k.entryKeys.contains(key)) {
          return k;
        }
      }
      return null;
    }
  }

  Kind kind();

  /**
   * {@code masks: DIR} on a model entry: a checkpoint of BOOL/U8 masks with the model's names and shapes;
   * the chunks carry their rows ({@link TensorChunk#mask}), and {@link SideValues#hasGivenMask} says which
   * models have one.
   */
  record GivenMasks() implements SideInput {
    @Override
    public Kind kind() {
      return Kind.GIVEN_MASKS;
    }
  }

  /**
   * {@code task_vector: true} on a model entry: the directory holds τ = fine-tuned − base (a
   * {@code sparkmerge task-vectors} checkpoint); that model's chunk rows are τ, not θ
   * ({@link SideValues#isTaskVector}).
   */
  record TaskVectors() implements SideInput {
    @Override
    public Kind kind() {
      return Kind.TASK_VECTORS;
    }
  }

  /**
   * A whole-model magnitude threshold (methods.md §3, global masks): for every model that
   * {@link Selection#selects}, the exact k-th largest |τ_t| over every tensor the method merges
   * (magnitudes compared at the compute precision), k from {@link Selection#topCount}; computed by a
   * distributed pre-pass and found in {@link SideValues#globalThreshold}.
   */
  record GlobalThreshold(Selection selection) implements SideInput {
    /** Which models select over the whole model, and how many entries they keep. */
    public interface Selection extends Serializable {
      /** Whether a tensor with these method-wide parameters selects over the whole task vector of a model (with or without given masks). */
      boolean selects(ResolvedParams global, boolean givenMask);

      /** How many entries of the model's task vector to keep, out of all N. */
      long topCount(ResolvedParams perModel, long totalEntries);
    }

    @Override
    public Kind kind() {
      return Kind.GLOBAL_THRESHOLD;
    }
  }

  /**
   * {@code importance: TABLE | task_vector_norm} or {@code activations: DIR} on a model entry
   * (methods.md §4): per-model module importances, which the driver resolves and {@link Scoring} turns
   * into per-tensor densities ({@link SideValues#importanceDensity}; NaN for a tensor that is not scored).
   */
  record Importances(Scoring scoring) implements SideInput {
    /** The method's reading of importances. */
    public interface Scoring extends Serializable {
      /** The scored module (layer, component; importances 0) a tensor is, or null when it is not scored. */
      ImportanceRow module(String tensorName);

      /** One model's density per module key ({@link ImportanceRow#key()}), from its rows and the method-wide parameters. */
      Map<String, Double> densities(List<ImportanceRow> rows, ResolvedParams global);
    }

    @Override
    public Kind kind() {
      return Kind.IMPORTANCES;
    }
  }

  /** The method's declaration of this kind, if it reads it. */
  static <T extends SideInput> Optional<T> of(MergeMethod method, Class<T> kind) {
    for (SideInput s : method.sideInputs()) {
      if (kind.isInstance(s)) {
        return Optional.of(kind.cast(s));
      }
    }
    return Optional.empty();
  }

  /** Whether the method reads this kind. */
  static boolean reads(MergeMethod method, Kind kind) {
    return method.sideInputs().stream().anyMatch(s -> s.kind() == kind);
  }
}
