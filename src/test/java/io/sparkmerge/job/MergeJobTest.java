package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.ReferenceMerges;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The merge job end to end in local[2,4] on a generated family, against in-test reference merges. */
class MergeJobTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;
  static Map<String, double[]> base;
  static Map<String, double[]> ft1;
  static Map<String, double[]> ft2;

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 7, 2);
    base = Checkpoints.read(dirs.get(0).toString());
    ft1 = Checkpoints.read(dirs.get(1).toString());
    ft2 = Checkpoints.read(dirs.get(2).toString());
  }

  @AfterEach
  void clearFaults() {
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.failPartition");
    SparkTestSession.get().conf().unset("spark.sparkmerge.test.failAttempts");
  }

  private MergeConfig config(String body) {
    return Configs.parse(body, dirs);
  }

  private MergeJob.Outcome run(MergeConfig cfg, String out, int partitions, boolean overwrite) throws IOException {
    SparkSession spark = SparkTestSession.get();
    return MergeJob.run(spark, cfg, new MergeJob.Options(out, overwrite, partitions, new PrintStream(new ByteArrayOutputStream())));
  }

  static final String TIES = """
      merge_method: ties
      base_model: BASE
      models:
        - model: FT1
          parameters: {weight: 0.7, density: 0.3}
        - model: FT2
          parameters: {weight: 0.5, density: 0.6}
      parameters: {lambda: 0.9}
      compute_dtype: COMPUTE
      seed: 5
      """;

  @Test
  void tiesMatchesReferenceInFloat64AndFloat32() throws IOException {
    for (String compute : new String[] {"float64", "float32"}) {
      String out = work.resolve("ties-" + compute).toString();
      run(config(TIES.replace("COMPUTE", compute)), out, 2, false);
      Map<String, double[]> got = Checkpoints.read(out);
      assertEquals(base.keySet(), got.keySet());
      for (String name : base.keySet()) {
        double[] ref = ReferenceMerges.ties(base.get(name), new double[][] {ft1.get(name), ft2.get(name)},
            new double[] {0.7, 0.5}, new double[] {0.3, 0.6}, 0.9, true, compute.equals("float32"));
        double err = Checkpoints.relError(got.get(name), ref);
        assertTrue(err <= 1e-5, compute + " " + name + " differs from the reference by " + err);
      }
    }
  }

  @Test
  void linearAndTaskArithmeticMatchReference() throws IOException {
    String out = work.resolve("linear").toString();
    run(config("""
        merge_method: linear
        models:
          - model: FT1
            parameters: {weight: 2.0}
          - model: FT2
            parameters: {weight: 1.0}
        """), out, 1, false);
    Map<String, double[]> got = Checkpoints.read(out);
    for (String name : base.keySet()) {
      double[] ref = ReferenceMerges.linear(new double[][] {ft1.get(name), ft2.get(name)}, new double[] {2, 1}, true);
      assertTrue(Checkpoints.relError(got.get(name), ref) <= 1e-5, name);
    }
    String out2 = work.resolve("ta").toString();
    run(config("""
        merge_method: task_arithmetic
        base_model: BASE
        models:
          - model: FT1
            parameters: {weight: [0.2, 1.0]}
          - model: FT2
            parameters: {weight: 0.5}
        parameters: {lambda: 1.5}
        """), out2, 3, false);
    Map<String, double[]> got2 = Checkpoints.read(out2);
    for (String name : base.keySet()) {
      double t = new io.sparkmerge.plan.LayerPositions(base.keySet()).position(name);
      double w1 = 0.2 + 0.8 * t;
      double[] ref = ReferenceMerges.taskArithmetic(base.get(name), new double[][] {ft1.get(name), ft2.get(name)},
          new double[] {w1, 0.5}, 1.5);
      assertTrue(Checkpoints.relError(got2.get(name), ref) <= 1e-5, name + " at t=" + t);
    }
  }

  @Test
  void sameTensorsWhateverThePartitioningAndRetries() throws IOException {
    String yaml = """
        merge_method: dare_ties
        base_model: BASE
        models:
          - model: FT1
            parameters: {weight: 0.6, density: 0.4}
          - model: FT2
            parameters: {weight: 0.6, density: 0.5}
        dtype: bfloat16
        seed: 11
        """;
    Map<String, byte[]> first = null;
    for (int p : new int[] {1, 3, 7}) {
      String out = work.resolve("dare-" + p).toString();
      MergeJob.Outcome o = run(config(yaml), out, p, false);
      assertEquals(p, o.plan().shards().size(), "shards for --partitions " + p);
      Map<String, byte[]> got = Checkpoints.rawBytes(out);
      if (first == null) {
        first = got;
      } else {
        assertEquals(first.keySet(), got.keySet());
        for (String n : first.keySet()) {
          assertArrayEquals(first.get(n), got.get(n), n + " with --partitions " + p);
        }
      }
    }
    // A task that fails on its first attempt (after writing half its shard) gives the same bytes.
    SparkTestSession.get().conf().set("spark.sparkmerge.test.failPartition", "1");
    SparkTestSession.get().conf().set("spark.sparkmerge.test.failAttempts", "1");
    String out = work.resolve("dare-retry").toString();
    run(config(yaml), out, 3, false);
    Map<String, byte[]> retried = Checkpoints.rawBytes(out);
    for (String n : first.keySet()) {
      assertArrayEquals(first.get(n), retried.get(n), n + " after a retry");
    }
    assertEquals(0, new File(out).listFiles(f -> f.getName().startsWith("_staging") || f.getName().contains("attempt")).length,
        "no staging or attempt files left in OUT");
    assertEquals(List.of(), io.sparkmerge.testing.WorkDirs.leftovers(java.nio.file.Path.of(out)),
        "the losing attempt and the run's scratch are gone from the work directory");
  }

  @Test
  void outputLayoutIndexManifestAndCopiedFiles() throws IOException {
    String out = work.resolve("layout").toString();
    run(config(TIES.replace("COMPUTE", "float32")), out, 3, false);
    File dir = new File(out);
    for (String f : new String[] {"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
        "model-00003-of-00003.safetensors", "model.safetensors.index.json", "sparkmerge.json", "README.md", "config.json",
        "generation_config.json", "_SUCCESS"}) {
      assertTrue(new File(dir, f).isFile(), "missing " + f);
    }
    assertEquals(List.of(), List.of(dir.list((d, n) -> n.startsWith("."))), "no hidden side files (.crc) in OUT");
    ObjectMapper json = new ObjectMapper();
    JsonNode index = json.readTree(new File(dir, "model.safetensors.index.json"));
    JsonNode manifest = json.readTree(new File(dir, "sparkmerge.json"));
    long total = 0;
    var fields = manifest.get("tensors").fields();
    int count = 0;
    while (fields.hasNext()) {
      var e = fields.next();
      total += e.getValue().get("bytes").asLong();
      assertEquals(index.get("weight_map").get(e.getKey()).asText(), e.getValue().get("file").asText());
      assertEquals(64, e.getValue().get("sha256").asText().length());
      count++;
    }
    assertEquals(base.size() + 1, count, "every tensor, including the integer one, is in the manifest");
    assertEquals(total, index.get("metadata").get("total_size").asLong());
    assertEquals("ties", manifest.get("resolved").get("merge_method").asText());
    assertEquals(3, manifest.get("inputs").size());
    // the integer tensor is copied from the base unchanged
    assertArrayEquals(Checkpoints.rawBytes(dirs.get(0).toString()).get("model.embed_positions.position_ids"),
        Checkpoints.rawBytes(out).get("model.embed_positions.position_ids"));
    assertTrue(Files.readString(dir.toPath().resolve("README.md")).contains("merge_method: ties"));
  }

  @Test
  void failedJobLeavesOutAsItWas() throws IOException {
    SparkTestSession.get().conf().set("spark.sparkmerge.test.failPartition", "0");
    SparkTestSession.get().conf().set("spark.sparkmerge.test.failAttempts", "100");
    // OUT does not exist: it still does not after the failure
    String fresh = work.resolve("never").toString();
    assertThrows(Exception.class, () -> run(config(TIES.replace("COMPUTE", "float32")), fresh, 2, false));
    assertFalse(new File(fresh).exists(), "a failed run must not leave " + fresh);
    // OUT exists with an old model: --overwrite and a failure leave the old model untouched
    Path old = work.resolve("old");
    Files.createDirectories(old);
    Files.writeString(old.resolve("model.safetensors"), "old model");
    Files.writeString(old.resolve("_SUCCESS"), "");
    assertThrows(Exception.class, () -> run(config(TIES.replace("COMPUTE", "float32")), old.toString(), 2, true));
    assertEquals("old model", Files.readString(old.resolve("model.safetensors")));
    assertTrue(Files.exists(old.resolve("_SUCCESS")));
    assertEquals(2, old.toFile().list().length, "nothing else left in OUT: " + List.of(old.toFile().list()));
  }

  @Test
  void existingOutputNeedsOverwrite() throws IOException {
    Path old = work.resolve("exists");
    Files.createDirectories(old);
    Files.writeString(old.resolve("keep.txt"), "x");
    io.sparkmerge.OutputExistsException e = assertThrows(io.sparkmerge.OutputExistsException.class,
        () -> run(config(TIES.replace("COMPUTE", "float32")), old.toString(), 1, false));
    assertEquals(4, e.exitCode());
    assertTrue(e.getMessage().contains("--overwrite"));
    run(config(TIES.replace("COMPUTE", "float32")), old.toString(), 1, true);
    assertFalse(Files.exists(old.resolve("keep.txt")), "--overwrite replaces the old contents");
    assertTrue(Files.exists(old.resolve("model.safetensors")), "one shard is named model.safetensors");
    assertFalse(Files.exists(old.resolve("model.safetensors.index.json")), "no index for a single shard");
  }

  @Test
  void slerpWithALayerGradientAndModelStockThroughSpark() throws IOException {
    String out = work.resolve("slerp").toString();
    run(config("""
        merge_method: slerp
        base_model: BASE
        models:
          - model: BASE
          - model: FT1
        parameters:
          t:
            - filter: self_attn
              value: [0.0, 1.0]
            - value: 0.25
        """), out, 3, false);
    Map<String, double[]> got = Checkpoints.read(out);
    io.sparkmerge.plan.LayerPositions pos = new io.sparkmerge.plan.LayerPositions(base.keySet());
    for (String name : base.keySet()) {
      double t = name.contains("self_attn") ? pos.position(name) : 0.25;
      double[] ref = io.sparkmerge.method.InterpolationMethodsTest.slerpReference(t, base.get(name), ft1.get(name));
      assertTrue(Checkpoints.relError(got.get(name), ref) <= 1e-5, name + " at t=" + t);
    }
    String out2 = work.resolve("stock").toString();
    run(config("""
        merge_method: model_stock
        base_model: BASE
        models:
          - model: FT1
          - model: FT2
        """), out2, 2, false);
    Map<String, double[]> got2 = Checkpoints.read(out2);
    for (String name : base.keySet()) {
      double[] b = base.get(name);
      double[] t1 = new double[b.length];
      double[] t2 = new double[b.length];
      for (int i = 0; i < b.length; i++) {
        t1[i] = ft1.get(name)[i] - b[i];
        t2[i] = ft2.get(name)[i] - b[i];
      }
      double cos = io.sparkmerge.method.InterpolationMethodsTest.cosine(t1, t2);
      double t = 2 * cos / (1 + cos);
      double[] ref = new double[b.length];
      for (int i = 0; i < b.length; i++) {
        ref[i] = t * (ft1.get(name)[i] + ft2.get(name)[i]) / 2 + (1 - t) * b[i];
      }
      assertTrue(Checkpoints.relError(got2.get(name), ref) <= 1e-5, name);
    }
  }

  @Test
  void isoCThroughSparkMatchesTheSvdFreeReference() throws IOException {
    String out = work.resolve("isoc").toString();
    run(config("""
        merge_method: iso_c
        base_model: BASE
        models:
          - model: FT1
          - model: FT2
        parameters: {lambda: 0.7}
        """), out, 3, false);
    Map<String, double[]> got = Checkpoints.read(out);
    var dir = io.sparkmerge.io.ModelDirectory.open(Checkpoints.localFs(), dirs.get(0));
    for (String name : base.keySet()) {
      long[] shape = dir.tensors().get(name).shape();
      double[] b = base.get(name);
      double[] delta = new double[b.length];
      for (int i = 0; i < b.length; i++) {
        delta[i] = ft1.get(name)[i] + ft2.get(name)[i] - 2 * b[i];
      }
      double[] ref = new double[b.length];
      if (shape.length == 2) {
        double[][] d = io.sparkmerge.testing.PolarReference.reshape(delta, (int) shape[0], (int) shape[1]);
        double[][] p = io.sparkmerge.testing.PolarReference.polar(d);
        double mean = io.sparkmerge.testing.PolarReference.nuclearNorm(d, p) / Math.min(shape[0], shape[1]);
        double[] pf = io.sparkmerge.testing.PolarReference.flatten(p);
        for (int i = 0; i < b.length; i++) {
          ref[i] = b[i] + 0.7 * mean * pf[i];
        }
      } else {
        for (int i = 0; i < b.length; i++) {
          ref[i] = b[i] + 0.7 * delta[i] / 2;
        }
      }
      assertTrue(Checkpoints.relError(got.get(name), ref) <= 1e-4, name + ": " + Checkpoints.relError(got.get(name), ref));
    }
  }

  @Test
  void subspacesJobWritesTablesAndPlots() throws IOException {
    String out = work.resolve("subspaces").toString();
    MergeConfig cfg = config("""
        merge_method: iso_c
        base_model: BASE
        models:
          - model: FT1
          - model: FT2
        """);
    var reports = SubspacesJob.run(SparkTestSession.get(), cfg,
        new SubspacesJob.Options(out, false, 16, 4, "layers.0.", 3, new PrintStream(new ByteArrayOutputStream())));
    long matrices = base.keySet().stream().filter(n -> !n.endsWith("layernorm.weight") && !n.equals("model.norm.weight")).count();
    assertEquals(matrices, reports.size());
    var spark = SparkTestSession.get();
    assertEquals(matrices * 3, spark.read().parquet(out + "/summary.parquet").count(), "Δ + 2 task vectors per tensor");
    assertEquals(matrices, spark.read().parquet(out + "/overlap.parquet").count(), "one pair per tensor");
    assertTrue(Files.readString(Path.of(out, "summary.csv")).lines().count() == matrices * 3 + 1);
    File[] plots = new File(out, "plots").listFiles();
    assertEquals(3, plots.length);
    for (File p : plots) {
      assertTrue(p.length() > 1000, p + " is a real PNG");
    }
    assertTrue(new File(out, "_SUCCESS").exists());
    // the nuclear norm of Δ equals trace(Pᵀ Δ) from the SVD-free polar reference
    String name = "model.layers.1.mlp.down_proj.weight";
    var dir = io.sparkmerge.io.ModelDirectory.open(Checkpoints.localFs(), dirs.get(0));
    long[] shape = dir.tensors().get(name).shape();
    double[] delta = new double[base.get(name).length];
    for (int i = 0; i < delta.length; i++) {
      delta[i] = ft1.get(name)[i] + ft2.get(name)[i] - 2 * base.get(name)[i];
    }
    double[][] d = io.sparkmerge.testing.PolarReference.reshape(delta, (int) shape[0], (int) shape[1]);
    double nuclear = io.sparkmerge.testing.PolarReference.nuclearNorm(d, io.sparkmerge.testing.PolarReference.polar(d));
    var rep = reports.stream().filter(r -> r.tensor().equals(name)).findFirst().orElseThrow();
    assertEquals(nuclear, rep.spectra().get(0).nuclearNorm(), 1e-4 * nuclear);
    for (var ov : rep.overlaps()) {
      assertTrue(ov.overlap() >= 0 && ov.overlap() <= 1 + 1e-9, "overlap in [0, 1]: " + ov.overlap());
    }
  }
}
