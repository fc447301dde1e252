package io.sparkmerge.plan;

import io.sparkmerge.io.ModelDirectory;
import java.io.Serializable;

/**
 * One model the merge reads: its role ("base" or "model N"), the path as configured, and its
 * validated headers, the headers of its given masks ({@code masks:}, or null), and where its module importances come from
 * ({@code importance:} a table or {@code task_vector_norm}, {@code activations:} a directory; or null).
 * A model given as a task vector ({@code task_vector: true}) has {@code taskVector} = the headers of its
 * τ checkpoint (dense or sparse, see {@link TaskVectorInputs}) and {@code dir} = the base's headers: its
 * layout is the base's, and its rows are τ. Shipped to executors inside the plan (headers only, no tensor data).
 */
public record InputModel(String role, String path, ModelDirectory dir, ModelDirectory masks, String importance,
    String activations, ModelDirectory taskVector) implements Serializable {
  public InputModel(String role, String path, ModelDirectory dir) {
    this(role, path, dir, null, null, null, null);
  }

  public InputModel(String role, String path, ModelDirectory dir, ModelDirectory masks, String importance, String activations) {
    this(role, path, dir, masks, importance, activations, null);
  }
}
