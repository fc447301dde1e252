package io.sparkmerge.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkmerge.math.LinearAlgebra;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The subspaces analysis gives the same spectra and overlaps with either SVD implementation. */
class SubspaceStatsLinearAlgebraTest {
  @Test
  void spectraAndOverlapsAgreeBetweenImplementations() {
    SplittableRandom r = new SplittableRandom(2);
    INDArray[] tau = new INDArray[3];
    for (int t = 0; t < tau.length; t++) {
      double[] v = new double[20 * 14];
      for (int i = 0; i < v.length; i++) {
        v[i] = r.nextDouble(-1, 1);
      }
      tau[t] = Nd4j.createFromArray(v).castTo(DataType.DOUBLE).reshape(20, 14);
    }
    String cpu = "org.nd4j.linalg.cpu.nativecpu.CpuBackend";
    SubspaceStats.Report a = SubspaceStats.compute("w", tau, 8, 4, LinearAlgebra.create(LinearAlgebra.Kind.LAPACKE, cpu));
    SubspaceStats.Report b = SubspaceStats.compute("w", tau, 8, 4, LinearAlgebra.create(LinearAlgebra.Kind.ND4J_LAPACK, cpu));
    assertEquals(a.spectra().size(), b.spectra().size());
    for (int i = 0; i < a.spectra().size(); i++) {
      assertArrayEquals(a.spectra().get(i).topValues(), b.spectra().get(i).topValues(), 1e-12);
      assertEquals(a.spectra().get(i).effectiveRank(), b.spectra().get(i).effectiveRank(), 1e-12);
    }
    assertEquals(3, a.overlaps().size());
    for (int i = 0; i < a.overlaps().size(); i++) {
      // overlap of top-k subspaces: independent of the singular vectors' signs
      assertEquals(a.overlaps().get(i).overlap(), b.overlaps().get(i).overlap(), 1e-10);
    }
  }
}
