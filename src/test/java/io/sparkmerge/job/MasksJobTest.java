package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.io.DType;
import io.sparkmerge.io.ModelDirectory;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.SmallCheckpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sparkmerge masks} through the real Spark job: a hand-worked case (masks, densities, Jaccard),
 * the masks of a tiny family against sort-based references (localize_stitch in both scopes, ties,
 * lewis), and the written BOOL checkpoints fed back as given masks of a localize_stitch merge.
 */
class MasksJobTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;
  static Map<String, double[]> base;
  static List<Map<String, double[]>> fts = new ArrayList<>();

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 7, 2);
    List<Map<String, double[]>> all = Checkpoints.readAll(dirs);
    base = all.get(0);
    fts.addAll(all.subList(1, all.size()));
  }

  private MasksJob.Outcome masks(String yaml, String name, int partitions) throws IOException {
    MergeConfig cfg = Configs.parse(yaml, dirs);
    return MasksJob.run(SparkTestSession.get(), cfg, new MasksJob.Options(work.resolve(name).toString(), false, partitions,
        new PrintStream(new ByteArrayOutputStream())));
  }

  /** The mask checkpoint of one model, as 0/1 per entry. */
  private Map<String, byte[]> maskOf(String out, String label) throws IOException {
    String dir = out + "/masks/" + label;
    ModelDirectory md = ModelDirectory.open(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(dir));
    md.tensors().values().forEach(t -> assertEquals(DType.BOOL, t.dtype(), t.name()));
    return Checkpoints.rawBytes(dir);
  }

  private static byte[] bytes(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return b;
  }

  @Test
  void handWorkedMasksDensitiesAndJaccard() throws IOException {
    // base 0, so τ = the model's values
    String b = SmallCheckpoints.write(work.resolve("hb"), DType.F32, List.of(
        new SmallCheckpoints.Tensor("w", new long[] {2, 4}, new double[8]),
        new SmallCheckpoints.Tensor("model.layers.0.v", new long[] {4}, new double[4])));
    String a = SmallCheckpoints.write(work.resolve("hA"), DType.F32, List.of(
        new SmallCheckpoints.Tensor("w", new long[] {2, 4}, new double[] {5, -1, 0.5, 4, 0, 0, 3, -2}),
        new SmallCheckpoints.Tensor("model.layers.0.v", new long[] {4}, new double[] {1, 1, 1, 1})));
    String c = SmallCheckpoints.write(work.resolve("hB"), DType.F32, List.of(
        new SmallCheckpoints.Tensor("w", new long[] {2, 4}, new double[] {0, -6, 0, 4.5, 1, 0, 0, 0}),
        new SmallCheckpoints.Tensor("model.layers.0.v", new long[] {4}, new double[] {0, 0, 0, 2})));
    String yaml = """
        merge_method: METHOD
        base_model: %s
        models:
          - model: %s
          - model: %s
        parameters: PARAMS
        """.formatted(b, a, c);
    // localize_stitch, per tensor, s = 0.25: k = max(1, floor(0.25·n)); ties at the threshold all kept
    MasksJob.Outcome ls = masks(yaml.replace("METHOD", "localize_stitch").replace("PARAMS", "{mask_scope: tensor, sparsity: 0.25}"),
        "ls", 1);
    String out = work.resolve("ls").toString();
    assertEquals(List.of("hA", "hB"), ls.labels());
    assertArrayEquals(bytes(1, 0, 0, 1, 0, 0, 0, 0), maskOf(out, "hA").get("w")); // 5, 4 (k = 2)
    assertArrayEquals(bytes(1, 1, 1, 1), maskOf(out, "hA").get("model.layers.0.v")); // k = 1, all tie at 1
    assertArrayEquals(bytes(0, 1, 0, 1, 0, 0, 0, 0), maskOf(out, "hB").get("w")); // 6, 4.5
    assertArrayEquals(bytes(0, 0, 0, 1), maskOf(out, "hB").get("model.layers.0.v"));
    Map<String, MasksJob.DensityRow> d = new LinkedHashMap<>();
    ls.density().forEach(r -> d.put(r.tensor() + "/" + r.model(), r));
    assertEquals(new MasksJob.DensityRow("w", -1, "hA", "localize_stitch", 8, 2, 0.25), d.get("w/hA"));
    assertEquals(new MasksJob.DensityRow("model.layers.0.v", 0, "hA", "localize_stitch", 4, 4, 1.0), d.get("model.layers.0.v/hA"));
    assertEquals(new MasksJob.DensityRow("model.layers.0.v", 0, "hB", "localize_stitch", 4, 1, 0.25), d.get("model.layers.0.v/hB"));
    assertEquals(List.of(new MasksJob.OverlapRow("model.layers.0.v", 0, "hA", "hB", 1 / 4.0),
        new MasksJob.OverlapRow("w", -1, "hA", "hB", 1 / 3.0)), ls.overlap());
    // the CSV tables hold the same rows
    List<String> csv = Files.readAllLines(Path.of(out, "mask_overlap.csv"));
    assertEquals(List.of("tensor,layer,model_i,model_j,jaccard", "model.layers.0.v,0,hA,hB,0.25", "w,-1,hA,hB,0.3333333333333333"), csv);
    assertEquals(5, Files.readAllLines(Path.of(out, "mask_density.csv")).size());
    assertTrue(new File(out, "mask_density.parquet").isDirectory() && new File(out, "_SUCCESS").exists());
    assertParquetTables(out);

    // ties at density 0.5: the 4 largest of w; among equal magnitudes the lower index first
    MasksJob.Outcome ties = masks(yaml.replace("METHOD", "ties").replace("PARAMS", "{density: 0.5}"), "ties", 1);
    String t = work.resolve("ties").toString();
    assertArrayEquals(bytes(1, 0, 0, 1, 0, 0, 1, 1), maskOf(t, "hA").get("w"));
    assertArrayEquals(bytes(1, 1, 0, 0), maskOf(t, "hA").get("model.layers.0.v"));
    assertArrayEquals(bytes(1, 1, 0, 1, 1, 0, 0, 0), maskOf(t, "hB").get("w")); // 6, 4.5, 1, then the first 0
    assertArrayEquals(bytes(1, 0, 0, 1), maskOf(t, "hB").get("model.layers.0.v"));
    assertEquals(List.of(new MasksJob.OverlapRow("model.layers.0.v", 0, "hA", "hB", 1 / 3.0),
        new MasksJob.OverlapRow("w", -1, "hA", "hB", 2 / 6.0)), ties.overlap());
    assertTrue(ties.density().stream().allMatch(r -> r.kept() * 2 == r.numel() && r.method().equals("ties")));

    // a per-tensor override to a dense method (as jobs/ties.yml has for lm_head): that tensor gets no mask, the
    // others get exactly the masks of the plain ties run
    MasksJob.Outcome mixed = masks(yaml.replace("METHOD", "ties").replace("PARAMS", "{density: 0.5}")
        + "tensors:\n  - filter: w\n    merge_method: linear\n", "mixed", 1);
    String mx = work.resolve("mixed").toString();
    for (String label : List.of("hA", "hB")) {
      assertEquals(List.of("model.layers.0.v"), List.copyOf(maskOf(mx, label).keySet()), label + ": no mask for the linear tensor");
      assertArrayEquals(maskOf(t, label).get("model.layers.0.v"), maskOf(mx, label).get("model.layers.0.v"));
    }
    assertTrue(mixed.density().stream().allMatch(r -> r.tensor().equals("model.layers.0.v")), mixed.density().toString());
    assertEquals(List.of(new MasksJob.OverlapRow("model.layers.0.v", 0, "hA", "hB", 1 / 3.0)), mixed.overlap());

    // a method that applies no mask is a config error, named
    ConfigException e = assertThrows(ConfigException.class,
        () -> masks(yaml.replace("METHOD", "task_arithmetic").replace("PARAMS", "{}"), "ta", 1));
    assertTrue(e.getMessage().contains("task_arithmetic"), e.getMessage());
  }

  /** The Parquet tables read back through Spark with the shared schema. */
  private static void assertParquetTables(String out) {
    var spark = SparkTestSession.get();
    var d = spark.read().parquet(out + "/mask_density.parquet");
    assertEquals(List.of("tensor", "layer", "model", "method", "numel", "kept", "density"), Arrays.asList(d.columns()));
    assertEquals(4, d.count());
    var o = spark.read().parquet(out + "/mask_overlap.parquet");
    assertEquals(List.of("tensor", "layer", "model_i", "model_j", "jaccard"), Arrays.asList(o.columns()));
    assertEquals(2, o.count());
  }

  /** Localize-and-Stitch's dataless masks by an exact sort (global over the model, or per tensor). */
  static Map<String, byte[]> localize(Map<String, double[]> ft, double s, boolean global) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    double globalThr = 0;
    if (global) {
      double[] all = base.entrySet().stream().flatMapToDouble(e -> Arrays.stream(keys(ft.get(e.getKey()), e.getValue()))).toArray();
      globalThr = LocalizeStitchJobTest.kth(all, s);
    }
    for (var e : base.entrySet()) {
      double[] k = keys(ft.get(e.getKey()), e.getValue());
      double thr = global ? globalThr : LocalizeStitchJobTest.kth(k, s);
      byte[] m = new byte[k.length];
      for (int i = 0; i < k.length; i++) {
        m[i] = (byte) (k[i] >= thr ? 1 : 0);
      }
      out.put(e.getKey(), m);
    }
    return out;
  }

  static double[] keys(double[] x, double[] b) {
    double[] k = new double[b.length];
    for (int i = 0; i < b.length; i++) {
      k[i] = LocalizeStitchJobTest.key(x[i], b[i]);
    }
    return k;
  }

  /** TIES' trim by a sort: the j largest magnitudes, ties to the lower index. */
  static byte[] topJ(double[] x, double[] b, long j) {
    double[] k = keys(x, b);
    Integer[] idx = new Integer[k.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, Comparator.comparingDouble((Integer i) -> -k[i]).thenComparingInt(i -> i));
    byte[] m = new byte[k.length];
    for (int r = 0; r < j; r++) {
      m[idx[r]] = 1;
    }
    return m;
  }

  private void assertMasks(String out, List<String> labels, List<Map<String, byte[]>> expected, String what) throws IOException {
    for (int t = 0; t < labels.size(); t++) {
      Map<String, byte[]> got = maskOf(out, labels.get(t));
      assertEquals(expected.get(t).keySet(), got.keySet());
      for (String name : got.keySet()) {
        assertArrayEquals(expected.get(t).get(name), got.get(name), what + ": " + labels.get(t) + " " + name);
      }
    }
  }

  @Test
  void localizeStitchMasksMatchAnExactSortAndFeedAGivenMaskMerge() throws IOException {
    String yaml = """
        merge_method: localize_stitch
        base_model: BASE
        models:
          - model: FT1
            parameters: {sparsity: 0.02}
          - model: FT2
        parameters: {mask_scope: SCOPE}
        """;
    for (String scope : new String[] {"global", "tensor"}) {
      boolean global = scope.equals("global");
      MasksJob.Outcome o = masks(yaml.replace("SCOPE", scope), scope, 2);
      String out = work.resolve(scope).toString();
      assertTrue(o.plan().shards().size() > 1 && new File(out, "masks/" + o.labels().get(0) + "/model.safetensors.index.json").exists());
      assertMasks(out, o.labels(), List.of(localize(fts.get(0), 0.02, global), localize(fts.get(1), 0.01, global)), scope);
    }
    // the global masks, given back as masks:, stitch the same model as the dataless merge, bit for bit
    String maskOut = work.resolve("global").toString();
    List<String> labels = List.of(dirs.get(1).getName(), dirs.get(2).getName());
    String dataless = work.resolve("dataless").toString();
    String given = work.resolve("given").toString();
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    MergeJob.run(SparkTestSession.get(), Configs.parse(yaml.replace("SCOPE", "global"), dirs),
        new MergeJob.Options(dataless, false, 1, quiet));
    String givenYaml = """
        merge_method: localize_stitch
        base_model: BASE
        models:
          - model: FT1
            masks: M1
          - model: FT2
            masks: M2
        """.replace("M1", maskOut + "/masks/" + labels.get(0)).replace("M2", maskOut + "/masks/" + labels.get(1));
    MergeJob.run(SparkTestSession.get(), Configs.parse(givenYaml, dirs), new MergeJob.Options(given, false, 1, quiet));
    Map<String, byte[]> x = Checkpoints.rawBytes(dataless);
    Map<String, byte[]> y = Checkpoints.rawBytes(given);
    assertEquals(x.keySet(), y.keySet());
    for (String name : x.keySet()) {
      assertArrayEquals(x.get(name), y.get(name), name + ": the given-mask stitch differs from the dataless one");
    }
  }

  @Test
  void tiesAndLewisMasksAreTheMagnitudeTrim() throws IOException {
    MasksJob.Outcome ties = masks("""
        merge_method: ties
        base_model: BASE
        models:
          - model: FT1
            parameters: {density: 0.3}
          - model: FT2
            parameters: {density: 0.7}
        """, "ties", 1);
    List<Map<String, byte[]>> expected = List.of(new LinkedHashMap<>(), new LinkedHashMap<>());
    double[] density = {0.3, 0.7};
    for (var e : base.entrySet()) {
      for (int t = 0; t < 2; t++) {
        expected.get(t).put(e.getKey(), topJ(fts.get(t).get(e.getKey()), e.getValue(),
            (long) Math.floor(density[t] * e.getValue().length)));
      }
    }
    assertMasks(work.resolve("ties").toString(), ties.labels(), expected, "ties");

    // lewis (data-free proxy importances): each scored module's mask is the trim at a density in
    // [min_density, max_density]; every other tensor keeps all entries
    MasksJob.Outcome lewis = masks("""
        merge_method: lewis
        base_model: BASE
        models:
          - model: FT1
            importance: task_vector_norm
          - model: FT2
            importance: task_vector_norm
        parameters: {min_density: 0.3, max_density: 0.8}
        """, "lewis", 1);
    List<Map<String, byte[]>> trims = List.of(new LinkedHashMap<>(), new LinkedHashMap<>());
    boolean anyScored = false;
    for (MasksJob.DensityRow r : lewis.density()) {
      int t = lewis.labels().indexOf(r.model());
      assertEquals("lewis", r.method());
      if (r.kept() < r.numel()) { // a scored module (an unscored tensor, and 1-D ones the proxy does not score, keep all)
        anyScored = true;
        assertTrue(io.sparkmerge.method.LewisDensities.moduleOf(r.tensor()) != null, "only modules are trimmed: " + r);
        assertTrue(r.kept() >= (long) Math.floor(0.3 * r.numel()) && r.kept() <= (long) Math.floor(0.8 * r.numel()), r.toString());
      }
      trims.get(t).put(r.tensor(), topJ(fts.get(t).get(r.tensor()), base.get(r.tensor()), r.kept()));
    }
    assertTrue(anyScored);
    assertMasks(work.resolve("lewis").toString(), lewis.labels(), trims, "lewis");
  }
}
