package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparkmerge.InputDataException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * multislerp worked by hand and against mergekit's algorithm written out on explicit vectors (projection to the
 * tangent space at the normalised weighted mean, exponential map back), which the method replaces by Gram-matrix
 * coefficients; mergekit itself in the parity harness.
 */
class MultislerpMergeTest {
  static final double S = Math.sqrt(0.5);

  static List<Map<String, Object>> weights(double... w) {
    List<Map<String, Object>> l = new ArrayList<>();
    for (double x : w) {
      l.add(Map.of("weight", x));
    }
    return l;
  }

  static double[] merge(double[] base, double[][] models, int rows, int cols, List<Map<String, Object>> w, int rowsPerChunk) {
    return InterpolationMethodsTest.merge("multislerp", base, models, rows, cols, Map.of(), w, rowsPerChunk);
  }

  @Test
  void handWorkedCases() {
    // two orthogonal unit vectors, equal weights: the normalised mean (S, S) at the mean norm 1
    assertArrayEquals(new double[] {S, S}, merge(null, new double[][] {{1, 0}, {0, 1}}, 1, 2, weights(1, 1), 1), 1e-7);
    // with a base: τ = (1, 0), (0, 2); directions (1, 0), (0, 1); mean norm 1.5 → base + 1.5·(S, S)
    assertArrayEquals(new double[] {1 + 1.5 * S, 1 + 1.5 * S},
        merge(new double[] {1, 1}, new double[][] {{2, 1}, {1, 3}}, 1, 2, weights(2, 2), 1), 1e-7);
    // one model: returned as it is
    assertArrayEquals(new double[] {3, 4}, merge(new double[] {1, 1}, new double[][] {{3, 4}}, 1, 2, weights(1), 1), 0);
    // antipodal pair with equal weights: the mean direction vanishes, two models fall back to their weighted sum (= base)
    assertArrayEquals(new double[] {1, 1}, merge(new double[] {1, 1}, new double[][] {{2, 1}, {0, 1}}, 1, 2, weights(1, 1), 1), 1e-12);
    assertThrows(InputDataException.class, () -> merge(null, new double[][] {{1, 0}, {-1, 0}, {0, 0}}, 1, 2, weights(1, 1, 1), 1),
        "three models whose directions cancel: mergekit's error");
  }

  @Test
  void matchesMergekitsAlgorithmOnExplicitVectorsWhateverTheChunking() {
    SplittableRandom rnd = new SplittableRandom(11);
    int rows = 5;
    int cols = 4;
    double[] base = new double[rows * cols];
    double[][] models = new double[3][rows * cols];
    for (int i = 0; i < base.length; i++) {
      base[i] = rnd.nextDouble(-1, 1);
      for (double[] m : models) {
        m[i] = base[i] + rnd.nextDouble(-0.1, 0.2);
      }
    }
    double[] w = {0.5, 0.3, 0.9};
    for (boolean withBase : new boolean[] {true, false}) {
      double[] want = reference(withBase ? base : null, models, w, 1e-8);
      for (int chunk : new int[] {1, 2, 5}) {
        assertArrayEquals(want, merge(withBase ? base : null, models, rows, cols, weights(w), chunk), 1e-10);
      }
    }
  }

  /** mergekit's multislerp step by step on the flattened vectors (weights normalised). */
  static double[] reference(double[] base, double[][] x, double[] weight, double eps) {
    int n = x.length;
    int len = x[0].length;
    double ws = 0;
    for (double v : weight) {
      ws += v;
    }
    double[][] v = new double[n][len];
    double[] w = new double[n];
    double[] norms = new double[n];
    double[][] unit = new double[n][len];
    double[] mean = new double[len];
    for (int t = 0; t < n; t++) {
      w[t] = weight[t] / ws;
      for (int i = 0; i < len; i++) {
        v[t][i] = x[t][i] - (base == null ? 0 : base[i]);
        norms[t] += v[t][i] * v[t][i];
      }
      norms[t] = Math.sqrt(norms[t]);
      for (int i = 0; i < len; i++) {
        unit[t][i] = v[t][i] / (norms[t] + eps);
        mean[i] += w[t] * unit[t][i];
      }
    }
    double mn = Math.sqrt(dot(mean, mean));
    for (int i = 0; i < len; i++) {
      mean[i] /= mn;
    }
    double[] tangent = new double[len];
    for (int t = 0; t < n; t++) {
      double d = dot(unit[t], mean);
      for (int i = 0; i < len; i++) {
        tangent[i] += w[t] * (unit[t][i] - d * mean[i]);
      }
    }
    double tn = Math.sqrt(dot(tangent, tangent)) + eps;
    double avg = 0;
    for (int t = 0; t < n; t++) {
      avg += norms[t] * w[t];
    }
    double[] out = new double[len];
    for (int i = 0; i < len; i++) {
      out[i] = (mean[i] * Math.cos(tn) + tangent[i] * Math.sin(tn) / tn) * avg + (base == null ? 0 : base[i]);
    }
    return out;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
