package io.sparkmerge.method;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts of the per-model masks a merge applies to one tensor — entries kept per model, pairwise
 * intersections and unions, entries covered by at least one mask — as the per-tensor
 * {@link TensorMerge#counters()}, and their summary over the model (densities, storage, Jaccard
 * overlaps, coverage) for the manifest.
 */
final class MaskCounts {
  static final String NUMEL = "numel";
  static final String COVERED = "covered";

  private final int models;
  private final long numel;
  private final long[] kept;
  private final long[][] intersection;
  private final long[][] union;
  private long covered;

  MaskCounts(int models, long numel) {
    this.models = models;
    this.numel = numel;
    this.kept = new long[models];
    this.intersection = new long[models][models];
    this.union = new long[models][models];
  }

  static String kept(int t) {
    return "kept[" + t + "]";
  }

  static String intersection(int i, int j) {
    return "intersection[" + i + "," + j + "]";
  }

  static String union(int i, int j) {
    return "union[" + i + "," + j + "]";
  }

  /**
   * Counts entries 0 .. n − 1 of a block of masks, {@code keep[t][i]}. Up to {@link #CODED_MODELS} models, each
   * entry's masks become one code (bit t: kept by model t) and the block a histogram of codes, read out once per
   * block: a few operations per entry and no branch on the mask bits (coin flips for the branch predictor).
   * More models: one pass per model and per pair, union = kept_s + kept_t − both.
   */
  void add(boolean[][] keep, int n) {
    if (models <= CODED_MODELS) {
      addCoded(keep, n);
      return;
    }
    int[] k = new int[models];
    for (int s = 0; s < models; s++) {
      k[s] = count(keep[s], n);
      kept[s] += k[s];
    }
    for (int s = 0; s < models; s++) {
      for (int t = s + 1; t < models; t++) {
        boolean[] a = keep[s];
        boolean[] b = keep[t];
        int both = 0;
        for (int i = 0; i < n; i++) {
          both += a[i] & b[i] ? 1 : 0;
        }
        intersection[s][t] += both;
        union[s][t] += k[s] + k[t] - both;
      }
    }
    int none = 0;
    for (int i = 0; i < n; i++) {
      boolean in = false;
      for (int s = 0; s < models; s++) {
        in |= keep[s][i];
      }
      none += in ? 0 : 1;
    }
    covered += n - none;
  }

  static final int CODED_MODELS = 8;
  /** Codes of the block's entries, and their histogram in 4 interleaved copies (equal neighbours do not serialise). */
  private int[] codes = new int[0];
  private final int[] histogram = new int[4 << CODED_MODELS];

  private void addCoded(boolean[][] keep, int n) {
    if (codes.length < n) {
      codes = new int[n];
    }
    int[] c = codes;
    java.util.Arrays.fill(c, 0, n, 0);
    for (int s = 0; s < models; s++) {
      boolean[] a = keep[s];
      int bit = 1 << s;
      for (int i = 0; i < n; i++) {
        c[i] |= a[i] ? bit : 0;
      }
    }
    int[] h = histogram;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      h[c[i] << 2]++;
      h[(c[i + 1] << 2) + 1]++;
      h[(c[i + 2] << 2) + 2]++;
      h[(c[i + 3] << 2) + 3]++;
    }
    for (; i < n; i++) {
      h[c[i] << 2]++;
    }
    for (int code = 0; code < 1 << models; code++) {
      int at = code << 2;
      long count = (long) h[at] + h[at + 1] + h[at + 2] + h[at + 3];
      h[at] = h[at + 1] = h[at + 2] = h[at + 3] = 0;
      if (count == 0) {
        continue;
      }
      covered += code != 0 ? count : 0;
      for (int s = 0; s < models; s++) {
        boolean ins = (code >> s & 1) != 0;
        kept[s] += ins ? count : 0;
        for (int t = s + 1; t < models; t++) {
          boolean inT = (code >> t & 1) != 0;
          intersection[s][t] += ins && inT ? count : 0;
          union[s][t] += ins || inT ? count : 0;
        }
      }
    }
  }

  private static int count(boolean[] a, int n) {
    int c = 0;
    for (int i = 0; i < n; i++) {
      c += a[i] ? 1 : 0;
    }
    return c;
  }

  Map<String, Double> counters() {
    Map<String, Double> c = new LinkedHashMap<>();
    c.put(NUMEL, (double) numel);
    c.put(COVERED, (double) covered);
    for (int t = 0; t < models; t++) {
      c.put(kept(t), (double) kept[t]);
      for (int u = t + 1; u < models; u++) {
        c.put(intersection(t, u), (double) intersection[t][u]);
        c.put(union(t, u), (double) union[t][u]);
      }
    }
    return c;
  }

  /**
   * Per model: density, kept entries, and the bytes of its task vector stored sparse (an I32 index
   * and a value per kept entry) versus dense; per pair: Jaccard overlap of the masks; coverage.
   */
  static Map<String, Object> summarize(Map<String, Double> totals, int modelCount, int bytesPerElement) {
    Map<String, Object> out = new LinkedHashMap<>();
    double n = totals.getOrDefault(NUMEL, 0.0);
    if (n == 0) {
      return out;
    }
    List<Map<String, Object>> models = new ArrayList<>();
    for (int t = 0; t < modelCount; t++) {
      double k = totals.getOrDefault(kept(t), 0.0);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("model", t);
      m.put("kept", (long) k);
      m.put("density", k / n);
      m.put("sparse_bytes", (long) (k * (4 + bytesPerElement)));
      m.put("dense_bytes", (long) (n * bytesPerElement));
      models.add(m);
    }
    out.put("masks", models);
    List<Map<String, Object>> pairs = new ArrayList<>();
    for (int i = 0; i < modelCount; i++) {
      for (int j = i + 1; j < modelCount; j++) {
        double u = totals.getOrDefault(union(i, j), 0.0);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("model_i", i);
        p.put("model_j", j);
        p.put("jaccard", u == 0 ? 0.0 : totals.getOrDefault(intersection(i, j), 0.0) / u);
        pairs.add(p);
      }
    }
    out.put("overlap", pairs);
    out.put("coverage", totals.getOrDefault(COVERED, 0.0) / n);
    out.put("entries", (long) n);
    return out;
  }
}
