package io.sparkmerge.method;

import java.util.ArrayList;
import java.util.List;

/** The baseline family of methods.md §1 (linear, task arithmetic, the sparsify/consensus family, passthrough). */
public final class BaselineMethods {
  private BaselineMethods() {}

  public static List<MergeMethod> all() {
    List<MergeMethod> l = new ArrayList<>();
    l.add(new LinearMerge());
    l.addAll(GeneralizedTaskArithmetic.family());
    l.add(new PassthroughMerge());
    return l;
  }
}
