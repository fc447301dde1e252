package io.sparkmerge.bench;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.LowRank;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Benchmark, not a test: where {@code extract-lora}'s randomised SVD beats the exact one. For each size and
 * rank, a float32 matrix with a power-law spectrum σ_i = (i + 1)^-decay (task vectors' spectra decay slowly)
 * is factored by {@link LowRank#factor} both ways, median time of N after a warm-up, and the randomised
 * factors' error ‖τ − B·A‖_F / ‖τ‖_F is compared with the exact truncation's (the optimum).
 * Args: threads reps decay MxN,... r,... ; prints "MxN r svd_s randomized_s svd_error randomized_error".
 */
public final class LoraSvdBench {
  public static void main(String[] args) {
    int threads = Integer.parseInt(args[0]);
    int reps = Integer.parseInt(args[1]);
    double decay = Double.parseDouble(args[2]);
    Nd4j.getEnvironment().setMaxMasterThreads(threads);
    org.bytedeco.openblas.global.openblas.blas_set_num_threads(threads);
    LinearAlgebra la = LinearAlgebra.forLoadedBackend();
    int[] ranks = Arrays.stream(args[4].split(",")).mapToInt(Integer::parseInt).toArray();
    System.out.printf(Locale.ROOT, "# linalg %s, %d threads, decay %.2f, oversample %d, power iterations %d%n", la.name(), threads,
        decay, LowRank.OVERSAMPLE, LowRank.POWER_ITERATIONS);
    for (String size : args[3].split(",")) {
      int m = Integer.parseInt(size.split("x")[0]);
      int n = Integer.parseInt(size.split("x")[1]);
      try (INDArray tau = matrix(m, n, decay, la)) {
        for (int r : ranks) {
          double[] err = new double[2];
          double[] time = new double[2];
          for (LowRank.Algorithm alg : LowRank.Algorithm.values()) {
            double[] t = new double[reps];
            for (int i = -1; i < reps; i++) {
              long t0 = System.nanoTime();
              try (LowRank.Factors f = LowRank.factor(tau, r, true, alg, 42L, la, "bench")) {
                double s = (System.nanoTime() - t0) / 1e9;
                if (i >= 0) {
                  t[i] = s;
                } else {
                  err[alg.ordinal()] = LowRank.relativeError(tau, f.b(), f.a(), la);
                }
              }
            }
            Arrays.sort(t);
            time[alg.ordinal()] = t[reps / 2];
          }
          System.out.printf(Locale.ROOT, "%dx%d %d %.3f %.3f %.5f %.5f%n", m, n, r, time[0], time[1], err[0], err[1]);
        }
      }
    }
  }

  /** G1·diag(σ)·G2 / √(mn) with Gaussian G1 (m×k), G2 (k×n), k = min(m, n): singular values ≈ σ. */
  static INDArray matrix(int m, int n, double decay, LinearAlgebra la) {
    int k = Math.min(m, n);
    Random rnd = new Random(m * 31L + n);
    float[] g1 = new float[m * k];
    float[] g2 = new float[k * n];
    for (int i = 0; i < g1.length; i++) {
      g1[i] = (float) rnd.nextGaussian();
    }
    for (int i = 0; i < g2.length; i++) {
      g2[i] = (float) rnd.nextGaussian();
    }
    float[] s = new float[k];
    for (int i = 0; i < k; i++) {
      s[i] = (float) (Math.pow(i + 1, -decay) / Math.sqrt((double) m * n));
    }
    try (INDArray a = Nd4j.createFromArray(g1).reshape(m, k); INDArray b = Nd4j.createFromArray(g2).reshape(k, n);
        INDArray sv = Nd4j.createFromArray(s)) {
      a.muliRowVector(sv);
      return la.mmul(a, b).castTo(DataType.FLOAT);
    }
  }
}
