package io.sparkmerge.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.method.TensorChunk;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** MergeStatistics against sums written out by hand over hand-made tensors, in two chunks and in both compute dtypes. */
class MergeStatisticsTest {
  @Test
  void sumsMatchAHandComputationOverChunks() {
    for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      Random r = new Random(3);
      int rows = 40;
      int cols = 1000; // 40 000 elements: more than one of the collector's blocks per chunk
      int m = 3;
      double[][] base = new double[rows][cols];
      double[][][] models = new double[m][rows][cols];
      double[][] merged = new double[rows][cols];
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          base[i][j] = (float) r.nextGaussian();
          for (int k = 0; k < m; k++) {
            // a third of the entries unchanged (τ = 0), so both-non-zero differs from the element count
            models[k][i][j] = r.nextInt(3) == 0 ? base[i][j] : (float) (base[i][j] + 0.1 * r.nextGaussian());
          }
          merged[i][j] = (float) (base[i][j] + 0.05 * r.nextGaussian());
        }
      }
      MergeStatistics s = new MergeStatistics(m);
      for (int first = 0; first < rows; first += 25) { // two chunks: rows 0..24 and 25..39
        int n = Math.min(25, rows - first);
        INDArray b = rows(base, first, n, type);
        INDArray[] ms = new INDArray[m];
        for (int k = 0; k < m; k++) {
          ms[k] = rows(models[k], first, n, type);
        }
        s.add(new TensorChunk(first, (long) first * cols, b, ms), rows(merged, first, n, type));
      }
      Map<String, Double> c = s.counters();
      double delta = 0;
      double[] sq = new double[m];
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          delta += Math.pow(merged[i][j] - base[i][j], 2);
          for (int k = 0; k < m; k++) {
            sq[k] += Math.pow(models[k][i][j] - base[i][j], 2);
          }
        }
      }
      assertEquals(rows * cols, c.get("stats/n"));
      assertEquals(delta, c.get("stats/delta_sq"), 1e-9 * delta, type + " delta");
      for (int a = 0; a < m; a++) {
        assertEquals(sq[a], c.get("stats/tau_sq/" + a), 1e-9 * sq[a], type + " tau " + a);
        for (int b2 = a + 1; b2 < m; b2++) {
          double dot = 0;
          long both = 0;
          long conflicts = 0;
          for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
              double ta = models[a][i][j] - base[i][j];
              double tb = models[b2][i][j] - base[i][j];
              dot += ta * tb;
              both += ta != 0 && tb != 0 ? 1 : 0;
              conflicts += Math.signum(ta) * Math.signum(tb) < 0 ? 1 : 0;
            }
          }
          String p = a + "/" + b2;
          assertEquals(dot, c.get("stats/dot/" + p), 1e-9 * Math.sqrt(sq[a] * sq[b2]), type + " dot " + p);
          assertEquals(both, c.get("stats/both_nonzero/" + p), type + " both " + p);
          assertEquals(conflicts, c.get("stats/sign_conflicts/" + p), type + " conflicts " + p);
          assertTrue(both > rows * cols / 3 && both < rows * cols * 0.6, "about 4/9 of the entries change in both: " + both);
          assertTrue(conflicts > both / 3 && conflicts < both * 2 / 3, "about half of them in opposite directions: " + conflicts);
        }
      }
    }
  }

  @Test
  void aViewAsTheMergedRowsAndNoBaseAreHandled() {
    INDArray base = Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}});
    INDArray model = Nd4j.createFromArray(new float[][] {{2, 2}, {3, 1}});
    INDArray merged = Nd4j.createFromArray(new float[][] {{1, 3}, {5, 4}}).transpose(); // a view: {{1,5},{3,4}}
    MergeStatistics s = new MergeStatistics(1);
    s.add(new TensorChunk(0, 0, base, new INDArray[] {model}), merged);
    assertEquals(1 + 9, s.counters().get("stats/tau_sq/0")); // τ = {1, 0, 0, -3}
    assertEquals(0 + 9 + 0 + 0, s.counters().get("stats/delta_sq")); // merged − base = {0, 3, 0, 0}
    MergeStatistics none = new MergeStatistics(1);
    none.add(new TensorChunk(0, 0, null, new INDArray[] {model}), merged);
    assertTrue(none.counters().isEmpty(), "no base: no task vectors, nothing reported");
  }

  private static INDArray rows(double[][] v, int first, int n, DataType type) {
    double[][] part = new double[n][];
    System.arraycopy(v, first, part, 0, n);
    return Nd4j.createFromArray(part).castTo(type);
  }
}
