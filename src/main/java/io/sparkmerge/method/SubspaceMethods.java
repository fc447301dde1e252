package io.sparkmerge.method;

import java.util.List;

/** The subspace methods of methods.md §2: iso_c, iso_cts, tsv_m. */
public final class SubspaceMethods {
  private SubspaceMethods() {}

  public static List<MergeMethod> all() {
    return List.of(new IsoCMerge(), new IsoCtsMerge(), new TsvMerge());
  }
}
