package io.sparkmerge.math;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The best rank-r approximation τ ≈ B·A of a matrix (B m×r, A r×n) from its truncated SVD, as a LoRA
 * adapter stores it. The singular values are split between the factors as mergekit-extract-lora splits
 * them: by default √S to each side (A = √S·Vᵀ, B = U·√S), or all of S on A (B = U) when not distributed.
 *
 * <p>Large matrices with a small rank use the randomised range finder of Halko, Martinsson and Tropp
 * (2011, Alg. 4.4 with q power iterations, then Alg. 5.1): Y = τ·Ω for an n×(r+p) Gaussian Ω, an orthonormal
 * basis Q of Y refined by q rounds of Q ← orth(τ·orth(τᵀ·Q)), and the thin SVD of the small Qᵀ·τ. Ω is drawn
 * from {@link DeterministicRandom} under a key of the caller's choosing (the tensor's name), so the factors
 * do not depend on the partitioning or on retries. Orthonormal bases come from the thin SVD of the
 * {@link LinearAlgebra} in use (its U spans the columns), so both backends' SVDs serve unchanged.
 */
public final class LowRank {
  /** Oversampling p of the range finder (Halko et al. recommend 5-10). */
  public static final int OVERSAMPLE = 10;
  /** Power iterations q: task vectors' spectra decay slowly, and q = 2 brings the error to the SVD's (docs/mergekit.md). */
  public static final int POWER_ITERATIONS = 2;
  /**
   * The randomised SVD runs when min(m, n) ≥ this and r + p ≤ min(m, n) / {@link #RANDOMIZED_MAX_FRACTION}: measured
   * with bench/lora/run.sh (docs/benchmarks.md), it is faster than gesdd from 1024² at rank ≤ 128 and slower on smaller or
   * higher-rank problems.
   */
  public static final int RANDOMIZED_MIN_DIM = 1024;
  public static final int RANDOMIZED_MAX_FRACTION = 4;

  /** How the factors were computed. */
  public enum Algorithm { SVD, RANDOMIZED }

  /** B (m×r), A (r×n), the r kept singular values and how they were found; close to free the arrays. */
  public record Factors(INDArray b, INDArray a, double[] singularValues, Algorithm algorithm) implements AutoCloseable {
    public int rank() {
      return singularValues.length;
    }

    @Override
    public void close() {
      a.close();
      b.close();
    }
  }

  private LowRank() {}

  /** The algorithm {@link #factor} uses for an m×n matrix at rank r (r already at most min(m, n)). */
  public static Algorithm choose(long m, long n, int rank) {
    long k = Math.min(m, n);
    return k >= RANDOMIZED_MIN_DIM && (long) (rank + OVERSAMPLE) * RANDOMIZED_MAX_FRACTION <= k ? Algorithm.RANDOMIZED
        : Algorithm.SVD;
  }

  /**
   * The rank-min(rank, m, n) factors of a 2-D FLOAT or DOUBLE matrix ({@code tau} is not modified).
   *
   * @param distribute √S on each factor (mergekit's default) rather than S on A
   * @param randomKey the {@link DeterministicRandom} stream of the randomised algorithm's test matrix
   */
  public static Factors factor(INDArray tau, int rank, boolean distribute, Algorithm algorithm, long randomKey,
      LinearAlgebra la, String label) {
    int m = (int) tau.size(0);
    int n = (int) tau.size(1);
    int r = Math.min(rank, Math.min(m, n));
    try (Svd.Result svd = algorithm == Algorithm.RANDOMIZED ? randomized(tau, r, randomKey, la, label) : la.thinSvd(tau, label)) {
      INDArray s = svd.s().get(NDArrayIndex.interval(0, r)).dup();
      INDArray u = svd.u().get(NDArrayIndex.all(), NDArrayIndex.interval(0, r)).dup('c');
      INDArray vt = svd.vt().get(NDArrayIndex.interval(0, r), NDArrayIndex.all()).dup('c');
      double[] kept = s.toDoubleVector();
      try (s) {
        if (distribute) {
          try (INDArray root = Nd4j.math().sqrt(s)) {
            u.muliRowVector(root);
            vt.muliColumnVector(root);
          }
        } else {
          vt.muliColumnVector(s);
        }
      }
      return new Factors(u, vt, kept, algorithm);
    }
  }

  /** U (m×ℓ), S, Vᵀ of the randomised approximation, ℓ = min(r + p, m, n); the caller keeps the first r. */
  static Svd.Result randomized(INDArray tau, int r, long key, LinearAlgebra la, String label) {
    int m = (int) tau.size(0);
    int n = (int) tau.size(1);
    int l = Math.min(r + OVERSAMPLE, Math.min(m, n));
    INDArray q;
    try (INDArray omega = gaussian(n, l, key, tau.dataType()); INDArray y = la.mmul(tau, omega)) {
      q = basis(y, la, label);
    }
    INDArray tauT = tau.transpose();
    for (int i = 0; i < POWER_ITERATIONS; i++) {
      try (INDArray z = la.mmul(tauT, q); INDArray zq = basis(z, la, label); INDArray y = la.mmul(tau, zq)) {
        q.close();
        q = basis(y, la, label);
      }
    }
    INDArray basis = q;
    try (basis; INDArray small = la.mmul(basis.transpose(), tau); Svd.Result s = la.thinSvd(small, label)) {
      INDArray u = la.mmul(basis, s.u());
      return new Svd.Result(u, s.s().dup(), s.vt().dup());
    }
  }

  /** An orthonormal basis of the columns of y (m×ℓ, m ≥ ℓ): the U of its thin SVD. */
  private static INDArray basis(INDArray y, LinearAlgebra la, String label) {
    try (Svd.Result s = la.thinSvd(y, label)) {
      return s.u().dup('c');
    }
  }

  /** An n×l standard normal matrix: entry i is a Box-Muller transform of draws 2i and 2i+1 of the stream. */
  static INDArray gaussian(int n, int l, long key, DataType type) {
    double[] v = new double[n * l];
    for (int i = 0; i < v.length; i++) {
      double u1 = DeterministicRandom.uniform(key, 2L * i);
      double u2 = DeterministicRandom.uniform(key, 2L * i + 1);
      v[i] = Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
    }
    try (INDArray d = Nd4j.createFromArray(v).reshape(n, l)) {
      return d.castTo(type);
    }
  }

  /** ‖τ − B·A‖_F / ‖τ‖_F in double (0 when τ = 0), for factors as written (decoded back from the output dtype). */
  public static double relativeError(INDArray tau, INDArray b, INDArray a, LinearAlgebra la) {
    try (INDArray ba = la.mmul(b, a); INDArray d = tau.castTo(DataType.DOUBLE); INDArray bd = ba.castTo(DataType.DOUBLE)) {
      double norm = d.norm2Number().doubleValue();
      double residual = d.subi(bd).norm2Number().doubleValue();
      return norm == 0 ? (residual == 0 ? 0 : Double.POSITIVE_INFINITY) : residual / norm;
    }
  }
}
