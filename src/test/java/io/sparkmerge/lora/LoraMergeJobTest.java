package io.sparkmerge.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.InputDataException;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.io.DType;
import io.sparkmerge.job.ExtractLoraJob;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.SmallCheckpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code model: BASE+ADAPTER} through the real Spark job: a PEFT adapter with a linear module (rank r, with a
 * lora_B bias), one of another rank and alpha (rank_pattern / alpha_pattern), an embedding (lora_embedding_A/B,
 * stored transposed) and a module stored whole (modules_to_save). The test materialises W + scale·B·A itself in
 * doubles (PEFT's merge_and_unload, written out by hand here) and checks that merging BASE+ADAPTER equals merging
 * the materialised model, and that merging BASE+ADAPTER alone reproduces it.
 */
class LoraMergeJobTest {
  static final String Q = "model.layers.0.self_attn.q_proj";
  static final String UP = "model.layers.0.mlp.up_proj";
  static final String EMBED = "model.embed_tokens";
  @TempDir static Path dir;
  @TempDir Path work;
  static String base;
  static String other;
  static String adapter;
  static String materialised;

  @BeforeAll
  static void models() throws IOException {
    Map<String, double[]> b = tensors(0);
    base = write("base", b);
    other = write("other", tensors(1));
    Map<String, double[]> lora = new LinkedHashMap<>();
    lora.put(Q + ".lora_A.weight", values(2 * 4, 5));
    lora.put(Q + ".lora_B.weight", values(6 * 2, 6));
    lora.put(Q + ".lora_B.bias", values(6, 7));
    lora.put(UP + ".lora_A.weight", values(3 * 4, 8));
    lora.put(UP + ".lora_B.weight", values(5 * 3, 9));
    lora.put(EMBED + ".lora_embedding_A", values(2 * 10, 10));
    lora.put(EMBED + ".lora_embedding_B", values(4 * 2, 11));
    lora.put("model.norm.weight", values(4, 12));
    Map<String, long[]> shapes = Map.of(Q + ".lora_A.weight", new long[] {2, 4}, Q + ".lora_B.weight", new long[] {6, 2},
        Q + ".lora_B.bias", new long[] {6}, UP + ".lora_A.weight", new long[] {3, 4}, UP + ".lora_B.weight", new long[] {5, 3},
        EMBED + ".lora_embedding_A", new long[] {2, 10}, EMBED + ".lora_embedding_B", new long[] {4, 2},
        "model.norm.weight", new long[] {4});
    List<SmallCheckpoints.Tensor> ts = new ArrayList<>();
    lora.forEach((k, v) -> ts.add(new SmallCheckpoints.Tensor("base_model.model." + k, shapes.get(k), v)));
    Path a = dir.resolve("adapter");
    SmallCheckpoints.write(a, DType.F32, ts);
    Files.move(a.resolve("model.safetensors"), a.resolve("adapter_model.safetensors"));
    Files.writeString(a.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4,"
        + " \"rank_pattern\": {\"up_proj\": 3}, \"alpha_pattern\": {\"mlp.up_proj\": 1.5}, \"lora_bias\": true,"
        + " \"target_modules\": [\"q_proj\", \"up_proj\", \"embed_tokens\"], \"modules_to_save\": [\"norm\"]}");
    adapter = a.toString();
    // merge_and_unload by hand: scale 4/2 = 2 for q_proj and the embedding, 1.5/3 = 0.5 for up_proj
    Map<String, double[]> m = new LinkedHashMap<>(b);
    m.put(Q + ".weight", plus(b.get(Q + ".weight"), product(f32(lora.get(Q + ".lora_B.weight")), 6, 2,
        f32(lora.get(Q + ".lora_A.weight")), 4, false), 2));
    m.put(Q + ".bias", plus(b.get(Q + ".bias"), f32(lora.get(Q + ".lora_B.bias")), 2));
    m.put(UP + ".weight", plus(b.get(UP + ".weight"), product(f32(lora.get(UP + ".lora_B.weight")), 5, 3,
        f32(lora.get(UP + ".lora_A.weight")), 4, false), 0.5));
    m.put(EMBED + ".weight", plus(b.get(EMBED + ".weight"), product(f32(lora.get(EMBED + ".lora_embedding_B")), 4, 2,
        f32(lora.get(EMBED + ".lora_embedding_A")), 10, true), 2));
    m.put("model.norm.weight", f32(lora.get("model.norm.weight")));
    materialised = write("materialised", m);
  }

  static final Map<String, long[]> SHAPES = Map.of(EMBED + ".weight", new long[] {10, 4}, Q + ".weight", new long[] {6, 4},
      Q + ".bias", new long[] {6}, UP + ".weight", new long[] {5, 4}, "model.norm.weight", new long[] {4},
      "lm_head.weight", new long[] {10, 4});

  private static Map<String, double[]> tensors(int seed) {
    Map<String, double[]> t = new LinkedHashMap<>();
    SHAPES.forEach((k, s) -> t.put(k, f32(values((int) (s.length == 1 ? s[0] : s[0] * s[1]), seed * 13 + k.length()))));
    return t;
  }

  private static String write(String name, Map<String, double[]> t) throws IOException {
    return write(dir.resolve(name), t, SHAPES);
  }

  /** A one-layer F32 model (model.safetensors + a llama config.json) of these tensors and shapes. */
  static String write(Path d, Map<String, double[]> t, Map<String, long[]> shapes) throws IOException {
    List<SmallCheckpoints.Tensor> ts = new ArrayList<>();
    t.forEach((k, v) -> ts.add(new SmallCheckpoints.Tensor(k, shapes.get(k), v)));
    String out = SmallCheckpoints.write(d, DType.F32, ts);
    Files.writeString(d.resolve("config.json"), "{\"model_type\": \"llama\", \"num_hidden_layers\": 1, \"torch_dtype\": \"float32\"}");
    return out;
  }

  static double[] values(int n, int salt) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = Math.sin(0.9 * i + 0.37 * salt) * 0.5;
    }
    return v;
  }

  /** The values as stored in F32. */
  static double[] f32(double[] v) {
    double[] o = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      o[i] = (float) v[i];
    }
    return o;
  }

  /** (B·A) [rows × cols] for B rows×r, A r×cols; transposed: (B·A)ᵀ, cols × rows. */
  static double[] product(double[] bm, int rows, int r, double[] am, int cols, boolean transposed) {
    double[] o = new double[rows * cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        double s = 0;
        for (int k = 0; k < r; k++) {
          s += bm[i * r + k] * am[k * cols + j];
        }
        o[transposed ? j * rows + i : i * cols + j] = s;
      }
    }
    return o;
  }

  static double[] plus(double[] w, double[] d, double scale) {
    double[] o = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      o[i] = w[i] + scale * d[i];
    }
    return o;
  }

  private Map<String, double[]> merge(String yaml, String name) throws Exception {
    String out = work.resolve(name).toString();
    MergeJob.run(SparkTestSession.get(), ConfigLoader.parse(yaml, name + ".yml"),
        new MergeJob.Options(out, false, 3, new PrintStream(new ByteArrayOutputStream())));
    return Checkpoints.read(out);
  }

  @Test
  void theAdapterAddedOnTheFlyEqualsTheMaterialisedModel() throws Exception {
    Map<String, double[]> got = merge("merge_method: passthrough\nmodels:\n  - model: " + base + "+" + adapter + "\n", "alone");
    Map<String, double[]> want = Checkpoints.read(materialised);
    for (String n : SHAPES.keySet()) {
      assertTrue(Checkpoints.relError(got.get(n), want.get(n)) <= 1e-6, n + " equals W + scale·B·A");
    }
    assertEquals(0, Checkpoints.relError(got.get("lm_head.weight"), Checkpoints.read(base).get("lm_head.weight")),
        "a tensor the adapter does not name is the model's");
  }

  @Test
  void mergingModelPlusAdapterEqualsMergingTheMaterialisedModel() throws Exception {
    String tail = "\n    parameters: {weight: 0.7}\n  - model: " + other + "\n    parameters: {weight: 0.3}\n";
    Map<String, double[]> got = merge("merge_method: linear\nmodels:\n  - model: " + base + "+" + adapter + tail, "lora");
    Map<String, double[]> want = merge("merge_method: linear\nmodels:\n  - model: " + materialised + tail, "explicit");
    for (String n : SHAPES.keySet()) {
      assertTrue(Checkpoints.relError(got.get(n), want.get(n)) <= 1e-6, n + ": " + Checkpoints.relError(got.get(n), want.get(n)));
    }
  }

  @Test
  void badReferencesAndAdaptersAreRefusedWithTheFix() throws Exception {
    String yaml = "merge_method: passthrough\nmodels:\n  - model: %s\n";
    ConfigException twoPlus = assertThrows(ConfigException.class, () -> merge(String.format(yaml, base + "+" + adapter + "+x"), "a"));
    assertTrue(twoPlus.getMessage().contains("MODEL+LORA_ADAPTER"), twoPlus.getMessage());
    ConfigException missing = assertThrows(ConfigException.class, () -> merge(String.format(yaml, base + "+" + dir.resolve("nope")), "b"));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    InputDataException wrongModel = assertThrows(InputDataException.class,
        () -> merge(String.format(yaml, dir.resolve("wrong") + "+" + adapter), "c"));
    assertTrue(wrongModel.getMessage().contains("does not have"), wrongModel.getMessage());
  }

  /** The adapter of a MODEL+ADAPTER reference is an input: OUT may not equal it, lie inside it or contain it (exit 2). */
  @Test
  void anOutputOverlappingTheAdapterIsRefusedAndTheAdapterIsUntouched() throws Exception {
    List<String> before;
    try (var files = Files.list(Path.of(adapter))) {
      before = files.map(p -> p.getFileName() + " " + p.toFile().length()).sorted().toList();
    }
    String yaml = "merge_method: passthrough\nmodels:\n  - model: " + base + "+" + adapter + "\n";
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    for (String[] c : new String[][] {{adapter, "is the same path as"}, {adapter + "/merged", "lies inside"}}) {
      ConfigException e = assertThrows(ConfigException.class, () -> MergeJob.run(SparkTestSession.get(),
          ConfigLoader.parse(yaml, "overlap.yml"), new MergeJob.Options(c[0], true, 3, quiet)), c[0]);
      assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("models[0] adapter " + adapter), e.getMessage());
      ConfigException x = assertThrows(ConfigException.class, () -> ExtractLoraJob.run(SparkTestSession.get(),
          new ExtractLoraJob.Options(base, base + "+" + adapter, c[0], 2, null, false, false, 1, true, quiet)), c[0]);
      assertTrue(x.getMessage().contains(c[1]) && x.getMessage().contains("--model adapter " + adapter), x.getMessage());
    }
    // OUT containing an adapter (and not the model): a copy of the adapter in its own directory
    Path holder = dir.resolve("holder");
    Path inner = holder.resolve("adapter");
    Files.createDirectories(inner);
    try (var files = Files.list(Path.of(adapter))) {
      for (Path f : files.toList()) {
        Files.copy(f, inner.resolve(f.getFileName()));
      }
    }
    ConfigException contains = assertThrows(ConfigException.class, () -> MergeJob.run(SparkTestSession.get(),
        ConfigLoader.parse("merge_method: passthrough\nmodels:\n  - model: " + base + "+" + inner + "\n", "contains.yml"),
        new MergeJob.Options(holder.toString(), true, 3, quiet)));
    assertTrue(contains.getMessage().contains("contains the input models[0] adapter " + inner), contains.getMessage());
    assertTrue(Files.exists(inner.resolve("adapter_config.json")), "--overwrite deleted nothing");
    List<String> after;
    try (var files = Files.list(Path.of(adapter))) {
      after = files.map(p -> p.getFileName() + " " + p.toFile().length()).sorted().toList();
    }
    assertEquals(before, after, "the adapter directory is as it was");
  }

  @BeforeAll
  static void wrongModel() throws IOException {
    SmallCheckpoints.write(dir.resolve("wrong"), DType.F32,
        List.of(new SmallCheckpoints.Tensor("model.norm.weight", new long[] {4}, values(4, 1))));
  }
}
