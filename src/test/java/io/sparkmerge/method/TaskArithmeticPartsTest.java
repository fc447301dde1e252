package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkmerge.math.DeterministicRandom;
import io.sparkmerge.math.InputRounding;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The task-arithmetic family's parts on their own (methods.md §1): sparsifiers, consensus, combine. */
class TaskArithmeticPartsTest {

  /** Runs a sparsifier over τ as blocks of {@code blockRows} rows; returns the keep mask and the factors. */
  static Object[] sparsify(Sparsifier s, double[] tau, int rowLength, int blockRows) {
    int n = tau.length;
    int block = blockRows * rowLength;
    for (int pass = 0; pass < s.preparationPasses(); pass++) {
      for (int from = 0; from < n; from += block) {
        int k = Math.min(block, n - from);
        s.prepare(pass, from, java.util.Arrays.copyOfRange(tau, from, from + k), k, rowLength);
      }
    }
    boolean[] keep = new boolean[n];
    double[] scale = new double[n];
    boolean[] kb = new boolean[block];
    double[] sb = new double[block];
    for (int from = 0; from < n; from += block) {
      int k = Math.min(block, n - from);
      s.mask(from, java.util.Arrays.copyOfRange(tau, from, from + k), k, rowLength, kb, sb);
      System.arraycopy(kb, 0, keep, from, k);
      System.arraycopy(sb, 0, scale, from, k);
    }
    return new Object[] {keep, scale};
  }

