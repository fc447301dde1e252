package io.sparkmerge.testing;

/** A plain-double reference of the wsa merge (methods.md §6), written from the formula, for the tests. */
public final class ScopeReference {
  private ScopeReference() {}

  public static double mean(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v;
    }
    return s / x.length;
  }

  /** Population variance; 0 when every value is equal (a constant tensor is not aligned). */
  public static double variance(double[] x) {
    if (java.util.Arrays.stream(x).allMatch(v -> v == x[0])) {
      return 0;
    }
    double m = mean(x);
    double s = 0;
    for (double v : x) {
      s += (v - m) * (v - m);
    }
    return s / x.length;
  }

  /** θ = Σ p_k ((θ_k − μ_k)/σ_k · σ* + μ*), p normalised; optionally re-aligned to (μ*, σ*²); 1-D: weighted mean. */
  public static double[] wsa(double[][] models, double[] w, boolean moment, boolean rescale, boolean oneDimensional) {
    int n = models[0].length;
    double sw = 0;
    for (double v : w) {
      sw += v;
    }
    double[] out = new double[n];
    if (oneDimensional) {
      for (int k = 0; k < models.length; k++) {
        for (int i = 0; i < n; i++) {
          out[i] += w[k] / sw * models[k][i];
        }
      }
      return out;
    }
    double muStar = 0;
    for (int k = 0; k < models.length; k++) {
      muStar += w[k] / sw * mean(models[k]);
    }
    double varStar = 0;
    for (int k = 0; k < models.length; k++) {
      double d = mean(models[k]) - muStar;
      varStar += w[k] / sw * (variance(models[k]) + (moment ? d * d : 0));
    }
    for (int k = 0; k < models.length; k++) {
      double mu = mean(models[k]);
      double sigma = Math.sqrt(variance(models[k]));
      for (int i = 0; i < n; i++) {
        double aligned = sigma > 0 ? (models[k][i] - mu) / sigma * Math.sqrt(varStar) + muStar : models[k][i];
        out[i] += w[k] / sw * aligned;
      }
    }
    if (rescale) {
      double mu = mean(out);
      double sigma = Math.sqrt(variance(out));
      for (int i = 0; i < n; i++) {
        out[i] = (out[i] - mu) / sigma * Math.sqrt(varStar) + muStar;
      }
    }
    return out;
  }
}
