package io.sparkmerge.analysis;

import io.sparkmerge.math.RunningMoments;
import io.sparkmerge.math.WeightScope;
import io.sparkmerge.plan.LayerPositions;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The `stats` analysis of one tensor (methods.md §7, §6), fed row block by row block so memory stays
 * bounded: per model the statistics of its weights and (with a base) of its task vector
 * τ = θ − θ₀; per pair of models the cosine of their task vectors and the fraction of sign
 * conflicts (entries where both are non-zero and of opposite sign, among the entries where both are
 * non-zero); for 2-D+ tensors the fused scope of the models' weights and each model's KL to it.
 */
public final class TensorStats {
  private static final int BLOCK = RunningMoments.BLOCK;

  /** One row of tensor_stats; the boxed fields are null where the brief's schema says so. */
  public record StatRow(String tensor, int layer, String model, String kind, long numel, double mean, double variance, double min,
      double max, double l2Norm, double zeroFraction, long nonfiniteCount, Double fusedMean, Double fusedVariance, Double klToFused)
      implements Serializable {}

  /** One row of pair_stats; cosine or sign_conflict null when undefined (a zero task vector, no common non-zeros). */
  public record PairRow(String tensor, int layer, String modelI, String modelJ, Double cosine, Double signConflict)
      implements Serializable {}

  /** Everything for one tensor. */
  public record Result(List<StatRow> stats, List<PairRow> pairs) implements Serializable {}

  private final String tensor;
  private final int rank;
  private final boolean hasBase;
  private final RunningMoments base = new RunningMoments();
  private final RunningMoments[] weights;
  private final RunningMoments[] tau;
  private final double[][] dot;
  private final long[][] conflicts;
  private final long[][] bothNonZero;
  private final double[] buf;
  private final double[][] tauBuf;

  public TensorStats(String tensor, int rank, int models, boolean hasBase) {
    this.tensor = tensor;
    this.rank = rank;
    this.hasBase = hasBase;
    weights = new RunningMoments[models];
    tau = new RunningMoments[models];
    for (int k = 0; k < models; k++) {
      weights[k] = new RunningMoments();
      tau[k] = new RunningMoments();
    }
    dot = new double[models][models];
    conflicts = new long[models][models];
    bothNonZero = new long[models][models];
    buf = new double[BLOCK];
    tauBuf = new double[models][BLOCK];
  }

  /** Adds the same rows of the base (or null) and of every model: contiguous arrays of equal length. */
  public void add(INDArray baseRows, INDArray[] modelRows) {
    long len = modelRows[0].length();
    for (long from = 0; from < len; from += BLOCK) {
      int n = (int) Math.min(BLOCK, len - from);
      if (hasBase) {
        RunningMoments.copy(baseRows, from, n, buf);
        base.add(buf, n);
      }
      for (int k = 0; k < modelRows.length; k++) {
        double[] t = tauBuf[k];
        RunningMoments.copy(modelRows[k], from, n, t);
        weights[k].add(t, n);
        if (hasBase) {
          for (int i = 0; i < n; i++) {
            t[i] -= buf[i];
          }
          tau[k].add(t, n);
        }
      }
      if (hasBase) {
        pairs(n);
      }
    }
  }

  private void pairs(int n) {
    for (int a = 0; a < tauBuf.length; a++) {
      for (int b = a + 1; b < tauBuf.length; b++) {
        double[] sums = new double[3];
        io.sparkmerge.math.TaskVectorPairs.add(tauBuf[a], tauBuf[b], n, sums);
        dot[a][b] += sums[0];
        bothNonZero[a][b] += (long) sums[1];
        conflicts[a][b] += (long) sums[2];
      }
    }
  }

  /**
   * The rows of this tensor.
   *
   * @param labels the models' labels (base is "base")
   * @param fusionWeights p_k of the scope fusion (per model, not normalised)
   */
  public Result finish(List<String> labels, double[] fusionWeights, WeightScope.Fusion fusion) {
    int layer = LayerPositions.layerIndex(tensor);
    List<StatRow> rows = new ArrayList<>();
    if (hasBase) {
      rows.add(row(layer, "base", "weights", base, null, null));
    }
    WeightScope.Scope fused = null;
    if (rank >= 2) {
      WeightScope.Scope[] s = new WeightScope.Scope[weights.length];
      for (int k = 0; k < s.length; k++) {
        s[k] = new WeightScope.Scope(weights[k].mean(), weights[k].variance());
      }
      fused = WeightScope.fuse(s, fusionWeights, fusion);
    }
    for (int k = 0; k < weights.length; k++) {
      rows.add(row(layer, labels.get(k), "weights", weights[k], fused,
          fused == null ? null : WeightScope.kl(new WeightScope.Scope(weights[k].mean(), weights[k].variance()), fused)));
    }
    List<PairRow> pairs = new ArrayList<>();
    if (hasBase) {
      for (int k = 0; k < tau.length; k++) {
        rows.add(row(layer, labels.get(k), "task_vector", tau[k], null, null));
      }
      for (int a = 0; a < tau.length; a++) {
        for (int b = a + 1; b < tau.length; b++) {
          double na = tau[a].sumOfSquares();
          double nb = tau[b].sumOfSquares();
          Double cos = na > 0 && nb > 0 ? dot[a][b] / (Math.sqrt(na) * Math.sqrt(nb)) : null;
          Double sc = bothNonZero[a][b] > 0 ? (double) conflicts[a][b] / bothNonZero[a][b] : null;
          pairs.add(new PairRow(tensor, layer, labels.get(a), labels.get(b), cos, sc));
        }
      }
    }
    return new Result(rows, pairs);
  }

  private StatRow row(int layer, String model, String kind, RunningMoments m, WeightScope.Scope fused, Double kl) {
    return new StatRow(tensor, layer, model, kind, m.numel(), m.mean(), m.variance(), m.min(), m.max(), m.l2(), m.zeroFraction(),
        m.nonfinite(), fused == null ? null : fused.mean(), fused == null ? null : fused.variance(),
        kl == null || kl.isNaN() ? null : kl);
  }
}
