package io.sparkmerge.method;

import io.sparkmerge.math.InputRounding;

/**
 * The combine step of {@link SparseTaskMerge} under {@code compute_dtype: input}, in the order of
 * mergekit's generalized_task_arithmetic.py on 16-bit tensors: sums over the models accumulate in
 * float32 and round once; every other operation rounds its result (math.InputRounding).
 */
final class RoundedCombine {
  private RoundedCombine() {}

  /**
   * @param base the base's values
   * @param d the weighted (and sparsified) task vectors, already rounded
   * @param w the weights as the dtype holds them
   */
  static void combine(InputRounding r, boolean consensus, boolean normalize, double lambda, double[] base, double[][] d,
      float[] w, int n, double[] out) {
    float wSum = 0;
    for (float x : w) {
      wSum += x;
    }
    float plainDivisor = r.round(wSum);
    plainDivisor = Math.abs(plainDivisor) < 1e-8f ? 1f : plainDivisor;
    for (int i = 0; i < n; i++) {
      float mixed = 0;
      float divisor = 0;
      if (consensus) {
        float s = 0;
        for (double[] dt : d) {
          s += (float) dt[i];
        }
        boolean positive = r.round(s) >= 0; // a zero (or −0) sum elects +, as (sum >= 0) does
        for (int t = 0; t < d.length; t++) {
          double v = d[t][i];
          if (v != 0 && (v > 0) == positive) {
            mixed += (float) v;
            divisor += w[t];
          }
        }
        mixed = r.round(mixed);
        divisor = r.round(divisor);
        divisor = divisor == 0 ? 1f : divisor;
      } else {
        for (double[] dt : d) {
          mixed += (float) dt[i];
        }
        mixed = r.round(mixed);
        divisor = plainDivisor;
      }
      if (normalize) {
        mixed = r.div(mixed, divisor);
      }
      if (lambda != 1) {
        mixed = r.mul(mixed, lambda);
      }
      out[i] = r.add(base[i], mixed);
    }
  }
}
