package io.sparkmerge.plan;

import io.sparkmerge.io.ModelDirectory;
import java.io.Serializable;

/**
 * One model the merge reads: its role ("base" or "model N"), the path as configured, and its
 * validated headers, the headers of its given masks ({@code masks:}, or null), and where its module importances come from
 * ({@code importance:} a table or {@code task_vector_norm}, {@code activations:} a directory; or null). Shipped to executors inside the plan (headers only, no tensor data).
 */
public record InputModel(String role, String path, ModelDirectory dir, ModelDirectory masks, String importance,
    String activations) implements Serializable {
  public InputModel(String role, String path, ModelDirectory dir) {
    this(role, path, dir, null, null, null);
  }
}
