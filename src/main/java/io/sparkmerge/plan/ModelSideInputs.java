package io.sparkmerge.plan;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.lora.LoraReference;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.method.SideInput;
import io.sparkmerge.method.SideValues;
import java.util.List;

/**
 * The side inputs a {@code models:} entry carries, on the driver ({@link SideInput}): a key is
 * accepted only when the method reads its kind; given masks and task-vector checkpoints are opened
 * and their headers checked ({@link MaskInputs}, {@link TaskVectorInputs}); per tensor, the values
 * the plan knows before any pre-pass (which models have given masks, which are task vectors).
 */
final class ModelSideInputs {
  private ModelSideInputs() {}

  /** Entry i opened with its side inputs, each checked against what the method reads. */
  static InputModel open(MergeConfig.ModelEntry e, int i, MergeMethod method, InputModel base, ModelOpener opener) {
    String role = "models[" + i + "]";
    for (String key : e.sideInputKeys()) {
      SideInput.Kind kind = SideInput.Kind.ofEntryKey(key);
      if (!SideInput.reads(method, kind)) {
        throw new ConfigException(role + " (" + e.path() + "): '" + key + ":' (" + kind.description() + ") is not read by"
            + " merge_method '" + method.name() + "'; remove it, or use a method that reads it ("
            + String.join(", ", MethodRegistry.readers(kind)) + ")");
      }
    }
    if (e.taskVector() && base == null) {
      throw new ConfigException(role + " (" + e.path() + "): 'task_vector: true' needs base_model: the task vector is"
          + " relative to it");
    }
    ModelDirectory masks = e.masks() == null ? null : opener.open(e.masks(), role + ".masks");
    InputModel m;
    if (e.taskVector()) {
      if (LoraReference.adapterPath(e.path(), role) != null) {
        throw new ConfigException(role + " (" + e.path() + "): 'task_vector: true' with a LoRA adapter; a task vector is"
            + " relative to the base: give the adapter on the base, or materialise the model first");
      }
      ModelDirectory tau = opener.open(e.path(), role);
      TaskVectorInputs.check(base.dir(), tau, role);
      m = InputModel.entry(i, e.path(), base.dir()).asTaskVector(tau, base.dir());
    } else {
      m = opener.model(e.path(), role, d -> InputModel.entry(i, e.path(), d));
    }
    return m.withMasks(masks).withImportance(e.importance(), e.activations());
  }

  /** The header checks that need the reference model's layout (given masks must match it). */
  static void checkHeaders(InputModel reference, List<InputModel> models) {
    for (InputModel m : models) {
      if (m.masks() != null) {
        MaskInputs.check(reference.dir(), m);
      }
    }
  }

  /** The side-input values a tensor merging these models starts with. */
  static SideValues values(List<InputModel> models) {
    boolean[] masks = new boolean[models.size()];
    boolean[] tau = new boolean[models.size()];
    for (int t = 0; t < masks.length; t++) {
      masks[t] = models.get(t).masks() != null;
      tau[t] = models.get(t).taskVector() != null;
    }
    return SideValues.of(masks, tau);
  }

  /** Sliced tensors merge per slice; whole-model side inputs (thresholds, masks, importances) are per model. */
  static void checkUnsliced(MergeMethod method, String tensor) {
    if (!method.sideInputs().isEmpty()) {
      throw new ConfigException("merge_method '" + method.name() + "' cannot merge tensors of 'slices:' (" + tensor
          + "); list whole models under 'models:' for it");
    }
  }
}
