package io.sparkmerge.math;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.testing.PolarReference;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The backend-selected linear algebra: which implementation each ND4J backend gets, and the contract
 * (thin SVD, polar factor, product) held by both implementations. The ND4J-lapack one is the CUDA
 * backend's code path; here it runs on the CPU backend's lapack wrapper (LAPACK gesvd), so everything
 * but cuSOLVER itself is exercised; bench/gpu/check.sh runs it on a GPU.
 */
class LinearAlgebraTest {
  static final String CPU = "org.nd4j.linalg.cpu.nativecpu.CpuBackend";
  static final String CUDA = "org.nd4j.linalg.jcublas.JCublasBackend";

  static LinearAlgebra[] implementations() {
    return new LinearAlgebra[] {LinearAlgebra.create(LinearAlgebra.Kind.LAPACKE, CPU),
        LinearAlgebra.create(LinearAlgebra.Kind.ND4J_LAPACK, CPU)};
  }

  @Test
  void eachBackendGetsItsImplementation() {
    assertEquals(LinearAlgebra.Kind.LAPACKE, LinearAlgebra.choose(CPU, null));
    assertEquals(LinearAlgebra.Kind.LAPACKE, LinearAlgebra.choose(CPU, "auto"));
    assertEquals(LinearAlgebra.Kind.ND4J_LAPACK, LinearAlgebra.choose(CUDA, null));
    assertEquals(LinearAlgebra.Kind.ND4J_LAPACK, LinearAlgebra.choose(CUDA, ""));
    assertEquals(LinearAlgebra.Kind.ND4J_LAPACK, LinearAlgebra.choose(CPU, "nd4j"));
    assertEquals(LinearAlgebra.Kind.ND4J_LAPACK, LinearAlgebra.choose(CUDA, " ND4J "));
    assertEquals(LinearAlgebra.Kind.LAPACKE, LinearAlgebra.choose(CPU, "lapacke"));
    ConfigException onGpu = assertThrows(ConfigException.class, () -> LinearAlgebra.choose(CUDA, "lapacke"));
    assertTrue(onGpu.getMessage().contains("JCublasBackend") && onGpu.getMessage().contains("sparkmerge.linalg"), onGpu.getMessage());
    ConfigException bad = assertThrows(ConfigException.class, () -> LinearAlgebra.choose(CPU, "magma"));
    assertTrue(bad.getMessage().contains("auto, lapacke or nd4j"), bad.getMessage());
    assertTrue(LinearAlgebra.isCpu(CPU) && !LinearAlgebra.isCpu(CUDA));
  }

  @Test
  void theLoadedBackendAndThePropertyDecide() {
    assertTrue(LinearAlgebra.cpuBackend(), "the tests run on nd4j-native");
    assertEquals("lapacke-gesdd", LinearAlgebra.forLoadedBackend().name());
    String before = System.getProperty(LinearAlgebra.PROPERTY);
    try {
      System.setProperty(LinearAlgebra.PROPERTY, "nd4j");
      assertEquals("nd4j-lapack-gesvd", LinearAlgebra.forLoadedBackend().name());
    } finally {
      if (before == null) {
        System.clearProperty(LinearAlgebra.PROPERTY);
      } else {
        System.setProperty(LinearAlgebra.PROPERTY, before);
      }
    }
  }

  @Test
  void theCudaImplementationRefusesFloat64BeforeTouchingLapack() {
    LinearAlgebra cuda = LinearAlgebra.create(LinearAlgebra.Kind.ND4J_LAPACK, CUDA);
    INDArray a = Nd4j.rand(DataType.DOUBLE, 5, 4);
    ConfigException e = assertThrows(ConfigException.class, () -> cuda.thinSvd(a, "model.layers.0.mlp.up_proj.weight"));
    assertTrue(e.getMessage().startsWith("model.layers.0.mlp.up_proj.weight: compute_dtype float64"), e.getMessage());
    assertTrue(e.getMessage().contains("compute_dtype: float32"), e.getMessage());
    // float32 takes the wrapper (here the CPU one)
    try (Svd.Result r = cuda.thinSvd(a.castTo(DataType.FLOAT), "f")) {
      assertEquals(4, r.s().length());
    }
  }

