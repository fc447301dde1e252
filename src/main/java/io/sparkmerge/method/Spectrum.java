package io.sparkmerge.method;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The per-tensor counters of Iso-C / Iso-CTS's spectrum flattening (the merge report's "spectrum
 * flattening"): the singular values σ of the summed task matrix Σ τ_t — {@code sigma_sum} Σσ,
 * {@code sigma_sq_sum} Σσ², {@code sigma_max}, {@code rank} — and the same of the flattened spectrum,
 * {@code flat_*}: r singular values equal to the mean the method scales by (U Vᵀ, or the polar factors'
 * product, has r unit singular values, so the flattened spectrum is known without another SVD).
 * {@code rank} is the effective rank (Σσ)² / Σσ² (the participation ratio: r for a flat spectrum, 1 for a
 * single direction, 0 for a zero matrix).
 */
final class Spectrum {
  static final String SUM = "sigma_sum";
  static final String SQ_SUM = "sigma_sq_sum";
  static final String MAX = "sigma_max";
  static final String RANK = "rank";
  static final String FLAT = "flat_";

  private Spectrum() {}

  /** @param s the singular values of Σ τ_t; {@code flat} the value each of the r flattened ones takes */
  static void put(Map<String, Double> counters, INDArray s, double flat, int r) {
    double[] sigma = s.toDoubleVector();
    double sum = 0;
    double sq = 0;
    double max = 0;
    for (double v : sigma) {
      sum += v;
      sq += v * v;
      max = Math.max(max, v);
    }
    put(counters, "", sum, sq, max);
    put(counters, FLAT, r * flat, r * flat * flat, r == 0 ? 0 : flat);
  }

  private static void put(Map<String, Double> counters, String prefix, double sum, double sq, double max) {
    counters.put(prefix + SUM, sum);
    counters.put(prefix + SQ_SUM, sq);
    counters.put(prefix + MAX, max);
    counters.put(prefix + RANK, sq == 0 ? 0 : sum * sum / sq);
  }
}
