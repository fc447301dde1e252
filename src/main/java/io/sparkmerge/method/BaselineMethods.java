package io.sparkmerge.method;

import java.util.List;

/** The baseline family of methods.md §1 (linear, task arithmetic, the sparsify/consensus family, passthrough). */
public final class BaselineMethods {
  private BaselineMethods() {}

  public static List<MergeMethod> all() {
    return List.of();
  }
}
