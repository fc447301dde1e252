package io.sparkmerge.method;

import io.sparkmerge.math.InputRounding;
import java.util.Arrays;

/**
 * Steps 2 and 3 of the task-arithmetic family (methods.md §1) up to, not including, λ: from the
 * sparsified, weighted task vectors D_t of a block, Δ = Σ_t D_t (divided by Σ_t w_t with
 * {@code normalize}), or with TIES sign election Δ = Σ of the D_t whose sign agrees with
 * sign(Σ_t D_t) (a zero sum elects +), divided by the agreeing weights with {@code normalize}. Δ does
 * not depend on λ; θ = θ₀ + λ·Δ is {@link DeltaMerge#combine}. Loops run model-major over the block
 * (vectorisable) but add in model order per element, as the definition does.
 */
final class Consensus {
  private final boolean signElection;
  private final double[] weight;
  private final boolean normalize;
  private final double plainDivisor;
  private final InputRounding rounding;
  private final float[] roundedWeight;
  private double[] sum = new double[0];
  private double[] mixed = new double[0];
  private double[] divisor = new double[0];
  /** Per model: entries whose D_t ≠ 0 agreed with the elected sign (counting only, sign election only). */
  private final long[] elected;

  /**
   * @param signElection TIES' sign election (ties, dare_ties, della, …), else a plain sum
   * @param rounding compute_dtype: input: sums accumulate in float32 and round once, every other operation
   *     rounds, in the order of mergekit's generalized_task_arithmetic.py on 16-bit tensors
   */
  Consensus(boolean signElection, double[] weight, boolean normalize, InputRounding rounding) {
    this.signElection = signElection;
    this.weight = weight.clone();
    this.normalize = normalize;
    this.rounding = rounding;
    double wSum = 0;
    float roundedSum = 0;
    this.roundedWeight = new float[weight.length];
    this.elected = new long[weight.length];
    for (int t = 0; t < weight.length; t++) {
      wSum += weight[t];
      roundedWeight[t] = rounding.value(weight[t]);
      roundedSum += roundedWeight[t];
    }
    float roundedDivisor = rounding.round(roundedSum);
    this.plainDivisor = rounding.active() ? (Math.abs(roundedDivisor) < 1e-8f ? 1f : roundedDivisor)
        : Math.abs(wSum) < 1e-8 ? 1.0 : wSum;
  }

  /** Δ of a block of n entries into {@code delta}, from {@code d[t]} = D_t. */
  void delta(double[][] d, int n, double[] delta) {
    if (rounding.active()) {
      rounded(d, n, delta);
      return;
    }
    if (mixed.length < n) {
      sum = new double[n];
      mixed = new double[n];
      divisor = new double[n];
    }
    Arrays.fill(mixed, 0, n, 0.0);
    if (!signElection) {
      for (double[] dt : d) {
        for (int i = 0; i < n; i++) {
          mixed[i] += dt[i];
        }
      }
      for (int i = 0; i < n; i++) {
        delta[i] = normalize ? mixed[i] / plainDivisor : mixed[i];
      }
      return;
    }
    Arrays.fill(sum, 0, n, 0.0);
    for (double[] dt : d) {
      for (int i = 0; i < n; i++) {
        sum[i] += dt[i];
      }
    }
    Arrays.fill(divisor, 0, n, 0.0);
    for (int t = 0; t < d.length; t++) {
      double[] dt = d[t];
      double w = weight[t];
      long agreed = 0;
      for (int i = 0; i < n; i++) {
        double v = dt[i];
        boolean agrees = v != 0 && (v > 0) == (sum[i] >= 0);
        // branch-free (signs are a coin flip for the branch predictor); adding +0.0 changes nothing:
        // mixed and divisor start at +0.0 and a sum is never −0.0 in round-to-nearest
        mixed[i] += agrees ? v : 0.0;
        divisor[i] += agrees ? w : 0.0;
        agreed += agrees ? 1 : 0;
      }
      elected[t] += agreed;
    }
    for (int i = 0; i < n; i++) {
      double div = divisor[i] == 0 ? 1 : divisor[i];
      delta[i] = normalize ? mixed[i] / div : mixed[i];
    }
  }

  /** With sign election, {@code elected[t]}: the entries of D_t counted so far that entered Δ. */
  void electedCounts(java.util.Map<String, Double> counters) {
    for (int t = 0; signElection && t < elected.length; t++) {
      counters.put("elected[" + t + "]", (double) elected[t]);
    }
  }

  /** {@link #delta} with compute_dtype: input (the weighted τ are already rounded). */
  private void rounded(double[][] d, int n, double[] delta) {
    InputRounding r = rounding;
    for (int i = 0; i < n; i++) {
      float mixedSum = 0;
      float divisor = (float) plainDivisor;
      if (signElection) {
        float s = 0;
        for (double[] dt : d) {
          s += (float) dt[i];
        }
        boolean positive = r.round(s) >= 0; // a zero (or −0) sum elects +, as (sum >= 0) does
        float kept = 0;
        for (int t = 0; t < d.length; t++) {
          double v = d[t][i];
          if (v != 0 && (v > 0) == positive) {
            mixedSum += (float) v;
            kept += roundedWeight[t];
            elected[t]++;
          }
        }
        kept = r.round(kept);
        divisor = kept == 0 ? 1f : kept;
      } else {
        for (double[] dt : d) {
          mixedSum += (float) dt[i];
        }
      }
      float m = r.round(mixedSum);
      delta[i] = normalize ? r.div(m, divisor) : m;
    }
  }
}
