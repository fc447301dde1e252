package io.sparkmerge.analysis;

import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Svd;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The `subspaces` analysis of one 2-D tensor (methods.md §7): the spectrum of Δ = Σ τ_t and of each
 * τ_t, their effective rank (exp of the entropy of the normalised singular values) and energy in the
 * top k, and the overlap ‖U_iᵀU_j‖_F² / k of the tasks' top-k left singular subspaces (1 = same
 * subspace, ≈ k/m for random ones).
 */
public final class SubspaceStats {
  private SubspaceStats() {}

  /** One spectrum: "delta" or a model's index. */
  public record Spectrum(String tensor, String source, double[] topValues, double effectiveRank, double energyTopK,
      double nuclearNorm, double frobeniusNorm) implements Serializable {}

  /** Overlap of two tasks' top-k left singular subspaces. */
  public record Overlap(String tensor, int taskI, int taskJ, int k, double overlap) implements Serializable {}

  /** Everything computed for one tensor. */
  public record Report(String tensor, long rows, long cols, List<Spectrum> spectra, List<Overlap> overlaps)
      implements Serializable {}

  public static Report compute(String tensor, INDArray[] tau, int topK, int k) {
    return compute(tensor, tau, topK, k, LinearAlgebra.forLoadedBackend());
  }

  static Report compute(String tensor, INDArray[] tau, int topK, int k, LinearAlgebra la) {
    List<Spectrum> spectra = new ArrayList<>();
    List<INDArray> bases = new ArrayList<>();
    int r = (int) Math.min(tau[0].size(0), tau[0].size(1));
    int kk = Math.max(1, Math.min(k, r));
    INDArray delta = tau[0].dup('c');
    for (int t = 1; t < tau.length; t++) {
      delta.addi(tau[t]);
    }
    try (Svd.Result d = la.thinSvd(delta, tensor)) {
      spectra.add(spectrum(tensor, "delta", d.s().toDoubleVector(), topK, kk));
    }
    delta.close();
    for (int t = 0; t < tau.length; t++) {
      try (Svd.Result s = la.thinSvd(tau[t], tensor)) {
        spectra.add(spectrum(tensor, "model" + t, s.s().toDoubleVector(), topK, kk));
        bases.add(s.u().get(NDArrayIndex.all(), NDArrayIndex.interval(0, kk)).dup('c'));
      }
    }
    List<Overlap> overlaps = new ArrayList<>();
    for (int i = 0; i < bases.size(); i++) {
      for (int j = i + 1; j < bases.size(); j++) {
        try (INDArray p = la.mmul(bases.get(i).transpose(), bases.get(j))) {
          double f = p.norm2Number().doubleValue();
          overlaps.add(new Overlap(tensor, i, j, kk, f * f / kk));
        }
      }
    }
    bases.forEach(INDArray::close);
    return new Report(tensor, tau[0].size(0), tau[0].size(1), spectra, overlaps);
  }

  static Spectrum spectrum(String tensor, String source, double[] s, int topK, int k) {
    double sum = 0;
    double sq = 0;
    for (double v : s) {
      sum += v;
      sq += v * v;
    }
    double entropy = 0;
    double topSq = 0;
    for (int i = 0; i < s.length; i++) {
      double p = sum > 0 ? s[i] / sum : 0;
      if (p > 0) {
        entropy -= p * Math.log(p);
      }
      if (i < k) {
        topSq += s[i] * s[i];
      }
    }
    double[] top = java.util.Arrays.copyOf(s, Math.min(topK, s.length));
    return new Spectrum(tensor, source, top, sum > 0 ? Math.exp(entropy) : 0, sq > 0 ? topSq / sq : 0, sum, Math.sqrt(sq));
  }
}
