package io.sparkmerge.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SubspaceStatsTest {
  @Test
  void handWorkedOverlapEffectiveRankAndEnergy() {
    // τ0 = 3·e1e1ᵀ, τ1 = 2·e1e2ᵀ (same left direction e1), τ2 = e2e1ᵀ (left direction e2)
    INDArray t0 = Nd4j.createFromArray(new double[][] {{3, 0}, {0, 0}});
    INDArray t1 = Nd4j.createFromArray(new double[][] {{0, 2}, {0, 0}});
    INDArray t2 = Nd4j.createFromArray(new double[][] {{0, 0}, {1, 0}});
    SubspaceStats.Report r = SubspaceStats.compute("w", new INDArray[] {t0, t1, t2}, 8, 1);
    assertEquals(1.0, r.overlaps().get(0).overlap(), 1e-12, "τ0, τ1 share their top left direction");
    assertEquals(0.0, r.overlaps().get(1).overlap(), 1e-12, "τ0, τ2 do not");
    assertEquals(0.0, r.overlaps().get(2).overlap(), 1e-12, "τ1, τ2 do not");
    // Δ = [[3, 2], [1, 0]]: σ² are the eigenvalues of ΔᵀΔ = [[10, 6], [6, 4]] → 7 ± √45
    SubspaceStats.Spectrum delta = r.spectra().get(0);
    double s1 = Math.sqrt(7 + Math.sqrt(45));
    double s2 = Math.sqrt(7 - Math.sqrt(45));
    assertEquals(s1, delta.topValues()[0], 1e-12);
    assertEquals(s2, delta.topValues()[1], 1e-12);
    double p1 = s1 / (s1 + s2);
    double p2 = s2 / (s1 + s2);
    assertEquals(Math.exp(-p1 * Math.log(p1) - p2 * Math.log(p2)), delta.effectiveRank(), 1e-12);
    assertEquals(s1 * s1 / 14, delta.energyTopK(), 1e-12, "σ1² / ‖Δ‖_F² with ‖Δ‖_F² = 14");
    assertEquals(1.0, r.spectra().get(1).effectiveRank(), 1e-12, "a rank-1 task vector has effective rank 1");
  }
}
