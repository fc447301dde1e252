package io.sparkmerge.method;

import java.util.Map;

/**
 * What a method reports beside its merged tensors ({@link MergeMethod#report()}).
 *
 * @param note a sentence the manifest records about what the method is (e.g. an analogue of a paper's
 *     training-time method), or null
 * @param appliesMasks whether the method applies a binary mask per model and entry, which its merges
 *     report through {@link TensorMerge#observeMasks} ({@code sparkmerge masks})
 * @param summary turns the per-tensor {@link TensorMerge#counters()}, summed over the model, into the
 *     job's report (log and manifest), e.g. mask densities and overlaps
 */
public record MethodReport(String note, boolean appliesMasks, Summary summary) {
  /** Reports nothing. */
  public static final MethodReport NONE = new MethodReport(null, false, Summary.NONE);
  /** Applies per-entry masks; no note, no summary. */
  public static final MethodReport MASKS = new MethodReport(null, true, Summary.NONE);

  /** The summary of the counters' totals. */
  public interface Summary {
    Summary NONE = (totals, modelCount, bytesPerElement) -> Map.of();

    /** @param bytesPerElement bytes of one element of the models' dense checkpoints (for storage figures) */
    Map<String, Object> of(Map<String, Double> totals, int modelCount, int bytesPerElement);
  }

  /** The summary of these totals. */
  public Map<String, Object> summarize(Map<String, Double> totals, int modelCount, int bytesPerElement) {
    return summary.of(totals, modelCount, bytesPerElement);
  }
}
