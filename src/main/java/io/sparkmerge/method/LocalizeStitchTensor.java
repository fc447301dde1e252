package io.sparkmerge.method;

import io.sparkmerge.math.Blocks;
import io.sparkmerge.math.MagnitudeCut;
import io.sparkmerge.param.ResolvedParams;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One tensor's Localize-and-Stitch (see {@link LocalizeStitchMerge}). With {@code mask_scope: tensor}
 * one preparation pass gathers the magnitudes of every model without a given mask and selects the
 * k-th largest; otherwise the masks come from the given mask rows or the global threshold, and the
 * merge is a single pass. Magnitudes are compared at the compute precision (rounded to float in
 * float32), as the runner's global pre-pass compares them.
 */
final class LocalizeStitchTensor implements TensorMerge {
  private final int models;
  private final long numel;
  private final boolean floatKeys;
  private final DataType computeType;
  private final boolean[] given;
  private final boolean[] isTau;
  private final double[] threshold;
  private final double[] sparsity;
  private double[][] magnitudes;
  private MaskObserver observer;
  private int filled;
  // counters
  private final long[] kept;
  private final long[][] intersection;
  private final long[][] union;
  private long covered;

  LocalizeStitchTensor(TensorMergeContext ctx) {
    this.models = ctx.modelCount();
    this.numel = ctx.numel();
    this.computeType = ctx.computeType();
    this.floatKeys = computeType == DataType.FLOAT;
    this.given = new boolean[models];
    this.isTau = new boolean[models];
    this.threshold = new double[models];
    this.sparsity = new double[models];
    boolean tensorScope = LocalizeStitchMerge.SCOPE_TENSOR.equals(ctx.global().getString("mask_scope"));
    boolean selects = false;
    for (int t = 0; t < models; t++) {
      ResolvedParams p = ctx.perModel().get(t);
      given[t] = p.has(MergeMethod.MASK_GIVEN) && p.getBoolean(MergeMethod.MASK_GIVEN);
      isTau[t] = p.has(MergeMethod.TASK_VECTOR_INPUT) && p.getBoolean(MergeMethod.TASK_VECTOR_INPUT);
      sparsity[t] = p.getDouble("sparsity");
      threshold[t] = Double.NaN;
      if (given[t]) {
        continue;
      }
      if (tensorScope) {
        selects = true;
      } else if (p.has(MergeMethod.GLOBAL_THRESHOLD)) {
        threshold[t] = p.getDouble(MergeMethod.GLOBAL_THRESHOLD);
      } else {
        throw new IllegalStateException("tensor " + ctx.tensorName() + ", models[" + t + "]: mask_scope global needs the"
            + " whole-model threshold from the runner's pre-pass, and none was supplied");
      }
    }
    if (selects) {
      magnitudes = new double[models][];
      for (int t = 0; t < models; t++) {
        if (!given[t]) {
          magnitudes[t] = new double[Math.toIntExact(numel)];
        }
      }
    }
    this.kept = new long[models];
    this.intersection = new long[models][models];
    this.union = new long[models][models];
  }

  @Override
  public int preparationPasses() {
    return magnitudes != null ? 1 : 0;
  }

  @Override
  public void prepare(int pass, TensorChunk chunk) {
    int n = (int) chunk.length();
    double[] b = new double[n];
    double[] x = new double[n];
    Blocks.read(chunk.base(), 0, b, n);
    for (int t = 0; t < models; t++) {
      if (magnitudes[t] == null) {
        continue;
      }
      Blocks.read(chunk.models()[t], 0, x, n);
      for (int i = 0; i < n; i++) {
        magnitudes[t][filled + i] = key(isTau[t] ? x[i] : x[i] - b[i]);
      }
    }
    filled += n;
  }

  private void selectOnce() {
    if (magnitudes == null) {
      return;
    }
    int n = Math.toIntExact(numel);
    for (int t = 0; t < models; t++) {
      if (magnitudes[t] != null) {
        long k = LocalizeStitchMerge.topCount(sparsity[t], n);
        threshold[t] = k >= n ? Double.NEGATIVE_INFINITY : MagnitudeCut.select(magnitudes[t], n, (int) (n - k));
      }
    }
    magnitudes = null;
  }

  @Override
  public INDArray merge(TensorChunk chunk) {
    selectOnce();
    INDArray out = Blocks.like(chunk, computeType);
    long rowLength = chunk.rowLength();
    int rowsPer = Blocks.rowsPerBlock(rowLength);
    int cap = (int) Math.min((long) rowsPer * rowLength, chunk.length());
    double[] b = new double[cap];
    double[][] tau = new double[models][cap];
    boolean[][] keep = new boolean[models][cap];
    double[] m = new double[cap];
    double[] r = new double[cap];
    for (long row = 0; row < chunk.rows(); row += rowsPer) {
      long from = row * rowLength;
      int n = (int) (Math.min(rowsPer, chunk.rows() - row) * rowLength);
      Blocks.read(chunk.base(), from, b, n);
      for (int t = 0; t < models; t++) {
        Blocks.read(chunk.models()[t], from, tau[t], n);
        if (given[t]) {
          Blocks.read(chunk.mask(t), from, m, n);
        }
        for (int i = 0; i < n; i++) {
          tau[t][i] -= isTau[t] ? 0.0 : b[i];
          keep[t][i] = given[t] ? m[i] != 0 : kept(key(tau[t][i]), threshold[t]);
        }
      }
      if (observer != null) {
        observer.block(chunk.firstElement() + from, n, keep);
      }
      for (int i = 0; i < n; i++) {
        int c = 0;
        double sum = 0;
        for (int t = 0; t < models; t++) {
          if (keep[t][i]) {
            c++;
            sum += tau[t][i];
            kept[t]++;
          }
        }
        r[i] = c == 0 ? b[i] : b[i] + sum / c;
        if (c > 0) {
          covered++;
        }
        for (int s = 0; s < models; s++) {
          for (int t = s + 1; t < models; t++) {
            if (keep[s][i] && keep[t][i]) {
              intersection[s][t]++;
            }
            if (keep[s][i] || keep[t][i]) {
              union[s][t]++;
            }
          }
        }
      }
      Blocks.write(out, from, r, n);
    }
    return out;
  }

  @Override
  public boolean observeMasks(MaskObserver o) {
    this.observer = o;
    return true;
  }

  /**
   * Whether the dataless mask keeps an entry of magnitude {@code key}: at or above the threshold, and never a
   * zero of τ. When s·N exceeds τ's non-zeros the k-th largest magnitude is 0 (or the threshold is −∞ for
   * k ≥ N); a zero carries nothing and must not count in the stitch's overlap divisor. Above a positive
   * threshold the second test is implied, so such masks are unchanged.
   */
  static boolean kept(double key, double threshold) {
    return key >= threshold && key > 0;
  }

  private double key(double tau) {
    double a = Math.abs(tau);
    return floatKeys ? (double) (float) a : a;
  }

  @Override
  public Map<String, Double> counters() {
    Map<String, Double> c = new LinkedHashMap<>();
    c.put(LocalizeStitchMerge.NUMEL, (double) numel);
    c.put(LocalizeStitchMerge.COVERED, (double) covered);
    for (int t = 0; t < models; t++) {
      c.put(LocalizeStitchMerge.kept(t), (double) kept[t]);
      for (int u = t + 1; u < models; u++) {
        c.put(LocalizeStitchMerge.intersection(t, u), (double) intersection[t][u]);
        c.put(LocalizeStitchMerge.union(t, u), (double) union[t][u]);
      }
    }
    return c;
  }

  @Override
  public void close() {
    magnitudes = null;
  }
}
