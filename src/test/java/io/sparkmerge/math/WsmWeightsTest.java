package io.sparkmerge.math;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import org.junit.jupiter.api.Test;

/** WSM weights (methods.md §5, Theorem 3.1) against values worked out by hand. */
class WsmWeightsTest {

  @Test
  void linearIsExactlyThePlainMeanOfTheWindow() {
    for (int k = 1; k <= 12; k++) {
      WsmWeights.Result r = WsmWeights.of("linear", k, 0.5);
      assertEquals(0.0, r.anchor(), 0.0);
      for (double c : r.window()) {
        assertEquals(1.0 / k, c, 0.0, "k=" + k);
      }
    }
  }

  @Test
  void everyScheduleIsNonNegativeAndSumsToOne() {
    for (int k = 1; k <= 16; k++) {
      for (String s : new String[] {"linear", "cosine", "1-sqrt", "ema"}) {
        for (double alpha : new double[] {0.1, 0.5, 0.9, 1.0}) {
          WsmWeights.Result r = WsmWeights.of(s, k, alpha);
          double sum = r.anchor();
          assertTrue(r.anchor() >= 0);
          for (double c : r.window()) {
            assertTrue(c >= 0, s + " k=" + k + " gives a negative weight " + c);
            sum += c;
          }
          assertEquals(1.0, sum, 1e-12, s + " k=" + k);
        }
      }
    }
  }

  @Test
  void oneMinusSqrtForFourCheckpointsByHand() {
    // w = f((i-1)/4) with f = 1 - sqrt(x): [1, 1/2, 1 - sqrt(1/2), 1 - sqrt(3/4)]
    // c_1 = w1 - w2 = 0.5, c_2 = sqrt(1/2) - 1/2 = 0.20711, c_3 = sqrt(3/4) - sqrt(1/2) = 0.15892, c_4 = 1 - sqrt(3/4) = 0.13397
    WsmWeights.Result r = WsmWeights.of("1-sqrt", 4, 0.5);
    assertArrayEquals(new double[] {0.5, 0.2071, 0.1589, 0.1340}, r.window(), 5e-5);
    assertEquals(0.0, r.anchor(), 0.0);
  }

  @Test
  void cosineAndEmaForFourCheckpointsByHand() {
    // cosine: w = [1, (1 + cos(pi/4))/2, 1/2, (1 - cos(pi/4))/2] = [1, 0.853553, 0.5, 0.146447]
    assertArrayEquals(new double[] {0.146447, 0.353553, 0.353553, 0.146447}, WsmWeights.of("cosine", 4, 0).window(), 1e-6);
    // ema alpha 0.5: proportional to [1/8, 1/4, 1/2, 1], sum 15/8
    assertArrayEquals(new double[] {1 / 15.0, 2 / 15.0, 4 / 15.0, 8 / 15.0}, WsmWeights.of("ema", 4, 0.5).window(), 1e-15);
  }

  @Test
  void weightsReproduceTheDecayedLearningRateOfEveryInterval() {
    // Theorem 3.1: the i-th interval's updates enter the merge with multiplier sum_{j >= i} c_j, which must be w_i
    for (String s : new String[] {"cosine", "1-sqrt"}) {
      WsmWeights.Result r = WsmWeights.of(s, 7, 0);
      for (int i = 0; i < 7; i++) {
        double tail = 0;
        for (int j = i; j < 7; j++) {
          tail += r.window()[j];
        }
        double x = i / 7.0;
        double f = s.equals("cosine") ? (1 + Math.cos(Math.PI * x)) / 2 : 1 - Math.sqrt(x);
        assertEquals(f, tail, 1e-12);
      }
    }
  }

  @Test
  void customMultipliersIncludingTheAnchor() {
    WsmWeights.Result r = WsmWeights.custom(new double[] {1, 0.5, 0.25, 0.25});
    assertArrayEquals(new double[] {0.5, 0.25, 0, 0.25}, r.window(), 0);
    assertEquals(0, r.anchor(), 0);
    WsmWeights.Result a = WsmWeights.custom(new double[] {0.8, 0.4});
    assertEquals(0.2, a.anchor(), 1e-15);
    assertArrayEquals(new double[] {0.4, 0.4}, a.window(), 1e-15);
  }

