package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.ScopeReference;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/** wsa (methods.md §6) on a hand-worked case and against the plain-double reference, whatever the chunking. */
class WsaMergeTest {
  private final MergeMethod wsa = MethodRegistry.get("wsa");

  @Test
  void handWorkedAlignment() {
    // m1 = {0,2,0,2}: mu 1, sigma 1; m2 = {1,5,1,5}: mu 3, sigma 2; equal weights → mu* = 2,
    // moment: var* = 1/2 (1 + 1) + 1/2 (4 + 1) = 3.5. Both align to {2 − √3.5, 2 + √3.5, ...}, so does their mean.
    double s = Math.sqrt(3.5);
    TensorMergeContext ctx = MethodHarness.context(wsa, "w", new long[] {2, 2}, DataType.DOUBLE, 0, false, Map.of(),
        List.of(Map.of(), Map.of()));
    double[] got = MethodHarness.run(wsa, ctx, null, new double[][] {{0, 2, 0, 2}, {1, 5, 1, 5}}, 2, 2, 1);
    assertArrayEquals(new double[] {2 - s, 2 + s, 2 - s, 2 + s}, got, 1e-12);
    // fusion mean: var* = (1 + 4)/2 = 2.5
    TensorMergeContext mean = MethodHarness.context(wsa, "w", new long[] {2, 2}, DataType.DOUBLE, 0, false, Map.of("fusion", "mean"),
        List.of(Map.of(), Map.of()));
    double m = Math.sqrt(2.5);
    assertArrayEquals(new double[] {2 - m, 2 + m, 2 - m, 2 + m},
        MethodHarness.run(wsa, mean, null, new double[][] {{0, 2, 0, 2}, {1, 5, 1, 5}}, 2, 2, 2), 1e-12);
  }

  @Test
  void matchesTheReferenceForEveryChunkingAndOption() {
    Random r = new Random(9);
    int rows = 7;
    int cols = 5;
    double[][] models = new double[3][rows * cols];
    for (int k = 0; k < 3; k++) {
      for (int i = 0; i < rows * cols; i++) {
        models[k][i] = 0.1 * k + (k + 1) * 0.05 * r.nextGaussian();
      }
    }
    models[2] = new double[rows * cols];
    java.util.Arrays.fill(models[2], 0.3); // a constant tensor enters unaligned
    double[] w = {3, 1, 0.5};
    for (boolean moment : new boolean[] {true, false}) {
      for (boolean rescale : new boolean[] {false, true}) {
        double[] ref = ScopeReference.wsa(models, w, moment, rescale, false);
        for (int chunk : new int[] {1, 3, 7}) {
          TensorMergeContext ctx = MethodHarness.context(wsa, "model.layers.0.mlp.up_proj.weight", new long[] {rows, cols},
              DataType.DOUBLE, 0, false, Map.of("fusion", moment ? "moment" : "mean", "rescale_output", rescale),
              List.of(Map.of("weight", w[0]), Map.of("weight", w[1]), Map.of("weight", w[2])));
          assertArrayEquals(ref, MethodHarness.run(wsa, ctx, null, models, rows, cols, chunk), 1e-12,
              "moment " + moment + " rescale " + rescale + " chunk " + chunk);
        }
        if (rescale) {
          // the re-aligned output has exactly the fused scope
          double mu = 0;
          for (int k = 0; k < 3; k++) {
            mu += w[k] / 4.5 * ScopeReference.mean(models[k]);
          }
          double var = 0;
          for (int k = 0; k < 3; k++) {
            double d = ScopeReference.mean(models[k]) - mu;
            var += w[k] / 4.5 * (ScopeReference.variance(models[k]) + (moment ? d * d : 0));
          }
          assertEquals(mu, ScopeReference.mean(ref), 1e-12);
          assertEquals(var, ScopeReference.variance(ref), 1e-12);
        }
      }
    }
  }

  @Test
  void oneDimensionalTensorsAreAveragedUnaligned() {
    TensorMergeContext ctx = MethodHarness.context(wsa, "model.norm.weight", new long[] {4}, DataType.FLOAT, 0, false, Map.of(),
        List.of(Map.of("weight", 1.0), Map.of("weight", 3.0)));
    assertArrayEquals(new double[] {0.75, 1.5, 2.25, 3}, MethodHarness.run(wsa, ctx, null,
        new double[][] {{0, 0, 0, 0}, {1, 2, 3, 4}}, 1, 4, 1), 1e-7);
  }

  @Test
  void saysItIsAnAnalogue() {
    assertTrue(wsa.report().note().contains("analogue") && wsa.report().note().contains("regulariser"));
  }
}
