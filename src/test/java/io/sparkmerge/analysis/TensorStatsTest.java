package io.sparkmerge.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sparkmerge.math.RunningMoments;
import io.sparkmerge.math.WeightScope;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Statistics rows of one tensor on hand-worked values, and chunk independence of the moment combine. */
class TensorStatsTest {

  @Test
  void momentsByHandAndNonFiniteValuesKeptOut() {
    RunningMoments m = new RunningMoments();
    m.add(new double[] {1, 2, Double.NaN}, 3);
    m.add(new double[] {3, 4, 0, Double.POSITIVE_INFINITY}, 4);
    // finite values 1, 2, 3, 4, 0: mean 2, population variance (1 + 0 + 1 + 4 + 4)/5 = 2
    assertEquals(7, m.numel());
    assertEquals(2, m.nonfinite());
    assertEquals(2, m.mean(), 1e-15);
    assertEquals(2, m.variance(), 1e-15);
    assertEquals(0, m.min());
    assertEquals(4, m.max());
    assertEquals(Math.sqrt(30), m.l2(), 1e-15);
    assertEquals(1 / 7.0, m.zeroFraction(), 1e-15);
  }

  @Test
  void chanCombineMatchesTwoPassOnLargeOffsets() {
    // values 1e8 + small noise: the naive Σx² − n·mean² loses every digit of the variance here
    Random r = new Random(3);
    double[] all = new double[100_003];
    for (int i = 0; i < all.length; i++) {
      all[i] = 1e8 + r.nextGaussian() * 1e-2;
    }
    double mean = 0;
    for (double v : all) {
      mean += v;
    }
    mean /= all.length;
    double var = 0;
    for (double v : all) {
      var += (v - mean) * (v - mean);
    }
    var /= all.length;
    for (int block : new int[] {1, 7, 4096, all.length}) {
      RunningMoments m = new RunningMoments();
      for (int from = 0; from < all.length; from += block) {
        int n = Math.min(block, all.length - from);
        m.add(java.util.Arrays.copyOfRange(all, from, from + n), n);
      }
      assertEquals(mean, m.mean(), 1e-6);
      assertEquals(var, m.variance(), var * 1e-6, "block " + block);
    }
  }

  @Test
  void taskVectorPairsAndScopesByHand() {
    // base [0,0,0,0]; tau1 = [1,-1,0,2], tau2 = [1,1,3,-2]
    // dot = 1 - 1 + 0 - 4 = -4, |tau1|^2 = 6, |tau2|^2 = 15 → cosine -4/sqrt(90)
    // both non-zero at 0, 1, 3; opposite signs at 1 and 3 → sign conflict 2/3
    try (INDArray base = Nd4j.zeros(DataType.FLOAT, 2, 2);
        INDArray m1 = Nd4j.createFromArray(new float[][] {{1, -1}, {0, 2}});
        INDArray m2 = Nd4j.createFromArray(new float[][] {{1, 1}, {3, -2}})) {
      TensorStats st = new TensorStats("model.layers.3.mlp.up_proj.weight", 2, 2, true);
      st.add(base, new INDArray[] {m1, m2});
      TensorStats.Result r = st.finish(List.of("a", "b"), new double[] {1, 1}, WeightScope.Fusion.MOMENT);
      assertEquals(1, r.pairs().size());
      TensorStats.PairRow p = r.pairs().get(0);
      assertEquals(3, p.layer());
      assertEquals(-4 / Math.sqrt(90), p.cosine(), 1e-12);
      assertEquals(2 / 3.0, p.signConflict(), 1e-15);
      // weights scopes: m1 mean 0.5, var (0.25 + 2.25 + 0.25 + 2.25)/4 = 1.25; m2 mean 0.75, var (0.0625+0.0625+5.0625+7.5625)/4 = 3.1875
      // fused moment: mu* = 0.625, var* = 0.5 (1.25 + 0.015625) + 0.5 (3.1875 + 0.015625) = 2.234375
      TensorStats.StatRow a = r.stats().stream().filter(s -> s.model().equals("a") && s.kind().equals("weights")).findFirst().get();
      assertEquals(0.625, a.fusedMean(), 1e-15);
      assertEquals(2.234375, a.fusedVariance(), 1e-12);
      double kl = 0.5 * Math.log(2.234375 / 1.25) + (1.25 + 0.125 * 0.125) / (2 * 2.234375) - 0.5;
      assertEquals(kl, a.klToFused(), 1e-12);
      TensorStats.StatRow baseRow = r.stats().get(0);
      assertEquals("base", baseRow.model());
      assertNull(baseRow.fusedMean());
      assertEquals(1.0, baseRow.zeroFraction());
      TensorStats.StatRow tau = r.stats().stream().filter(s -> s.model().equals("b") && s.kind().equals("task_vector")).findFirst().get();
      assertEquals(0.75, tau.mean(), 1e-15);
      assertNull(tau.klToFused());
      assertEquals(5, r.stats().size());
    }
  }

  @Test
  void oneDimensionalTensorsHaveNoFusedScope() {
    try (INDArray m1 = Nd4j.createFromArray(new float[][] {{1, 2, 3}})) {
      TensorStats st = new TensorStats("model.norm.weight", 1, 1, false);
      st.add(null, new INDArray[] {m1});
      TensorStats.Result r = st.finish(List.of("m"), new double[] {1}, WeightScope.Fusion.MOMENT);
      assertEquals(1, r.stats().size());
      assertNull(r.stats().get(0).klToFused());
      assertEquals(-1, r.stats().get(0).layer());
      assertEquals(2 / 3.0, r.stats().get(0).variance(), 1e-15);
    }
  }
}
