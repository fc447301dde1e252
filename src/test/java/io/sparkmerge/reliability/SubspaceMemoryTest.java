package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.job.SubspaceMergeJobTest;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.ChildJvm;
import io.sparkmerge.testing.PeakMemory;
import io.sparkmerge.testing.PolarReference;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17: the SVD methods' executor memory is within (models + 3) × the largest 2-D tensor in the
 * compute dtype + 1 GiB. iso_cts merges base + 3 fine-tunes whose largest tensor is 393 216 × 64
 * (96 MiB in float32; tall and thin so that its six SVDs take seconds) in {@code local[1]} in a child
 * JVM given that bound: a 512 MiB heap, the rest off-heap (JavaCPP's maxBytes; maxPhysicalBytes the whole
 * bound). ND4J 1.0.0-M2.1 allocates its CPU buffers in libnd4j, not through JavaCPP's counted
 * allocations ({@link org.bytedeco.javacpp.Pointer#totalBytes} stays 0), and LAPACK mallocs its own
 * workspace, so those caps do not bind them: the test asserts the child's peak resident set, sampled
 * every 2 ms ({@link PeakMemory}), against the bound. Before issue 17 this merge peaked at 2004 MiB
 * (bound 1600 MiB); docs/benchmarks.md has the figures. The output is checked against the Jacobi
 * reference on a small tensor and, on the big one, by the structure of Iso-CTS's update (a flat
 * spectrum: its columns orthogonal with one common norm).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SubspaceMemoryTest {
  static final int TASKS = 3;
  static final String BIG = "model.layers.0.mlp.down_proj.weight";
  static final String SMALL = "model.layers.0.self_attn.q_proj.weight";
  static final long[] BIG_SHAPE = {393216, 64};
  static final long[] SMALL_SHAPE = {48, 32};
  static final long TENSOR = BIG_SHAPE[0] * BIG_SHAPE[1] * 4; // float32
  static final long MIB = 1L << 20;
  static final long HEAP = 512 * MIB;
  /** (models + 3) × the largest 2-D tensor + 1 GiB. */
  static final long BOUND = (TASKS + 3) * TENSOR + 1024 * MIB;
  static final double LAMBDA = 0.9;

  @TempDir static Path family;
  @TempDir Path work;
  static List<Path> dirs = new ArrayList<>();

  @BeforeAll
  static void generate() throws IOException {
    Map<String, long[]> tensors = new LinkedHashMap<>();
    tensors.put(BIG, BIG_SHAPE);
    tensors.put(SMALL, SMALL_SHAPE);
    tensors.put("model.norm.weight", new long[] {64});
    for (int m = 0; m <= TASKS; m++) {
      dirs.add(family.resolve(m == 0 ? "base" : "ft-" + m));
      writeModel(dirs.get(m), m, tensors);
    }
  }

  @Test
  void isoCtsRunsWithinTheBoundAndIsCorrect() throws Exception {
    Path out = work.resolve("out");
    String log = merge("iso_cts", out, BOUND);
    assertTrue(log.startsWith("0\n") && log.contains(PeakMemory.PREFIX), ExecutorMemoryTest.tail(log));
    long offHeap = PeakMemory.parse(log, "offheap");
    long rss = PeakMemory.parse(log, "rss");
    System.out.printf("iso_cts, bound %d MiB: peak RSS %d MiB, heap %d MiB, JavaCPP off-heap %d MiB; tensor %d MiB; %s%n",
        BOUND / MIB, rss / MIB, PeakMemory.parse(log, "heap") / MIB, offHeap / MIB, TENSOR / MIB, log.lines().filter(
            l -> l.contains("merged") || l.contains("wall")).findFirst().orElse(""));
    assertTrue(rss <= BOUND, "RSS " + rss + " > bound " + BOUND);

    String outDir = out.toString();
    // the small tensor: Iso-CTS on independent linear algebra (one-sided Jacobi SVD, Newton polar factor)
    int m = (int) SMALL_SHAPE[0];
    int n = (int) SMALL_SHAPE[1];
    double[] baseSmall = Checkpoints.tensor(dirs.get(0).toString(), SMALL);
    double[][][] tau = new double[TASKS][][];
    for (int t = 0; t < TASKS; t++) {
      double[] d = Checkpoints.tensor(dirs.get(t + 1).toString(), SMALL);
      for (int i = 0; i < d.length; i++) {
        d[i] -= baseSmall[i];
      }
      tau[t] = PolarReference.reshape(d, m, n);
    }
    double[] upd = PolarReference.flatten(SubspaceMergeJobTest.isoCtsUpdate(tau, 0.8));
    double[] ref = baseSmall.clone();
    for (int i = 0; i < ref.length; i++) {
      ref[i] += LAMBDA * upd[i];
    }
    double err = Checkpoints.relError(Checkpoints.tensor(outDir, SMALL), ref);
    assertTrue(err <= 1e-5, SMALL + ": " + err);
    // the big tensor: M = (θ − θ₀)/λ = s̄·P, P with orthonormal columns: MᵀM = s̄²·I on sampled columns
    double[] mBig = Checkpoints.tensor(outDir, BIG);
    double[] b = Checkpoints.tensor(dirs.get(0).toString(), BIG);
    for (int i = 0; i < mBig.length; i++) {
      mBig[i] = (mBig[i] - b[i]) / LAMBDA;
    }
    int cols = (int) BIG_SHAPE[1];
    double s2 = column(mBig, cols, 0, 0);
    assertTrue(s2 > 0, "a zero update");
    for (int j = 0; j < cols; j += 7) {
      assertEquals(1.0, column(mBig, cols, j, j) / s2, 1e-3, BIG + ": column " + j + "'s norm");
      assertEquals(0.0, column(mBig, cols, j, (j + 61) % cols) / s2, 1e-3, BIG + ": columns " + j + ", " + (j + 61) % cols);
    }
  }

  /**
   * The bound is tight enough to mean something: with a budget 2 tensors below it the same merge exceeds
   * its budget (a resident set above it, or JavaCPP's OutOfMemoryError). Out of the suite (a second child
   * JVM's minute): {@code -Dsparkmerge.test.tightBudget=true}.
   */
  @Test
  @EnabledIfSystemProperty(named = "sparkmerge.test.tightBudget", matches = "true")
  void isoCtsExceedsABudgetTwoTensorsBelowTheBound() throws Exception {
    long budget = BOUND - 2 * TENSOR;
    String log = merge("iso_cts", work.resolve("tight"), budget);
    long rss = PeakMemory.parse(log, "rss");
    System.out.printf("iso_cts, budget %d MiB: exit %s, peak RSS %d MiB%n", budget / MIB, log.substring(0, log.indexOf('\n')),
        rss / MIB);
    assertTrue(rss > budget || log.contains("OutOfMemoryError"), ExecutorMemoryTest.tail(log));
  }

  /** Runs {@code method} in a child JVM with the budget {@code bytes} (heap + off-heap); the log. */
  static String merge(String method, Path out, long bytes) throws IOException, InterruptedException {
    StringBuilder yaml = new StringBuilder("merge_method: " + method + "\nbase_model: " + dirs.get(0) + "\nmodels:\n");
    for (int t = 1; t <= TASKS; t++) {
      yaml.append("  - model: ").append(dirs.get(t)).append('\n');
    }
    yaml.append("parameters: {lambda: ").append(LAMBDA).append("}\ndtype: float32\n");
    Path cfg = out.resolveSibling(out.getFileName() + ".yml");
    Files.writeString(cfg, yaml);
    File log = out.resolveSibling(out.getFileName() + ".log").toFile();
    List<String> options = new ArrayList<>();
    if (!Boolean.getBoolean("sparkmerge.test.unbounded")) { // unbounded: measure only
      options.add("-Dorg.bytedeco.javacpp.maxBytes=" + (bytes - HEAP));
      options.add("-Dorg.bytedeco.javacpp.maxPhysicalBytes=" + bytes);
    }
    Process p = ChildJvm.start(HEAP / MIB + "m", options, PeakMemory.class.getName(),
        List.of("merge", cfg.toString(), out.toString(), "--master", "local[1]"), log);
    boolean done = p.waitFor(240, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly().waitFor();
    }
    String text = Files.readString(log.toPath());
    assertTrue(done, "merged within the time limit:\n" + ExecutorMemoryTest.tail(text));
    return p.exitValue() + "\n" + text;
  }

  /** Σ_i M[i, a]·M[i, b] of a row-major matrix with {@code cols} columns. */
  static double column(double[] m, int cols, int a, int b) {
    double s = 0;
    for (int i = a; i < m.length; i += cols) {
      s += m[i] * m[i - a + b];
    }
    return s;
  }

  /** A single-file BF16 model: a cheap per-element hash of (model, tensor, index), fine-tunes ≈ base + noise. */
  static void writeModel(Path dir, int model, Map<String, long[]> tensors) throws IOException {
    ExecutorMemoryTest.writeBf16(dir, tensors, (name, i) -> {
      long key = name.hashCode() * 0xBF58476D1CE4E5B9L;
      float v = noise(i + key) * 0.04f;
      return model == 0 ? v : v + noise(i + key + model * 0x94D049BB133111EBL) * 0.004f;
    });
  }

  private static float noise(long x) {
    long h = x * 0x9E3779B97F4A7C15L;
    h ^= h >>> 31;
    h *= 0xBF58476D1CE4E5B9L;
    h ^= h >>> 29;
    return (h >>> 40) / (float) (1 << 24) - 0.5f;
  }
}
