package io.sparkmerge.job;

import io.sparkmerge.exec.HadoopConf;
import io.sparkmerge.exec.TensorLoader;
import io.sparkmerge.ConfigException;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.method.SideInput;
import io.sparkmerge.method.SideValues;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.TensorTask;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The pre-pass of methods that select over a whole model (methods.md §3, {@code mask_scope: global}):
 * for each model t, the exact k-th largest |τ_t| over every tensor the method merges, by a
 * distributed {@link MagnitudeSelection} (per-partition histograms merged on the driver, a few
 * rounds, then the few keys of the boundary bucket). No tensor's values reach the driver. The result
 * reaches the method as the side input {@link SideInput.GlobalThreshold} ({@code SideValues.globalThreshold}).
 */
public final class GlobalThresholdJob {
  /** Largest boundary bucket whose keys are collected for the exact answer. */
  static final long EXACT_LIMIT = 1 << 16;

  private GlobalThresholdJob() {}

  /** One block of rows of one tensor, and which models select over it. */
  record Unit(String tensor, long firstRow, long rows, boolean[] models) implements Serializable {}

  /** What one partition reports in one round: histograms, or the keys of the boundary buckets. */
  record PartResult(long[][] histograms, long[][] keys) implements Serializable {}

  /** The plan with each selecting tensor's threshold filled in; unchanged when no tensor selects. */
  static MergePlan resolve(SparkSession spark, MergePlan plan, int partitions, PrintStream console) {
    double[] thresholds = thresholds(spark, plan, partitions, EXACT_LIMIT, console);
    if (thresholds == null) {
      return plan;
    }
    return plan.mapMerged(t -> {
      SideValues sides = t.sides();
      for (int i = 0; i < sides.models(); i++) {
        if (selection(t, i) != null) {
          sides = sides.withGlobalThreshold(i, thresholds[i]);
        }
      }
      return t.withSides(sides);
    });
  }

  /** The method's whole-model selection when tensor t selects over model i's task vector, else null. */
  private static SideInput.GlobalThreshold.Selection selection(TensorTask t, int i) {
    // sliced tensors (mergekit slices) never select over a whole model: the planner rejects that
    if (t.isRawCopy() || t.modelIndices() != null) {
      return null;
    }
    SideInput.GlobalThreshold.Selection s = SideInput.of(MethodRegistry.get(t.method()), SideInput.GlobalThreshold.class)
        .map(SideInput.GlobalThreshold::selection).orElse(null);
    return s != null && s.selects(t.global(), t.sides().hasGivenMask(i)) ? s : null;
  }

  /**
   * Per model, the k-th largest magnitude of its task vector over the tensors that select globally
   * (NaN for a model that does not select); null when no tensor selects.
   */
  static double[] thresholds(SparkSession spark, MergePlan plan, int partitions, long exactLimit, PrintStream console) {
    int models = plan.models().size();
    long[] entries = new long[models];
    List<Unit> units = new ArrayList<>();
    boolean any = false;
    for (ShardPlan s : plan.shards()) {
      for (TensorTask t : s.tensors()) {
        boolean[] sel = new boolean[models];
        boolean tensorSelects = false;
        for (int i = 0; i < models; i++) {
          sel[i] = selection(t, i) != null;
          if (sel[i]) {
            entries[i] += t.numel();
            tensorSelects = true;
          }
        }
        if (tensorSelects) {
          any = true;
          addUnits(units, t, sel, plan);
        }
      }
    }
    if (!any) {
      return null;
    }
    long[] k = topCounts(plan, entries);
    MagnitudeSelection[] selections = new MagnitudeSelection[models];
    double[] out = new double[models];
    for (int i = 0; i < models; i++) {
      out[i] = Double.NaN;
      if (k[i] > 0) {
        selections[i] = new MagnitudeSelection(!plan.computeDouble(), k[i], exactLimit);
      }
    }
    StageRunner runner = new StageRunner(spark, plan.runId(), console);
    int p = Math.max(1, Math.min(partitions, units.size()));
    Broadcast<MergePlan> planB = runner.broadcast(plan);
    Broadcast<List<Unit>> unitsB = runner.broadcast(units);
    for (int round = 1; ; round++) {
      boolean open = false;
      for (MagnitudeSelection s : selections) {
        open |= s != null && !s.done();
      }
      if (!open) {
        break;
      }
      final MagnitudeSelection[] state = selections.clone();
      final int parts = p;
      List<Integer> idx = new ArrayList<>();
      for (int i = 0; i < parts; i++) {
        idx.add(i);
      }
      List<PartResult> results = runner.run("threshold", String.format(Locale.ROOT,
          "sparkmerge global mask threshold, round %d: %d row blocks in %d partitions", round, units.size(), parts), idx, parts, null,
          (it, task) -> List.of(scan(planB.value(), unitsB.value(), state, task.partition(), parts, task.hadoopConf())));
      for (int i = 0; i < models; i++) {
        MagnitudeSelection s = selections[i];
        if (s == null || s.done()) {
          continue;
        }
        if (s.collecting()) {
          int total = 0;
          for (PartResult r : results) {
            total += r.keys()[i].length;
          }
          long[] all = new long[total];
          int at = 0;
          for (PartResult r : results) {
            System.arraycopy(r.keys()[i], 0, all, at, r.keys()[i].length);
            at += r.keys()[i].length;
          }
          s.finish(all);
        } else {
          long[] h = new long[s.buckets()];
          for (PartResult r : results) {
            for (int b = 0; b < h.length; b++) {
              h[b] += r.histograms()[i][b];
            }
          }
          s.refine(h);
        }
      }
      console.printf(Locale.ROOT, "global mask threshold: round %d done%n", round);
    }
    for (int i = 0; i < models; i++) {
      if (selections[i] != null) {
        out[i] = selections[i].threshold();
        console.printf(Locale.ROOT, "global mask threshold of %s: |τ| ≥ %.6g (k = %d of %d entries)%n",
            plan.models().get(i).role(), out[i], k[i], entries[i]);
      }
    }
    return out;
  }

