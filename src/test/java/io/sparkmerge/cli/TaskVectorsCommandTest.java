package io.sparkmerge.cli;

import io.sparkmerge.config.ConfigLoader;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.io.DType;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.io.TensorInfo;
import io.sparkmerge.job.TaskVectorsJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sparkmerge task-vectors} through the real Spark job: the dense τ is float32(x − b) of every
 * entry; the sparse one holds exactly Localize-and-Stitch's top-s entries (checked by an exact sort)
 * with the exact differences (F64 for an F32 model), so expanding it (zeros elsewhere) gives x − b
 * at the kept entries bit for bit.
 */
class TaskVectorsCommandTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;
  static Map<String, double[]> base;
  static Map<String, double[]> ft;

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 11, 1);
    base = Checkpoints.read(dirs.get(0).toString());
    ft = Checkpoints.read(dirs.get(1).toString());
  }

  private String run(String name, Double density, String scope, int partitions, ByteArrayOutputStream console) throws IOException {
    String out = work.resolve(name).toString();
    TaskVectorsJob.run(SparkTestSession.get(), TaskVectorsCommand.config(dirs.get(0).toString(), dirs.get(1).toString(),
        density == null ? 1.0 : density, scope), new TaskVectorsJob.Options(out, false, density, scope, partitions,
        new PrintStream(console, true, StandardCharsets.UTF_8)));
    return out;
  }

  /** |τ| at float32, as Localize-and-Stitch compares magnitudes in float32. */
  static double key(double x, double b) {
    return (float) Math.abs(x - b);
  }

  /** The k-th largest key, k = max(1, floor(s·n)), by a sort. */
  static double kth(double[] keys, double s) {
    double[] v = keys.clone();
    Arrays.sort(v);
    return v[(int) (v.length - Math.max(1, (long) Math.floor(s * v.length)))];
  }

  /** A sparse τ checkpoint expanded to dense float arrays (zeros where nothing is stored), from its header metadata. */
  static Map<String, double[]> expand(String dir) throws IOException {
    ModelDirectory md = ModelDirectory.open(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(dir));
    Map<String, byte[]> raw = Checkpoints.rawBytes(dir);
    Map<String, double[]> out = new LinkedHashMap<>();
    for (SafetensorsHeader h : md.headers()) {
      assertEquals("sparkmerge-task-vector", h.metadata().get("format"));
      for (String key : h.metadata().keySet()) {
        if (!key.endsWith(".shape")) {
          continue;
        }
        String name = key.substring(0, key.length() - ".shape".length());
        long[] shape = Arrays.stream(h.metadata().get(key).replaceAll("[\\[\\] ]", "").split(",")).mapToLong(Long::parseLong).toArray();
        assertEquals("F32", h.metadata().get(name + ".dtype"));
        TensorInfo idx = md.tensors().get(name + TaskVectorsJob.INDICES);
        assertEquals(DType.I32, idx.dtype());
        assertEquals(DType.F64, md.tensors().get(name + TaskVectorsJob.VALUES).dtype()); // τ of an F32 model, exact
        ByteBuffer ib = ByteBuffer.wrap(raw.get(name + TaskVectorsJob.INDICES)).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer vb = ByteBuffer.wrap(raw.get(name + TaskVectorsJob.VALUES)).order(ByteOrder.LITTLE_ENDIAN);
        double[] dense = new double[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        int last = -1;
        while (ib.hasRemaining()) {
          int i = ib.getInt();
          assertTrue(i > last, name + ": indices are increasing");
          last = i;
          dense[i] = vb.getDouble();
        }
        out.put(name, dense);
      }
    }
    return out;
  }

  @Test
  void denseAndSparseTaskVectorsRoundTripExactly() throws IOException {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    String dense = run("dense", null, "global", 2, console);
    assertTrue(console.toString(StandardCharsets.UTF_8).contains("storage ratio 1.0000"), console.toString(StandardCharsets.UTF_8));
    Map<String, double[]> tau = Checkpoints.read(dense);
    assertEquals(base.keySet(), tau.keySet());
    for (String name : base.keySet()) {
      float[] want = new float[base.get(name).length];
      for (int i = 0; i < want.length; i++) {
        want[i] = (float) (ft.get(name)[i] - base.get(name)[i]);
        assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits((float) tau.get(name)[i]), name + "[" + i + "]");
      }
    }

    for (String scope : new String[] {"global", "tensor"}) {
      console.reset();
      String sparse = run("sparse-" + scope, 0.01, scope, 3, console);
      String log = console.toString(StandardCharsets.UTF_8);
      Map<String, double[]> got = expand(sparse);
      assertEquals(base.keySet(), got.keySet());
      // the kept set by an exact sort of |τ| (ties at the threshold kept), global or per tensor
      List<Double> all = new ArrayList<>();
      base.forEach((n, b) -> {
        for (int i = 0; i < b.length; i++) {
          all.add(key(ft.get(n)[i], b[i]));
        }
      });
      double globalThr = kth(all.stream().mapToDouble(Double::doubleValue).toArray(), 0.01);
      long kept = 0;
      long total = 0;
      for (String name : base.keySet()) {
        double[] b = base.get(name);
        double[] keys = new double[b.length];
        for (int i = 0; i < b.length; i++) {
          keys[i] = key(ft.get(name)[i], b[i]);
        }
        double thr = scope.equals("global") ? globalThr : kth(keys, 0.01);
        double[] want = new double[b.length];
        for (int i = 0; i < b.length; i++) {
          if (keys[i] >= thr) {
            want[i] = ft.get(name)[i] - b[i]; // exact: the model is rebuilt bit for bit as base + value
            assertEquals(ft.get(name)[i], (double) (float) (b[i] + got.get(name)[i]), name + "[" + i + "]");
            kept++;
          }
        }
        total += b.length;
        assertArrayEquals(want, got.get(name), scope + ": " + name);
      }
      // I32 index + F64 value per kept entry, against the F32 model's 4 bytes per entry
      assertTrue(log.contains(String.format(java.util.Locale.ROOT, "storage ratio %.4f", kept * 12.0 / (total * 4))), log);
      assertTrue(!log.contains("rounded"), log);
    }
  }

  @Test
  void stitchFromOnePercentSparseTaskVectorsEqualsTheDenseOneBitwise() throws IOException {
    List<org.apache.hadoop.fs.Path> fam = Checkpoints.tinyFamily(work.resolve("fam"), 13, 2);
    String b = fam.get(0).toString();
    List<String> taus = new ArrayList<>();
    for (int t = 1; t <= 2; t++) {
      String out = work.resolve("tau" + t).toString();
      TaskVectorsJob.run(SparkTestSession.get(), TaskVectorsCommand.config(b, fam.get(t).toString(), 0.01, "global"),
          new TaskVectorsJob.Options(out, false, 0.01, "global", 2, new PrintStream(new ByteArrayOutputStream())));
      taus.add(out);
    }
    String yaml = """
        merge_method: localize_stitch
        base_model: "%s"
        models:
          - model: "%s"TV
          - model: "%s"TV
        parameters: {sparsity: 0.01, mask_scope: global}
        """;
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    String dense = work.resolve("from-checkpoints").toString();
    String sparse = work.resolve("from-task-vectors").toString();
    io.sparkmerge.job.MergeJob.run(SparkTestSession.get(), ConfigLoader.parse(
        yaml.formatted(b, fam.get(1), fam.get(2)).replace("TV", ""), "dense.yml"), new io.sparkmerge.job.MergeJob.Options(dense, false, 2, quiet));
    io.sparkmerge.job.MergeJob.run(SparkTestSession.get(), ConfigLoader.parse(
        yaml.formatted(b, taus.get(0), taus.get(1)).replace("TV", "\n    task_vector: true"), "sparse.yml"),
        new io.sparkmerge.job.MergeJob.Options(sparse, false, 3, quiet));
    Map<String, byte[]> x = Checkpoints.rawBytes(dense);
    Map<String, byte[]> y = Checkpoints.rawBytes(sparse);
    assertEquals(x.keySet(), y.keySet());
    for (String name : x.keySet()) {
      assertArrayEquals(x.get(name), y.get(name), name + ": the stitch from sparse task vectors differs from the dense one");
    }
    // only methods that take τ as input accept task vectors
    io.sparkmerge.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(io.sparkmerge.ConfigException.class,
        () -> io.sparkmerge.job.MergeJob.run(SparkTestSession.get(), ConfigLoader.parse(yaml.formatted(b, taus.get(0), taus.get(1))
            .replace("TV", "\n    task_vector: true").replace("localize_stitch", "ties").replace("sparsity: 0.01, mask_scope: global",
            "density: 0.5"), "ties.yml"), new io.sparkmerge.job.MergeJob.Options(work.resolve("ties").toString(), false, 1, quiet)));
    assertTrue(e.getMessage().contains("task_vector") && e.getMessage().contains("models[0]"), e.getMessage());
  }
}
