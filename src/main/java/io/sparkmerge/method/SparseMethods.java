package io.sparkmerge.method;

import java.util.List;

/** The sparse-merging methods of methods.md §3–§4: localize_stitch and lewis. */
public final class SparseMethods {
  private SparseMethods() {}

  public static List<MergeMethod> all() {
    return List.of(new LocalizeStitchMerge(), new LewisMerge());
  }
}
