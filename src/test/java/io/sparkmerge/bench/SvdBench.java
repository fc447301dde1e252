package io.sparkmerge.bench;

import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.param.ParameterResolver;
import io.sparkmerge.method.TensorChunk;
import io.sparkmerge.method.TensorMerge;
import io.sparkmerge.method.TensorMergeContext;
import io.sparkmerge.math.LinearAlgebra;
import io.sparkmerge.math.Svd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Benchmark, not a test: the SVD as the subspace methods run it ({@link LinearAlgebra#forLoadedBackend}:
 * LAPACKE sgesdd on the CPU backend, cuSOLVER gesvd through ND4J on CUDA) on raw float32 matrices
 * written by bench/svd/run.sh or bench/gpu/check.sh, median of N after a warm-up, with the relative
 * reconstruction error ‖U·diag(S)·Vᵀ − A‖/‖A‖; then one full iso_cts "layer" (3 task vectors) on the
 * last matrix size given. Args: threads reps file:m:n... With -Dsvdbench.sOut=DIR it also writes each
 * matrix's singular values (float64, little-endian) to DIR/s-MxN.f64 for a CPU-vs-GPU comparison;
 * -Dsvdbench.layer=false skips the iso_cts layer.
 * Prints "# linalg NAME BACKEND", then "MxN seconds error" per matrix, then "iso_cts MxN seconds".
 */
public final class SvdBench {
  public static void main(String[] args) throws IOException {
    int threads = Integer.parseInt(args[0]);
    int reps = Integer.parseInt(args[1]);
    Nd4j.getEnvironment().setMaxMasterThreads(threads);
    if (LinearAlgebra.cpuBackend()) {
      org.bytedeco.openblas.global.openblas.blas_set_num_threads(threads);
    }
    LinearAlgebra la = LinearAlgebra.forLoadedBackend();
    System.out.printf(Locale.ROOT, "# linalg %s %s%n", la.name(), Nd4j.getBackend().getClass().getSimpleName());
    String sOut = System.getProperty("svdbench.sOut");
    List<INDArray> mats = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      String[] p = args[i].split(":");
      int m = Integer.parseInt(p[1]);
      int n = Integer.parseInt(p[2]);
      INDArray a = read(Path.of(p[0]), m, n);
      mats.add(a);
      double t = median(reps, () -> {
        try (Svd.Result r = la.thinSvd(a, "bench")) {
          r.s().getDouble(0); // waits for the device
        }
      });
      double error;
      try (Svd.Result r = la.thinSvd(a, "bench"); INDArray us = r.u().mulRowVector(r.s()); INDArray back = la.mmul(us, r.vt())) {
        error = back.subi(a).norm2Number().doubleValue() / a.norm2Number().doubleValue();
        if (sOut != null) {
          writeDoubles(Path.of(sOut, "s-" + m + "x" + n + ".f64"), r.s().toDoubleVector());
        }
      }
      System.out.printf(Locale.ROOT, "%dx%d %.3f %.2e%n", m, n, t, error);
    }
    if (!Boolean.parseBoolean(System.getProperty("svdbench.layer", "true"))) {
      return;
    }
    // iso_cts on one layer: three distinct task vectors of the last matrix's shape, base zero
    INDArray a = mats.get(mats.size() - 1);
    long[] shape = a.shape();
    INDArray base = Nd4j.zeros(DataType.FLOAT, shape);
    Nd4j.getRandom().setSeed(1);
    INDArray[] models = {a, Nd4j.randn(DataType.FLOAT, shape), Nd4j.randn(DataType.FLOAT, shape).addi(a.mul(0.5))};
    var method = MethodRegistry.get("iso_cts");
    var r = ParameterResolver.resolve(method, "bench.layer", 0, Map.of(), List.of(Map.of(), Map.of(), Map.of()), Map.of(), Map.of());
    TensorMergeContext ctx = new TensorMergeContext("bench.layer", shape, DataType.FLOAT, 1, true, r.global(), r.perModel());
    long t0 = System.nanoTime();
    try (TensorMerge tm = method.begin(ctx); INDArray out = tm.merge(new TensorChunk(0, 0, base, models))) {
      out.getDouble(0);
    }
    System.out.printf(Locale.ROOT, "iso_cts %dx%d %.3f%n", shape[0], shape[1], (System.nanoTime() - t0) / 1e9);
  }

  /** Through a float[] so that any backend (CUDA's device copy too) gets the values. */
  static INDArray read(Path file, int m, int n) throws IOException {
    float[] f = new float[m * n];
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer b = ByteBuffer.allocate(m * n * 4).order(ByteOrder.LITTLE_ENDIAN);
      while (b.hasRemaining() && ch.read(b) >= 0) {
        // read fully
      }
      b.flip();
      b.asFloatBuffer().get(f);
    }
    return Nd4j.create(f, new long[] {m, n}, 'c');
  }

  static void writeDoubles(Path file, double[] v) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asDoubleBuffer().put(v);
    java.nio.file.Files.write(file, b.array());
  }

  static double median(int reps, Runnable r) {
    r.run();
    double[] t = new double[reps];
    for (int i = 0; i < reps; i++) {
      long t0 = System.nanoTime();
      r.run();
      t[i] = (System.nanoTime() - t0) / 1e9;
    }
    java.util.Arrays.sort(t);
    return t[reps / 2];
  }
}
