package io.sparkmerge.bench;

import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.param.ParameterResolver;
import io.sparkmerge.method.TensorChunk;
import io.sparkmerge.method.TensorMerge;
import io.sparkmerge.method.TensorMergeContext;
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
 * Benchmark, not a test: the SVD as the subspace methods run it (LAPACKE sgesdd on ND4J buffers) on
 * raw float32 matrices written by bench/svd/run.sh, median of N after a warm-up; then one full
 * iso_cts "layer" (3 task vectors) on the first matrix size given. Args: threads reps file:m:n...
 */
public final class SvdBench {
  public static void main(String[] args) throws IOException {
    int threads = Integer.parseInt(args[0]);
    int reps = Integer.parseInt(args[1]);
    Nd4j.getEnvironment().setMaxMasterThreads(threads);
    org.bytedeco.openblas.global.openblas.blas_set_num_threads(threads);
    List<INDArray> mats = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      String[] p = args[i].split(":");
      int m = Integer.parseInt(p[1]);
      int n = Integer.parseInt(p[2]);
      INDArray a = read(Path.of(p[0]), m, n);
      mats.add(a);
      double t = median(reps, () -> {
        try (Svd.Result r = Svd.thin(a, "bench")) {
          r.s().getDouble(0);
        }
      });
      System.out.printf(Locale.ROOT, "%dx%d %.3f%n", m, n, t);
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

  static INDArray read(Path file, int m, int n) throws IOException {
    INDArray a = Nd4j.createUninitialized(DataType.FLOAT, m, n);
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer b = ByteBuffer.allocate(m * n * 4).order(ByteOrder.LITTLE_ENDIAN);
      while (b.hasRemaining() && ch.read(b) >= 0) {
        // read fully
      }
      b.flip();
      a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer().put(b.asFloatBuffer());
    }
    return a;
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
