package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.io.DType;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.testing.SmallCheckpoints;
import io.sparkmerge.testing.SmallCheckpoints.Tensor;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distributed k-th largest |τ| (global Localize-and-Stitch masks) equals the one an exact sort of
 * every magnitude gives, with and without ties at the threshold, for 1, 3 and 7 partitions, through
 * the refine-then-collect path and the full-refinement path.
 */
class GlobalThresholdJobTest {
  @TempDir Path dir;

  static final long[][] SHAPES = {{5, 7}, {13}, {3, 4, 2}, {1}, {20, 3}, {6}, {4, 4}, {2, 9}, {11, 2}};

  @Test
  void thresholdEqualsExactSort() throws IOException {
    Random rnd = new Random(11);
    List<Tensor> base = new ArrayList<>();
    List<Tensor> tied = new ArrayList<>();
    List<Tensor> distinct = new ArrayList<>();
    List<Double> tiedTau = new ArrayList<>();
    List<Double> distinctTau = new ArrayList<>();
    for (int i = 0; i < SHAPES.length; i++) {
      int n = (int) Arrays.stream(SHAPES[i]).reduce(1, (a, b) -> a * b);
      double[] b = new double[n];
      double[] t = new double[n];
      double[] d = new double[n];
      for (int j = 0; j < n; j++) {
        b[j] = rnd.nextInt(5) - 2; // small integers: τ = x − b is exact in float
        double tau = (rnd.nextInt(9) - 4) * 0.25; // magnitudes from {0, .25, …, 1}: many ties
        t[j] = b[j] + tau;
        double dt = rnd.nextGaussian();
        d[j] = b[j] + dt;
        tiedTau.add(Math.abs(tau));
        distinctTau.add((double) (float) Math.abs((double) (float) d[j] - (double) (float) b[j]));
      }
      String name = "model.layers." + i + ".w";
      base.add(new Tensor(name, SHAPES[i], b));
      tied.add(new Tensor(name, SHAPES[i], t));
      distinct.add(new Tensor(name, SHAPES[i], d));
    }
    String b = SmallCheckpoints.write(dir.resolve("base"), DType.F32, base);
    String t = SmallCheckpoints.write(dir.resolve("tied"), DType.F32, tied);
    String d = SmallCheckpoints.write(dir.resolve("distinct"), DType.F32, distinct);
    int total = tiedTau.size();
    for (double s : new double[] {0.05, 0.6}) {
      var cfg = ConfigLoader.parse("""
          merge_method: localize_stitch
          base_model: B
          models:
            - model: T
              parameters: {sparsity: S}
            - model: D
              parameters: {sparsity: S}
          """.replace("B", b).replace("T", t).replace("D", d).replace("S", Double.toString(s)), "t.yml");
      MergePlan plan = MergeJob.plan(new Configuration(), cfg, 1);
      long k = Math.max(1, (long) Math.floor(s * total));
      double tiedRef = kthLargest(tiedTau, k);
      double distinctRef = kthLargest(distinctTau, k);
      // the tied model's threshold is inside a run of equal magnitudes: more than k entries are ≥ it
      assertTrue(tiedTau.stream().filter(v -> v >= tiedRef).count() > k, "ties at the threshold for s = " + s);
      assertEquals(k, distinctTau.stream().filter(v -> v >= distinctRef).count(), "no ties for s = " + s);
      for (int partitions : new int[] {1, 3, 7}) {
        {
          // a tiny limit refines down to single keys; the default one collects the boundary bucket
          long exactLimit = partitions == 3 ? GlobalThresholdJob.EXACT_LIMIT : 3;
          double[] got = GlobalThresholdJob.thresholds(SparkTestSession.get(), plan, partitions, exactLimit,
              new PrintStream(new ByteArrayOutputStream()));
          String where = "s = " + s + ", " + partitions + " partitions, exact limit " + exactLimit;
          assertEquals(tiedRef, got[0], 0.0, where);
          assertEquals(distinctRef, got[1], 0.0, where);
        }
      }
    }
  }

  @Test
  void selectionRefinesAndCollectsOnTheDriver() {
    // keys 1..1000 as float magnitudes, k = 10 → 991; a limit of 1 forces refinement to the full width
    for (long limit : new long[] {1, 50, 1 << 20}) {
      MagnitudeSelection s = new MagnitudeSelection(true, 10, limit);
      while (!s.done()) {
        if (s.collecting()) {
          List<Long> keys = new ArrayList<>();
          for (int v = 1; v <= 1000; v++) {
            if (s.matches(s.key(v))) {
              keys.add(s.key(v));
            }
          }
          assertTrue(keys.size() <= limit);
          s.finish(keys.stream().mapToLong(Long::longValue).toArray());
        } else {
          long[] h = new long[s.buckets()];
          for (int v = 1; v <= 1000; v++) {
            if (s.matches(s.key(v))) {
              h[s.bucket(s.key(v))]++;
            }
          }
          s.refine(h);
        }
      }
      assertEquals(991.0, s.threshold(), 0.0, "limit " + limit);
    }
  }

  private static double kthLargest(List<Double> values, long k) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    return v[(int) (v.length - k)];
  }
}