  @Test
  void badInputsAreConfigErrors() {
    assertThrows(ConfigException.class, () -> WsmWeights.custom(new double[] {0.5, 0.7}));
    assertThrows(ConfigException.class, () -> WsmWeights.custom(new double[] {1.5}));
    assertThrows(ConfigException.class, () -> WsmWeights.of("cosin", 4, 0.5));
    assertThrows(ConfigException.class, () -> WsmWeights.of("ema", 4, 0));
    assertThrows(ConfigException.class, () -> WsmWeights.of("linear", 0, 0.5));
  }

  @Test
  void unevenStepsByHand() {
    // anchor at step 0, window 100, 150, 300, 400: the intervals start at 0, 1/4, 3/8, 3/4 of the 400-step span
    double[] steps = {0, 100, 150, 300, 400};
    // linear: w = [1, 3/4, 5/8, 1/4] → c = [1/4, 1/8, 3/8, 1/4], anchor 0
    WsmWeights.Result lin = WsmWeights.atSteps(WsmWeights.of("linear", 4, 0.5), steps);
    assertArrayEquals(new double[] {0.25, 0.125, 0.375, 0.25}, lin.window(), 1e-15);
    assertEquals(0.0, lin.anchor(), 0.0);
    // cosine: w = [1, (1 + cos(pi/4))/2, (1 + cos(3pi/8))/2, (1 + cos(3pi/4))/2] = [1, 0.8535534, 0.6913417, 0.1464466]
    WsmWeights.Result cos = WsmWeights.atSteps(WsmWeights.of("cosine", 4, 0.5), steps);
    assertArrayEquals(new double[] {0.1464466, 0.1622117, 0.5448951, 0.1464466}, cos.window(), 1e-7);
    // ema and custom weights weigh checkpoints, not steps; equal gaps give the very same weights as of()
    WsmWeights.Result ema = WsmWeights.of("ema", 4, 0.5);
    assertTrue(WsmWeights.atSteps(ema, steps) == ema);
    for (String s : new String[] {"linear", "cosine", "1-sqrt"}) {
      for (int k = 1; k <= 9; k++) {
        double[] even = new double[k + 1];
        for (int i = 0; i <= k; i++) {
          even[i] = 1000 + 37.0 * i;
        }
        assertArrayEquals(WsmWeights.of(s, k, 0.5).window(), WsmWeights.atSteps(WsmWeights.of(s, k, 0.5), even).window(), 0.0);
      }
    }
  }

  @Test
  void unevenStepWeightsReproduceTheRunWithThatPerIntervalDecayBySimulation() {
    // fixed updates u_s; the constant-LR run θ_{s+1} = θ_s − u_s; checkpoints at uneven steps; the decayed run scales every
    // update of interval i by the curve at the interval's start. Σ c_j θ_{s_j} must land exactly on it (Theorem 3.1).
    java.util.Random r = new java.util.Random(4);
    long[] steps = {40, 47, 60, 61, 90, 100};
    double[] theta = new double[101];
    double[] u = new double[100];
    for (int s = 0; s < 100; s++) {
      u[s] = r.nextGaussian();
      theta[s + 1] = theta[s] - u[s];
    }
    for (String sched : new String[] {"linear", "cosine", "1-sqrt"}) {
      java.util.function.DoubleUnaryOperator f = sched.equals("linear") ? x -> 1 - x
          : sched.equals("cosine") ? x -> (1 + Math.cos(Math.PI * x)) / 2 : x -> 1 - Math.sqrt(x);
      double decayed = theta[40];
      for (int i = 1; i < steps.length; i++) {
        double w = f.applyAsDouble((double) (steps[i - 1] - steps[0]) / (steps[5] - steps[0]));
        for (long s = steps[i - 1]; s < steps[i]; s++) {
          decayed -= w * u[(int) s];
        }
      }
      double[] st = java.util.Arrays.stream(steps).asDoubleStream().toArray();
      WsmWeights.Result c = WsmWeights.atSteps(WsmWeights.of(sched, 5, 0.5), st);
      double merged = c.anchor() * theta[40];
      for (int j = 0; j < 5; j++) {
        merged += c.window()[j] * theta[(int) steps[j + 1]];
      }
      assertEquals(decayed, merged, 1e-12, sched);
    }
  }
}
