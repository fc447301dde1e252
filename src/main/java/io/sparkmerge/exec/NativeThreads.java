package io.sparkmerge.exec;

import org.nd4j.linalg.factory.Nd4j;

/**
 * Sizes ND4J's and OpenBLAS's native thread pools to the cores a Spark task owns
 * ({@code spark.task.cpus}, default 1). Without it every concurrent task would start one native
 * thread per core and the tasks of an executor would oversubscribe the machine (stack-notes: a
 * round of two 2-thread SVDs on 2 cores took ~5 s vs ~1.5 s with one thread each). On the CUDA
 * backend it also binds the task's thread to the task's GPU ({@link TaskDevice}).
 *
 * <p>Loading ND4J's native backend costs seconds of CPU (issue 17: 14 % of a {@code tiny} linear merge's
 * samples), and a merge that takes the fused element-wise pass never uses ND4J: such a stage only
 * {@link #request}s the sizes at task start, and the chunk path calls {@link #ready} before ND4J's first use.
 */
public final class NativeThreads {
  private static int current = -1;
  /** The task thread's requested size, until {@link #ready} applies it. */
  private static final ThreadLocal<Integer> REQUESTED = new ThreadLocal<>();

  private NativeThreads() {}

  /** Records the task's thread count without loading ND4J; {@link #ready} applies it on this thread. */
  public static void request(int threads) {
    REQUESTED.set(threads);
  }

  /** Applies this thread's {@link #request}, once (ND4J loads now); a no-op without one (outside a task). */
  public static void ready() {
    Integer n = REQUESTED.get();
    if (n != null) {
      REQUESTED.remove();
      use(n);
    }
  }

  public static synchronized void use(int threads) {
    TaskDevice.bind(); // per thread, so before the pool sizes' early return
    int n = Math.max(1, threads);
    if (n == current) {
      return;
    }
    Nd4j.getEnvironment().setMaxMasterThreads(n);
    Nd4j.getEnvironment().setMaxThreads(n);
    if (io.sparkmerge.math.LinearAlgebra.cpuBackend()) { // OpenBLAS is the CPU backend's BLAS
      org.bytedeco.openblas.global.openblas.blas_set_num_threads(n);
    }
    current = n;
  }
}
