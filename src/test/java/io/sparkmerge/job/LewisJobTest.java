package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.io.DType;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.ReferenceMerges;
import io.sparkmerge.testing.SmallCheckpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LEWIS through the real merge job: importances from CSV, JSON and Parquet tables, from activation
 * statistics and from the task-vector proxy; densities and the TIES merge recomputed in the test.
 */
class LewisJobTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;
  static Map<String, double[]> base;
  static Map<String, double[]> ft1;
  static Map<String, double[]> ft2;
  static Map<String, long[]> shapes = new HashMap<>();
  static final Pattern MODULE = Pattern.compile("^model\\.layers\\.(\\d+)\\.(.+)\\.weight$");

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 21, 2);
    base = Checkpoints.read(dirs.get(0).toString());
    ft1 = Checkpoints.read(dirs.get(1).toString());
    ft2 = Checkpoints.read(dirs.get(2).toString());
    var md = io.sparkmerge.io.ModelDirectory.open(Checkpoints.localFs(), dirs.get(0));
    md.tensors().forEach((n, t) -> shapes.put(n, t.shape()));
  }

  /** Independent LEWIS densities: key "layer/component" → density. */
  static Map<String, Double> densities(Map<String, double[]> imp, double lo, double hi) {
    Map<String, Double> sum = new HashMap<>();
    imp.forEach((k, v) -> sum.merge(k.substring(k.indexOf('/') + 1), Math.abs(v[1] - v[0]), Double::sum));
    Map<String, Double> norm = new TreeMap<>();
    imp.forEach((k, v) -> {
      double s = sum.get(k.substring(k.indexOf('/') + 1));
      norm.put(k, s == 0 ? 0 : Math.round(Math.abs(v[1] - v[0]) / s * 1e5) / 1e5);
    });
    double mn = norm.values().stream().mapToDouble(x -> x).min().orElse(0);
    double mx = norm.values().stream().mapToDouble(x -> x).max().orElse(0);
    Map<String, Double> out = new TreeMap<>();
    norm.forEach((k, v) -> out.put(k, mx == mn ? (lo + hi) / 2 : lo + (v - mn) / (mx - mn) * (hi - lo)));
    return out;
  }

  static String key(String tensor) {
    Matcher m = MODULE.matcher(tensor);
    return m.matches() ? m.group(1) + "/" + m.group(2) : null;
  }

  /** A made-up table over q_proj and up_proj of every layer: key → {base, finetuned}. */
  static Map<String, double[]> table(long seed) {
    Random r = new Random(seed);
    Map<String, double[]> t = new TreeMap<>();
    for (int l = 0; l < 4; l++) {
      for (String c : new String[] {"self_attn.q_proj", "mlp.up_proj"}) {
        t.put(l + "/" + c, new double[] {1 + r.nextDouble(), 1 + 3 * r.nextDouble()});
      }
    }
    return t;
  }

  static void writeCsv(Path file, Map<String, double[]> t) throws IOException {
    StringBuilder sb = new StringBuilder("component,layer,finetuned,base\n"); // columns in any order
    t.forEach((k, v) -> sb.append(k.substring(k.indexOf('/') + 1)).append(',').append(k, 0, k.indexOf('/')).append(',')
        .append(v[1]).append(',').append(v[0]).append('\n'));
    Files.writeString(file, sb.toString());
  }

  static void writeJson(Path file, Map<String, double[]> t) throws IOException {
    List<Map<String, Object>> rows = new ArrayList<>();
    t.forEach((k, v) -> rows.add(Map.of("layer", Integer.parseInt(k.substring(0, k.indexOf('/'))),
        "component", k.substring(k.indexOf('/') + 1), "base", v[0], "finetuned", v[1])));
    new ObjectMapper().writeValue(file.toFile(), rows);
  }

  static void writeParquet(Path dir, Map<String, double[]> t) {
    List<Row> rows = new ArrayList<>();
    t.forEach((k, v) -> rows.add(RowFactory.create(Integer.parseInt(k.substring(0, k.indexOf('/'))),
        k.substring(k.indexOf('/') + 1), v[0], v[1])));
    StructType schema = new StructType().add("layer", DataTypes.IntegerType).add("component", DataTypes.StringType)
        .add("base", DataTypes.DoubleType).add("finetuned", DataTypes.DoubleType);
    Dataset<Row> df = SparkTestSession.get().createDataFrame(rows, schema).coalesce(1);
    df.write().parquet(dir.toString());
  }

  private JsonNode merge(String yaml, String name) throws IOException {
    String out = work.resolve(name).toString();
    MergeJob.run(SparkTestSession.get(), Configs.parse(yaml, dirs),
        new MergeJob.Options(out, false, 2, new PrintStream(new ByteArrayOutputStream())));
    return new ObjectMapper().readTree(new File(out, "sparkmerge.json"));
  }

  private void assertTies(String out, Map<String, Double> d1, Map<String, Double> d2, double[] w) throws IOException {
    Map<String, double[]> got = Checkpoints.read(out);
    for (String name : base.keySet()) {
      String k = key(name);
      double a = k == null ? 1 : d1.getOrDefault(k, 1.0);
      double b = k == null ? 1 : d2.getOrDefault(k, 1.0);
      double[] ref = ReferenceMerges.ties(base.get(name), new double[][] {ft1.get(name), ft2.get(name)}, w,
          new double[] {a, b}, 1.0, true, true);
      double err = Checkpoints.relError(got.get(name), ref);
      assertTrue(err <= 1e-5, name + " differs from the reference by " + err);
    }
  }

  @Test
  void densitiesFromCsvAndJsonTables() throws IOException {
    Map<String, double[]> t1 = table(1);
    Map<String, double[]> t2 = table(2);
    writeCsv(work.resolve("imp1.csv"), t1);
    writeJson(work.resolve("imp2.json"), t2);
    JsonNode manifest = merge("""
        merge_method: lewis
        base_model: BASE
        models:
          - model: FT1
            importance: I1
            parameters: {weight: 0.6}
          - model: FT2
            importance: I2
            parameters: {weight: 0.4}
        parameters: {min_density: 0.2, max_density: 0.7}
        """.replace("I1", work.resolve("imp1.csv").toString()).replace("I2", work.resolve("imp2.json").toString()), "tables");
    Map<String, Double> d1 = densities(t1, 0.2, 0.7);
    Map<String, Double> d2 = densities(t2, 0.2, 0.7);
    assertTies(work.resolve("tables").toString(), d1, d2, new double[] {0.6, 0.4});
    JsonNode reported = manifest.get("method_summary").get("densities").get("models[0]");
    assertEquals(d1.size(), reported.size());
    d1.forEach((k, v) -> assertEquals(v, reported.get(k).asDouble(), 1e-12, k));
  }

  @Test
  void densitiesFromParquetActivationsAndTheProxy() throws IOException {
    // FT1: a Parquet table; FT2: activation statistics (base and fine-tune) → Wanda importances
    Map<String, double[]> t1 = table(3);
    writeParquet(work.resolve("imp1.parquet"), t1);
    Path part = Files.list(work.resolve("imp1.parquet")).filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
    Random r = new Random(4);
    List<SmallCheckpoints.Tensor> aBase = new ArrayList<>();
    List<SmallCheckpoints.Tensor> aFt = new ArrayList<>();
    Map<String, double[]> imp2 = new TreeMap<>();
    Map<String, double[]> proxy = new TreeMap<>();
    for (String name : new java.util.TreeSet<>(base.keySet())) {
      String k = key(name);
      if (k == null || shapes.get(name).length != 2) {
        continue;
      }
      int cols = (int) shapes.get(name)[1];
      double[] ab = new double[cols];
      double[] af = new double[cols];
      for (int c = 0; c < cols; c++) {
        ab[c] = (float) (r.nextDouble() * 2);
        af[c] = (float) (r.nextDouble() * 2);
      }
      String module = name.substring(0, name.length() - ".weight".length());
      aBase.add(new SmallCheckpoints.Tensor(module, new long[] {cols}, ab));
      aFt.add(new SmallCheckpoints.Tensor(module, new long[] {cols}, af));
      double sb = 0;
      double sf = 0;
      double st = 0;
      double[] wb = base.get(name);
      double[] wf = ft2.get(name);
      for (int i = 0; i < wb.length; i++) {
        sb += wb[i] * wb[i] * ab[i % cols];
        sf += wf[i] * wf[i] * af[i % cols];
        st += (wf[i] - wb[i]) * (wf[i] - wb[i]);
      }
      imp2.put(k, new double[] {Math.sqrt(sb), Math.sqrt(sf)});
      proxy.put(k, new double[] {0, Math.sqrt(st)});
    }
    Path act = work.resolve("act");
    SmallCheckpoints.write(act.resolve("tmp-base"), DType.F32, aBase);
    SmallCheckpoints.write(act.resolve("tmp-ft"), DType.F32, aFt);
    Files.move(act.resolve("tmp-base/model.safetensors"), act.resolve("base.safetensors"));
    Files.move(act.resolve("tmp-ft/model.safetensors"), act.resolve("finetuned.safetensors"));
    String yaml = """
        merge_method: lewis
        base_model: BASE
        models:
          - model: FT1
            importance: I1
          - model: FT2
            SOURCE2
        """.replace("I1", part.toString());
    merge(yaml.replace("SOURCE2", "activations: " + act), "activations");
    Map<String, Double> d1 = densities(t1, 0.5, 0.8);
    assertTies(work.resolve("activations").toString(), d1, densities(imp2, 0.5, 0.8), new double[] {1, 1});

    JsonNode m = merge(yaml.replace("SOURCE2", "importance: task_vector_norm"), "proxy");
    assertTies(work.resolve("proxy").toString(), d1, densities(proxy, 0.5, 0.8), new double[] {1, 1});
    assertTrue(m.get("method_summary").get("importance_sources").get("models[1]").asText().contains("NOT LEWIS"));
  }
}
