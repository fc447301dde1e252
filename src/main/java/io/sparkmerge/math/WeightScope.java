package io.sparkmerge.math;

import io.sparkmerge.ConfigException;
import java.io.Serializable;

/**
 * Weight scopes (WSA, methods.md §6): the scope of a tensor is (μ, σ²), the mean and population
 * variance of its entries. Fusion over models with normalised weights p_k gives the target scope
 * (μ*, σ*²); the training-time regulariser penalises KL(N(μ, σ²) ‖ N(μ*, σ*²)).
 */
public final class WeightScope {

  /** How σ*² is formed: {@code moment} matches the mixture's second moment, {@code mean} averages the variances. */
  public enum Fusion {
    MOMENT,
    MEAN;

    public static Fusion parse(String s) {
      return switch (s == null ? "moment" : s.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "moment" -> MOMENT;
        case "mean" -> MEAN;
        default -> throw new ConfigException("fusion '" + s + "' is not one of moment, mean");
      };
    }
  }

  /** One scope. */
  public record Scope(double mean, double variance) implements Serializable {}

  private WeightScope() {}

  /**
   * μ* = Σ p_k μ_k; σ*² = Σ p_k (σ_k² + (μ_k − μ*)²) (moment) or Σ p_k σ_k² (mean), with p normalised
   * to sum 1. Weights must be ≥ 0 and not all 0.
   */
  public static Scope fuse(Scope[] scopes, double[] weights, Fusion fusion) {
    double sum = 0;
    for (double w : weights) {
      if (!(w >= 0)) {
        throw new ConfigException("scope fusion weights must be non-negative, got " + w);
      }
      sum += w;
    }
    if (!(sum > 0)) {
      throw new ConfigException("scope fusion weights sum to 0; give at least one model a positive weight");
    }
    double mu = 0;
    for (int k = 0; k < scopes.length; k++) {
      mu += weights[k] / sum * scopes[k].mean();
    }
    double var = 0;
    for (int k = 0; k < scopes.length; k++) {
      double d = scopes[k].mean() - mu;
      var += weights[k] / sum * (scopes[k].variance() + (fusion == Fusion.MOMENT ? d * d : 0));
    }
    return new Scope(mu, var);
  }

  /**
   * KL(N(μ, σ²) ‖ N(μ*, σ*²)) = ½ log(σ*²/σ²) + (σ² + (μ − μ*)²)/(2σ*²) − ½. NaN when either variance
   * is not positive (the divergence is undefined or infinite: a constant tensor).
   */
  public static double kl(Scope p, Scope target) {
    if (!(p.variance() > 0) || !(target.variance() > 0)) {
      return Double.NaN;
    }
    double d = p.mean() - target.mean();
    return 0.5 * Math.log(target.variance() / p.variance()) + (p.variance() + d * d) / (2 * target.variance()) - 0.5;
  }
}