  @Test
  void thinSvdContractOnBothImplementations() {
    SplittableRandom rnd = new SplittableRandom(3);
    int[][] shapes = {{60, 40}, {40, 60}, {33, 33}, {2, 7}, {7, 2}, {1, 5}, {5, 1}, {1, 1}, {0, 3}};
    for (LinearAlgebra la : implementations()) {
      for (int[] mn : shapes) {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
          String what = la.name() + " " + mn[0] + "x" + mn[1] + " " + type;
          int m = mn[0];
          int n = mn[1];
          int r = Math.min(m, n);
          INDArray a = Nd4j.createFromArray(random(rnd, m * n)).castTo(type).reshape(m, n);
          INDArray before = a.dup();
          try (Svd.Result s = la.thinSvd(a, "t")) {
            assertArrayEquals(new long[] {m, r}, s.u().shape(), what);
            assertArrayEquals(new long[] {r}, s.s().shape(), what);
            assertArrayEquals(new long[] {r, n}, s.vt().shape(), what);
            assertEquals(type, s.u().dataType(), what);
            assertEquals(before, a, what + ": the input is not modified");
            if (r == 0) {
              continue;
            }
            double tol = type == DataType.FLOAT ? 2e-5 : 1e-12;
            INDArray back = s.u().mulRowVector(s.s()).mmul(s.vt());
            assertTrue(rel(back, a) < tol, what + ": reconstruction " + rel(back, a));
            assertTrue(rel(s.u().transpose().mmul(s.u()), Nd4j.eye(r).castTo(type)) < tol, what + ": UᵀU = I");
            assertTrue(rel(s.vt().mmul(s.vt().transpose()), Nd4j.eye(r).castTo(type)) < tol, what + ": VᵀV = I");
            double[] sv = s.s().toDoubleVector();
            for (int i = 0; i < sv.length; i++) {
              assertTrue(sv[i] >= 0 && (i == 0 || sv[i] <= sv[i - 1] * (1 + tol)), what + ": S sorted, ≥ 0");
            }
          }
        }
      }
    }
  }

  @Test
  void bothImplementationsAgreeOnTheSpectrumAndTheyHandleAZeroVector() {
    SplittableRandom rnd = new SplittableRandom(5);
    INDArray a = Nd4j.createFromArray(random(rnd, 50 * 30)).reshape(50, 30);
    LinearAlgebra[] impl = implementations();
    try (Svd.Result x = impl[0].thinSvd(a, "a"); Svd.Result y = impl[1].thinSvd(a, "a")) {
      assertArrayEquals(x.s().toDoubleVector(), y.s().toDoubleVector(), 1e-12 * x.s().getDouble(0));
    }
    for (LinearAlgebra la : impl) {
      try (Svd.Result z = la.thinSvd(Nd4j.zeros(DataType.DOUBLE, 1, 4), "zero")) {
        assertEquals(0.0, z.s().getDouble(0), la.name());
        assertEquals(1.0, Math.abs(z.u().getDouble(0, 0)), la.name());
        assertEquals(1.0, z.vt().norm2Number().doubleValue(), 1e-12, la.name());
      }
    }
  }

  @Test
  void polarFactorEqualsTheNewtonReferenceAndProductsAreGemm() {
    SplittableRandom rnd = new SplittableRandom(9);
    for (int[] mn : new int[][] {{9, 5}, {5, 9}, {6, 6}}) {
      double[] flat = random(rnd, mn[0] * mn[1]);
      double[] ref = PolarReference.flatten(PolarReference.polar(PolarReference.reshape(flat, mn[0], mn[1])));
      INDArray a = Nd4j.createFromArray(flat).reshape(mn[0], mn[1]);
      for (LinearAlgebra la : implementations()) {
        try (INDArray p = la.polar(a, "p")) {
          assertArrayEquals(ref, p.reshape(-1).toDoubleVector(), 1e-10, la.name() + " " + mn[0] + "x" + mn[1]);
        }
        INDArray b = Nd4j.createFromArray(random(rnd, mn[1] * 3)).reshape(mn[1], 3);
        assertEquals(a.mmul(b), la.mmul(a, b), la.name() + ": the backend's GEMM, bit for bit");
      }
    }
  }

  @Test
  void aFailedSvdNamesTheTensor() {
    // LAPACKE checks its input for NaN (info < 0); cuSOLVER reports through info as well
    INDArray bad = Nd4j.createFromArray(new double[][] {{1, Double.NaN}, {0, 1}, {2, 2}});
    for (LinearAlgebra la : implementations()) {
      ArithmeticException e = assertThrows(ArithmeticException.class, () -> la.thinSvd(bad, "model.norm.weight"), la.name());
      assertTrue(e.getMessage().startsWith("model.norm.weight: "), e.getMessage());
    }
  }

  static double rel(INDArray x, INDArray ref) {
    double d = ref.norm2Number().doubleValue();
    return x.sub(ref).norm2Number().doubleValue() / (d == 0 ? 1 : d);
  }

  static double[] random(SplittableRandom r, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextDouble(-1, 1);
    }
    return v;
  }
}
