package io.sparkmerge.plan;

import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.lora.LoraAdapter;
import java.io.Serializable;

/**
 * One model the merge reads: its role ("base", "models[i]" or "slices model[i]") and the index i it
 * names (-1 for the base), the path as configured, and its validated headers; the side inputs its
 * {@code models:} entry carries: the headers of its given masks ({@code masks:}, or null), where its
 * module importances come from ({@code importance:} a table or {@code task_vector_norm},
 * {@code activations:} a directory; or null). A model given as its task vector ({@code task_vector:
 * true}) has {@code taskVector} = the headers of its τ checkpoint (dense or sparse, see
 * {@link TaskVectorInputs}) and {@code dir} = the base's headers: its layout is the base's, and its
 * rows are τ. A model given as {@code MODEL+ADAPTER} has {@code dir} = MODEL's headers and {@code lora}
 * = the PEFT adapter, added to its rows as they are read (exec.LoraRows).
 * Shipped to executors inside the plan (headers only, no tensor data).
 */
public record InputModel(String role, int index, String path, ModelDirectory dir, ModelDirectory masks, String importance,
    String activations, ModelDirectory taskVector, LoraAdapter lora) implements Serializable {

  /** The base model. */
  public static InputModel base(String path, ModelDirectory dir) {
    return new InputModel("base", -1, path, dir, null, null, null, null, null);
  }

  /** Entry i under {@code models:} (its side inputs added with the withers). */
  public static InputModel entry(int i, String path, ModelDirectory dir) {
    return new InputModel("models[" + i + "]", i, path, dir, null, null, null, null, null);
  }

  /** The i-th distinct model a {@code slices:} config names. */
  public static InputModel sliced(int i, String path, ModelDirectory dir) {
    return new InputModel("slices model[" + i + "]", i, path, dir, null, null, null, null, null);
  }

  public InputModel withMasks(ModelDirectory givenMasks) {
    return new InputModel(role, index, path, dir, givenMasks, importance, activations, taskVector, lora);
  }

  public InputModel withImportance(String importanceSource, String activationsDir) {
    return new InputModel(role, index, path, dir, masks, importanceSource, activationsDir, taskVector, lora);
  }

  /** This model given as its task vector τ, laid out like {@code layout} (the base). */
  public InputModel asTaskVector(ModelDirectory tau, ModelDirectory layout) {
    return new InputModel(role, index, path, layout, masks, importance, activations, tau, null);
  }

  /** The same model with a LoRA adapter added to its rows (null: none). */
  public InputModel withLora(LoraAdapter adapter) {
    return new InputModel(role, index, path, dir, masks, importance, activations, taskVector, adapter);
  }
}