  @Test
  void magnitudeKeepsTheTopByMagnitudeTiesToTheLowerIndexInEveryBlockingAndPrecision() {
    // |τ| = 3, 1, 2, 2, 0.5, 2: top-3 = {0} and two of the three 2s, the lowest indices (2, 3)
    double[] tau = {3, -1, 2, -2, 0.5, 2};
    for (boolean floatKeys : new boolean[] {true, false}) {
      for (int blockRows : new int[] {1, 2, 3}) {
        Object[] r = sparsify(new MagnitudeSparsifier(false, 0.5, 0, 6, floatKeys), tau, 2, blockRows);
        assertArrayEquals(new boolean[] {true, false, true, true, false, false}, (boolean[]) r[0]);
        assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1}, (double[]) r[1], 0);
      }
    }
  }

  @Test
  void breadcrumbsDropsTheOutliersAndKeepsTheNextDensity() {
    // n = 6, γ = 0.2 → drop ⌊1.2⌋ = 1 (|3| at 0), d = 0.5 → keep the next 3: the three 2s (2, 3, 5)
    double[] tau = {3, -1, 2, -2, 0.5, 2};
    Object[] r = sparsify(new MagnitudeSparsifier(true, 0.5, 0.2, 6, true), tau, 3, 1);
    assertArrayEquals(new boolean[] {false, false, true, true, false, true}, (boolean[]) r[0]);
    assertArrayEquals(new long[] {1, 4}, MagnitudeSparsifier.cutSizes(true, 0.5, 0.2, 6));
    // density + γ > 1: the outliers give way (⌊3⌋ → 1) so the kept count (5) holds
    assertArrayEquals(new long[] {1, 6}, MagnitudeSparsifier.cutSizes(true, 5.0 / 6, 0.5, 6));
  }

  @Test
  void dareDrawIsTheDeterministicUniformAgainstTheDensityAndRescalesByL1OrInverse() {
    long key = DeterministicRandom.key(7, "w", 1);
    double[] tau = new double[400];
    for (int i = 0; i < tau.length; i++) {
      tau[i] = (i % 7) - 3;
    }
    RandomSparsifier.Draw draw = new RandomSparsifier.Draw(false, 0.3, 0, key, false);
    Object[] inverse = sparsify(new RandomSparsifier(draw, RandomSparsifier.Rescale.INVERSE, InputRounding.NONE), tau, 20, 3);
    Object[] l1 = sparsify(new RandomSparsifier(draw, RandomSparsifier.Rescale.L1, InputRounding.NONE), tau, 20, 7);
    boolean[] keep = (boolean[]) inverse[0];
    double all = 0;
    double kept = 0;
    for (int i = 0; i < tau.length; i++) {
      assertEquals(DeterministicRandom.uniform(key, i) < 0.3, keep[i], "entry " + i);
      assertEquals(1 / 0.3, ((double[]) inverse[1])[i], 0);
      all += Math.abs(tau[i]);
      kept += keep[i] ? Math.abs(tau[i]) : 0;
    }
    assertArrayEquals(keep, (boolean[]) l1[0], "the same draw whatever the blocks");
    assertEquals(all / kept, ((double[]) l1[1])[0], 1e-15);
  }

  @Test
  void dellaProbabilitiesFollowTheMagnitudeRankInTheRow() {
    // one row |τ| = 3, 1, 2: ranks 2, 0, 1 → r = 1, 0, 0.5 → p = d − ε + 2ε·r = 0.6, 0.4, 0.5 (d = 0.5, ε = 0.1)
    double[] prob = new double[3];
    new RandomSparsifier.Draw(true, 0.5, 0.1, 1, false).mask(0, new double[] {-3, 1, 2}, 3, 3, new boolean[3], prob);
    assertArrayEquals(new double[] {0.6, 0.4, 0.5}, prob, 1e-15);
  }

  @Test
  void signElectionKeepsTheAgreeingContributionsAndDividesByTheirWeights() {
    double[][] d = {{6, 0, 4, -1}, {-5, 0, 0, 1}};
    double[] delta = new double[4];
    // signs: + (6 − 5), + (zero sum elects +), +, + (0 sum): idx 3 keeps only the +1 of model 1
    new Consensus(true, new double[] {2, 1}, true, InputRounding.NONE).delta(d, 4, delta);
    assertArrayEquals(new double[] {6 / 2.0, 0, 4 / 2.0, 1 / 1.0}, delta, 0);
    new Consensus(true, new double[] {2, 1}, false, InputRounding.NONE).delta(d, 4, delta);
    assertArrayEquals(new double[] {6, 0, 4, 1}, delta, 0);
    // a plain sum divides by Σw (and by 1 when Σw ≈ 0)
    new Consensus(false, new double[] {2, 1}, true, InputRounding.NONE).delta(d, 4, delta);
    assertArrayEquals(new double[] {1 / 3.0, 0, 4 / 3.0, 0}, delta, 0);
    new Consensus(false, new double[] {1, -1}, true, InputRounding.NONE).delta(d, 4, delta);
    assertArrayEquals(new double[] {1, 0, 4, 0}, delta, 0);
  }

  @Test
  void aMergeIsItsDeltasCombinedWithLambdaSoEveryLambdaCandidateMatchesItBitForBit() {
    double[] base = {0.1, -0.2, 0.3, 0.7, -1.1, 0.25};
    double[][] models = {{0.4, -0.1, 0.2, 0.9, -1.0, 0.2}, {0.0, 0.3, 0.35, 0.5, -1.3, 0.3}};
    for (String method : List.of("ties", "dare_ties", "breadcrumbs", "della_linear", "task_arithmetic")) {
      for (double lambda : new double[] {0.3, 1.0, 2.7}) {
        MergeMethod m = MethodRegistry.get(method);
        Map<String, Object> global = Map.of("lambda", lambda);
        List<Map<String, Object>> pm = method.equals("task_arithmetic") ? List.of(Map.of("weight", 0.6), Map.of("weight", 0.4))
            : List.of(Map.of("weight", 0.6, "density", 0.5), Map.of("weight", 0.4, "density", 0.7));
        TensorMergeContext ctx = MethodHarness.context(m, "model.layers.0.mlp.up_proj.weight", new long[] {2, 3},
            DataType.FLOAT, 3, true, global, pm);
        double[] merged = MethodHarness.run(m, ctx, base, models, 2, 3, 2);
        // a sweep's candidate: Δ once (at any λ), then θ₀ + λ·Δ
        TensorMergeContext other = MethodHarness.context(m, ctx.tensorName(), ctx.shape(), DataType.FLOAT, 3, true,
            Map.of("lambda", 5.0), pm);
        double[] candidate = deltaCandidate((DeltaMerge) m.begin(other), lambda, base, models);
        for (int i = 0; i < merged.length; i++) {
          assertEquals((float) candidate[i], (float) merged[i], 0, method + " λ=" + lambda + " entry " + i);
        }
      }
    }
  }

  private static double[] deltaCandidate(DeltaMerge dm, double lambda, double[] base, double[][] models) {
    INDArray b = Nd4j.createFromArray(base).castTo(DataType.FLOAT).reshape(2, 3).dup('c');
    INDArray[] ms = {Nd4j.createFromArray(models[0]).castTo(DataType.FLOAT).reshape(2, 3).dup('c'),
        Nd4j.createFromArray(models[1]).castTo(DataType.FLOAT).reshape(2, 3).dup('c')};
    TensorChunk chunk = new TensorChunk(0, 0, b, ms);
    for (int pass = 0; pass < dm.preparationPasses(); pass++) {
      dm.prepare(pass, chunk);
    }
    double[] out = new double[6];
    dm.deltas(chunk, (from, n, bb, delta) -> {
      double[] theta = new double[n];
      DeltaMerge.combine(dm.rounding(), bb, lambda, delta, n, theta);
      System.arraycopy(theta, 0, out, (int) from, n);
    });
    return out;
  }
}
