package io.sparkmerge.method;

import io.sparkmerge.io.ImportanceRow;
import io.sparkmerge.ConfigException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LEWIS' layer-wise densities (methods.md §4) for one fine-tuned model: δ(m, i) = |I_ft − I_base|,
 * normalised over the layers of each component, rounded to 5 decimals, then mapped linearly from the
 * global [min, max] to [γ, ε] (all equal → (γ + ε)/2). A component whose δ sum is 0 (the fine-tune left its
 * importance unchanged in every layer) keeps δ̂ = 0 in every layer and takes part in the min/max, as the
 * authors' {@code compute_deltas} (it normalises only when the sum is not 0) and {@code create_sparsity_values} do.
 */
public final class LewisDensities {
  /** Tensor names of a scored module: {@code ….layers.<layer>.<component>.weight}. */
  private static final Pattern MODULE = Pattern.compile("(?:^|\\.)layers\\.(\\d+)\\.(.+)\\.weight$");

  private LewisDensities() {}

  /** The scored module (layer, component) of a tensor name, or null for a tensor that is not a block's module weight. */
  public static ImportanceRow moduleOf(String tensorName) {
    Matcher m = MODULE.matcher(tensorName);
    return m.find() ? new ImportanceRow(Integer.parseInt(m.group(1)), m.group(2), 0, 0) : null;
  }

  public static void checkRange(double minDensity, double maxDensity) {
    if (minDensity > maxDensity) {
      throw new ConfigException("lewis: min_density " + minDensity + " is greater than max_density " + maxDensity
          + "; set min_density ≤ max_density");
    }
  }

  /** Density per (layer, component) key of one model. */
  public static Map<String, Double> densities(List<ImportanceRow> rows, double minDensity, double maxDensity) {
    checkRange(minDensity, maxDensity);
    Map<String, Double> sums = new TreeMap<>();
    for (ImportanceRow r : rows) {
      sums.merge(r.component(), Math.abs(r.finetuned() - r.base()), Double::sum);
    }
    Map<String, Double> normalised = new LinkedHashMap<>();
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (ImportanceRow r : rows) {
      double sum = sums.get(r.component());
      double v = sum == 0 ? 0 : round5(Math.abs(r.finetuned() - r.base()) / sum);
      normalised.put(r.key(), v);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (Map.Entry<String, Double> e : normalised.entrySet()) {
      out.put(e.getKey(), hi == lo ? (minDensity + maxDensity) / 2
          : minDensity + (e.getValue() - lo) / (hi - lo) * (maxDensity - minDensity));
    }
    return out;
  }

  static double round5(double v) {
    return new java.math.BigDecimal(v).setScale(5, java.math.RoundingMode.HALF_EVEN).doubleValue();
  }
}
