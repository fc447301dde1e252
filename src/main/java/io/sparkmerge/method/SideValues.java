package io.sparkmerge.method;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The side inputs' values for one tensor, one per model of the tensor ({@link SideInput}): which
 * models carry given masks, which are task vectors, each model's whole-model threshold and this
 * tensor's importance density (NaN where the driver supplied none). Resolved on the driver (the plan,
 * then the pre-passes) and shipped inside the plan; immutable.
 */
public final class SideValues implements Serializable {
  private final boolean[] givenMask;
  private final boolean[] taskVector;
  private final double[] globalThreshold;
  private final double[] importanceDensity;

  private SideValues(boolean[] givenMask, boolean[] taskVector, double[] globalThreshold, double[] importanceDensity) {
    this.givenMask = givenMask;
    this.taskVector = taskVector;
    this.globalThreshold = globalThreshold;
    this.importanceDensity = importanceDensity;
  }

  /** No side input for any of {@code models} models. */
  public static SideValues none(int models) {
    double[] nan = new double[models];
    Arrays.fill(nan, Double.NaN);
    return new SideValues(new boolean[models], new boolean[models], nan, nan.clone());
  }

  /** Per model: whether it carries given masks, and whether its rows are τ. */
  public static SideValues of(boolean[] givenMask, boolean[] taskVector) {
    SideValues n = none(givenMask.length);
    return new SideValues(givenMask.clone(), taskVector.clone(), n.globalThreshold, n.importanceDensity);
  }

  public int models() {
    return givenMask.length;
  }

  /** {@link SideInput.GivenMasks}: model t's chunks carry its given mask rows. */
  public boolean hasGivenMask(int t) {
    return givenMask[t];
  }

  /** {@link SideInput.TaskVectors}: model t's rows are τ, not θ. */
  public boolean isTaskVector(int t) {
    return taskVector[t];
  }

  /** {@link SideInput.GlobalThreshold}: model t's whole-model k-th largest |τ|, or NaN when it has none. */
  public double globalThreshold(int t) {
    return globalThreshold[t];
  }

  /** {@link SideInput.Importances}: model t's density for this tensor, or NaN when the tensor is not scored. */
  public double importanceDensity(int t) {
    return importanceDensity[t];
  }

  /** Every value, for the plan's fingerprint (shard reuse). */
  @Override
  public String toString() {
    return "sides{masks=" + Arrays.toString(givenMask) + ", task_vectors=" + Arrays.toString(taskVector) + ", thresholds="
        + Arrays.toString(globalThreshold) + ", densities=" + Arrays.toString(importanceDensity) + "}";
  }

  public SideValues withGlobalThreshold(int t, double threshold) {
    double[] g = globalThreshold.clone();
    g[t] = threshold;
    return new SideValues(givenMask, taskVector, g, importanceDensity);
  }

  public SideValues withImportanceDensity(int t, double density) {
    double[] d = importanceDensity.clone();
    d[t] = density;
    return new SideValues(givenMask, taskVector, globalThreshold, d);
  }
}