  /** k per model, which must not vary between tensors (a per-tensor sparsity makes no whole-model selection). */
  private static long[] topCounts(MergePlan plan, long[] entries) {
    int models = entries.length;
    long[] k = new long[models];
    String[] first = new String[models];
    for (ShardPlan s : plan.shards()) {
      for (TensorTask t : s.tensors()) {
        for (int i = 0; i < models; i++) {
          SideInput.GlobalThreshold.Selection sel = selection(t, i);
          if (sel == null) {
            continue;
          }
          long ki = sel.topCount(t.perModel().get(i), entries[i]);
          if (first[i] == null) {
            first[i] = t.name();
            k[i] = ki;
          } else if (ki != k[i]) {
            throw new ConfigException(plan.models().get(i).role() + ": the whole-model selection keeps " + k[i]
                + " entries by the parameters of " + first[i] + " but " + ki + " by those of " + t.name()
                + "; with mask_scope: global the sparsity must be the same for every tensor (or use mask_scope: tensor)");
          }
        }
      }
    }
    return k;
  }

  private static void addUnits(List<Unit> units, TensorTask t, boolean[] sel, MergePlan plan) {
    io.sparkmerge.io.TensorInfo info = plan.models().get(0).dir().tensors().get(t.name());
    long rows = info.rows();
    long rowLength = Math.max(1, info.rowLength());
    long perUnit = Math.max(1, plan.chunkBytes() / (rowLength * 8));
    for (long r = 0; r < rows; r += perUnit) {
      units.add(new Unit(t.name(), r, Math.min(perUnit, rows - r), sel));
    }
  }

  /** One partition of one round: its units are every parts-th, starting at its index. */
  private static PartResult scan(MergePlan plan, List<Unit> units, MagnitudeSelection[] state, int part, int parts,
      HadoopConf hconf) throws IOException {
    int models = state.length;
    long[][] hist = new long[models][];
    LongList[] keys = new LongList[models];
    for (int i = 0; i < models; i++) {
      if (state[i] != null && !state[i].done()) {
        if (state[i].collecting()) {
          keys[i] = new LongList();
        } else {
          hist[i] = new long[state[i].buckets()];
        }
      }
    }
    DataType type = plan.computeDouble() ? DataType.DOUBLE : DataType.FLOAT;
    try (TensorLoader loader = new TensorLoader(hconf.get(), type, false)) {
      for (int u = part; u < units.size(); u += parts) {
        Unit unit = units.get(u);
        double[] b = values(loader.rows(plan.base(), unit.tensor(), unit.firstRow(), unit.rows(), false));
        for (int i = 0; i < models; i++) {
          if (!unit.models()[i] || (hist[i] == null && keys[i] == null)) {
            continue;
          }
          double[] x = values(loader.rows(plan.models().get(i), unit.tensor(), unit.firstRow(), unit.rows(), false));
          MagnitudeSelection s = state[i];
          boolean isTau = plan.models().get(i).taskVector() != null; // its rows are τ already
          for (int j = 0; j < x.length; j++) {
            long key = s.key(Math.abs(isTau ? x[j] : x[j] - b[j]));
            if (s.matches(key)) {
              if (keys[i] != null) {
                keys[i].add(key);
              } else {
                hist[i][s.bucket(key)]++;
              }
            }
          }
        }
      }
    }
    long[][] collected = new long[models][];
    for (int i = 0; i < models; i++) {
      collected[i] = keys[i] == null ? new long[0] : keys[i].toArray();
    }
    return new PartResult(hist, collected);
  }

  private static double[] values(INDArray a) {
    try (a) {
      return a.data().asDouble();
    }
  }

  /** A growable long array (no boxing). */
  private static final class LongList {
    private long[] a = new long[64];
    private int n;

    void add(long v) {
      if (n == a.length) {
        a = java.util.Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    long[] toArray() {
      return java.util.Arrays.copyOf(a, n);
    }
  }
}
