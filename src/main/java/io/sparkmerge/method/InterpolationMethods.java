package io.sparkmerge.method;

import java.util.List;

/** The interpolation and geometry-based baselines of methods.md §1: slerp, nuslerp, model_stock, karcher, sce. */
public final class InterpolationMethods {
  private InterpolationMethods() {}

  public static List<MergeMethod> all() {
    return List.of(new SlerpMerge(), new NuslerpMerge(), new ModelStockMerge(), new KarcherMerge(), new SceMerge());
  }
}
