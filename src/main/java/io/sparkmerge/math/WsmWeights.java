package io.sparkmerge.math;

import io.sparkmerge.param.Names;
import io.sparkmerge.ConfigException;
import java.util.Arrays;
import java.util.Locale;

/**
 * Merge weights for the k newest checkpoints of a constant-LR run (WSM, methods.md §5, Theorem 3.1).
 *
 * <p>A decay curve f on [0, 1] (f(0) = 1, non-increasing) gives LR multipliers w_i = f((i − 1)/k),
 * i = 1..k, for the k update intervals of the window. Merging θ = Σ_j c_j θ_j with
 * c_0 = 1 − w_1 (the anchor checkpoint just before the window), c_j = w_j − w_{j+1} and c_k = w_k
 * applies exactly the multiplier w_i to the i-th interval's updates: the merge is the run's
 * decayed-LR endpoint. Index 1 is the oldest checkpoint of the window, k the newest.
 */
public final class WsmWeights {

  /** The weights: {@code anchor} = c_0, {@code window[j-1]} = c_j (oldest first), and the multipliers used. */
  public record Result(String schedule, double anchor, double[] window, double[] multipliers) {
    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      for (double c : window) {
        sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", c));
      }
      return String.format(Locale.ROOT, "%s: anchor %.4f, window (oldest → newest) [%s]", schedule, anchor, sb);
    }
  }

  public static final String[] SCHEDULES = {"linear", "cosine", "1-sqrt", "ema", "custom"};

  private WsmWeights() {}

  /**
   * @param schedule linear | cosine | 1-sqrt | ema
   * @param k the window size (≥ 1)
   * @param emaAlpha α of {@code ema} (0 < α ≤ 1), ignored otherwise
   */
  public static Result of(String schedule, int k, double emaAlpha) {
    if (k < 1) {
      throw new ConfigException("--window must be at least 1, got " + k);
    }
    switch (schedule) {
      case "linear": {
        // f = 1 − x: every difference is exactly 1/k (computed directly so the weights are the plain mean, bit for bit)
        double[] c = new double[k];
        Arrays.fill(c, 1.0 / k);
        double[] w = new double[k];
        for (int i = 0; i < k; i++) {
          w[i] = (double) (k - i) / k;
        }
        return new Result(schedule, 0, c, w);
      }
      case "cosine":
      case "1-sqrt":
        return fromMultipliers(schedule, curve(k, curveOf(schedule)));
      case "ema": {
        if (!(emaAlpha > 0 && emaAlpha <= 1)) {
          throw new ConfigException("--ema-alpha must be in (0, 1], got " + emaAlpha);
        }
        // c_j ∝ α^(k−j): the newest checkpoint weighs most
        double[] c = new double[k];
        double sum = 0;
        for (int j = 1; j <= k; j++) {
          c[j - 1] = Math.pow(emaAlpha, k - j);
          sum += c[j - 1];
        }
        for (int j = 0; j < k; j++) {
          c[j] /= sum;
        }
        return new Result("ema(alpha=" + emaAlpha + ")", 0, c, multipliersOf(c));
      }
      default:
        throw new ConfigException("--schedule '" + schedule + "' is not one of linear, cosine, 1-sqrt, ema"
            + Names.suggestion(schedule, java.util.List.of("linear", "cosine", "1-sqrt", "ema"))
            + " (or give --weights w1,...,wk for a custom curve)");
    }
  }

  /**
   * A custom curve: the LR multipliers w_1..w_k of the window's intervals (w_1 ≤ 1, non-increasing,
   * ≥ 0), turned into merge weights by Theorem 3.1. w_1 < 1 gives the anchor checkpoint c_0 = 1 − w_1.
   */
  public static Result custom(double[] w) {
    if (w.length == 0) {
      throw new ConfigException("--weights needs at least one value");
    }
    for (int i = 0; i < w.length; i++) {
      if (!(w[i] >= 0 && w[i] <= 1)) {
        throw new ConfigException("--weights: w" + (i + 1) + " = " + w[i] + " is outside [0, 1]; the values are LR multipliers of a decay curve");
      }
      if (i > 0 && w[i] > w[i - 1]) {
        throw new ConfigException("--weights: w" + (i + 1) + " = " + w[i] + " is larger than w" + i + " = " + w[i - 1]
            + "; a decay curve is non-increasing (otherwise some merge weights would be negative)");
      }
    }
    return fromMultipliers("custom", w.clone());
  }

  /** The decay curves f of the named schedules ({@code ema} and custom weights are per checkpoint, not curves over steps). */
  private static java.util.function.DoubleUnaryOperator curveOf(String schedule) {
    switch (schedule) {
      case "linear":
        return x -> 1 - x;
      case "cosine":
        return x -> (1 + Math.cos(Math.PI * x)) / 2;
      case "1-sqrt":
        return x -> 1 - Math.sqrt(x);
      default:
        return null;
    }
  }

  /**
   * Theorem 3.1 with per-interval lengths: the window's checkpoints at steps s_1 < … < s_k, the interval i
   * running from s_{i−1} to s_i (s_0 the anchor's step). The decay runs over the whole span s_k − s_0, and
   * interval i takes the multiplier at its start, w_i = f((s_{i−1} − s_0)/(s_k − s_0)); the merge weights
   * follow as for equal spacing. Equal gaps give {@code equalSpacing} itself (so the weights are bit for bit
   * those of {@link #of}); {@code ema} and {@code custom} weigh checkpoints, not steps, and are returned as given.
   *
   * @param equalSpacing the schedule's weights for a window of k = steps.length − 1
   * @param steps s_0 … s_k (s_0 the anchor's step), increasing
   */
  public static Result atSteps(Result equalSpacing, double[] steps) {
    int k = steps.length - 1;
    if (k != equalSpacing.window().length) {
      throw new IllegalArgumentException("atSteps: " + steps.length + " steps for a window of " + equalSpacing.window().length);
    }
    java.util.function.DoubleUnaryOperator f = curveOf(equalSpacing.schedule());
    boolean equal = true;
    for (int i = 2; i <= k; i++) {
      equal &= steps[i] - steps[i - 1] == steps[1] - steps[0];
    }
    if (f == null || equal) {
      return equalSpacing;
    }
    double span = steps[k] - steps[0];
    double[] w = new double[k];
    for (int i = 1; i <= k; i++) {
      w[i - 1] = f.applyAsDouble((steps[i - 1] - steps[0]) / span);
    }
    return fromMultipliers(equalSpacing.schedule(), w);
  }

  static double[] curve(int k, java.util.function.DoubleUnaryOperator f) {
    double[] w = new double[k];
    for (int i = 1; i <= k; i++) {
      w[i - 1] = f.applyAsDouble((double) (i - 1) / k);
    }
    return w;
  }

  /** Theorem 3.1: c_0 = 1 − w_1, c_j = w_j − w_{j+1}, c_k = w_k. */
  static Result fromMultipliers(String schedule, double[] w) {
    int k = w.length;
    double[] c = new double[k];
    for (int j = 0; j < k - 1; j++) {
      c[j] = w[j] - w[j + 1];
    }
    c[k - 1] = w[k - 1];
    return new Result(schedule, 1 - w[0], c, w);
  }

  /** The multipliers a set of window weights corresponds to (w_i = Σ_{j ≥ i} c_j), for the manifest. */
  static double[] multipliersOf(double[] c) {
    double[] w = new double[c.length];
    double s = 0;
    for (int i = c.length - 1; i >= 0; i--) {
      s += c[i];
      w[i] = s;
    }
    return w;
  }
}
