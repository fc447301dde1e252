package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.ConfigException;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.math.DeterministicRandom;
import io.sparkmerge.method.InterpolationMethodsTest;
import io.sparkmerge.plan.LayerPositions;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.ReferenceMerges;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mergekit-style configs under jobs/mergekit/ run unchanged (only the model paths point at a
 * generated tiny family) through the Spark merge, and match references computed here.
 */
class MergekitConfigsTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;
  static Map<String, double[]> base;
  static Map<String, double[]> ft1;
  static Map<String, double[]> ft2;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 13, 2);
    String[] labels = {"base", "ft1", "ft2"};
    for (int i = 0; i < 3; i++) {
      Path d = Path.of(dirs.get(i).toString());
      Files.writeString(d.resolve("tokenizer.json"), "{\"model\": \"" + labels[i] + "\"}\n");
      Files.writeString(d.resolve("tokenizer_config.json"), "{\"model_max_length\": 64, \"from\": \"" + labels[i] + "\"}\n");
    }
    base = Checkpoints.read(dirs.get(0).toString());
    ft1 = Checkpoints.read(dirs.get(1).toString());
    ft2 = Checkpoints.read(dirs.get(2).toString());
  }

  /** The jobs/mergekit file as shipped, with only its example model paths replaced. */
  static String job(String name) throws IOException {
    return Files.readString(Path.of("jobs/mergekit", name)).replace("/data/models/base", dirs.get(0).toString())
        .replace("/data/models/ft-math", dirs.get(1).toString()).replace("/data/models/ft-code", dirs.get(2).toString());
  }

  private String merge(String yaml, String outName) throws IOException {
    String out = work.resolve(outName).toString();
    MergeConfig cfg = ConfigLoader.parse(yaml, outName + ".yml");
    MergeJob.run(SparkTestSession.get(), cfg, new MergeJob.Options(out, false, 3, new PrintStream(new ByteArrayOutputStream())));
    return out;
  }

  private static String card(String out) throws IOException {
    return Files.readString(Path.of(out, "README.md"));
  }

  @Test
  void linearAsMergekitWritesIt() throws IOException {
    String yaml = job("linear.yml");
    String out = merge(yaml, "linear");
    Map<String, double[]> got = Checkpoints.read(out);
    assertEquals(base.keySet(), got.keySet());
    for (String n : base.keySet()) {
      double[] ref = ReferenceMerges.linear(new double[][] {ft1.get(n), ft2.get(n)}, new double[] {1.0, 0.5}, true);
      assertTrue(Checkpoints.relError(got.get(n), ref) <= 1e-5, n);
    }
    String card = card(out);
    assertTrue(card.contains("**linear**") && card.contains(dirs.get(1).toString()) && card.contains(dirs.get(2).toString()));
    assertTrue(card.contains(yaml.strip()), "the model card carries the exact YAML");
  }

  /** F32 inputs with dtype: bfloat16: BF16 tensors, and config.json says so under both keys (as mergekit writes it). */
  @Test
  void configJsonCarriesTheOutputDtype() throws IOException {
    String out = merge(job("linear.yml").replace("dtype: float32", "dtype: bfloat16"), "linear-bf16");
    JsonNode cfg = JSON.readTree(Path.of(out, "config.json").toFile());
    assertEquals("bfloat16", cfg.get("torch_dtype").asText());
    assertEquals("bfloat16", cfg.get("dtype").asText());
    assertEquals("float32", JSON.readTree(Path.of(dirs.get(1).toString(), "config.json").toFile()).get("torch_dtype").asText(),
        "the inputs are float32");
    Map<String, double[]> got = Checkpoints.read(out);
    String n = "model.layers.1.mlp.up_proj.weight";
    double[] ref = ReferenceMerges.linear(new double[][] {ft1.get(n), ft2.get(n)}, new double[] {1.0, 0.5}, true);
    assertEquals(2 * ref.length, Checkpoints.rawBytes(out).get(n).length, "written as BF16, 2 bytes an element");
    for (int i = 0; i < ref.length; i++) {
      float want = io.sparkmerge.io.HalfFloats.bf16ToFloat(io.sparkmerge.io.HalfFloats.floatToBf16((float) ref[i]));
      assertTrue(Math.abs(got.get(n)[i] - want) <= Math.ulp(want) * 65536, n + "[" + i + "] is the BF16 rounding of the merge (1 BF16 ulp)");
    }
  }

  @Test
  void tiesWithTheBaseAmongTheModelsAndAChatTemplate() throws IOException {
    String yaml = job("ties.yml");
    String out = merge(yaml, "ties");
    Map<String, double[]> got = Checkpoints.read(out);
    for (String n : base.keySet()) {
      double[] ref = ReferenceMerges.ties(base.get(n), new double[][] {ft1.get(n), ft2.get(n)}, new double[] {0.5, 0.3},
          new double[] {0.5, 0.5}, 1.0, true, true);
      assertTrue(Checkpoints.relError(got.get(n), ref) <= 1e-5, n);
    }
    JsonNode tc = JSON.readTree(Path.of(out, "tokenizer_config.json").toFile());
    String template = ConfigLoader.parse(yaml, "ties.yml").chatTemplate();
    assertTrue(template.startsWith("{% for message in messages %}") && template.contains("'\\n'"), template);
    assertEquals(template, tc.get("chat_template").asText(), "chat_template written into tokenizer_config.json");
    assertEquals("base", tc.get("from").asText(), "the base's other tokenizer settings are kept");
    assertTrue(card(out).contains("**ties**") && card(out).contains(yaml.strip()));
  }

  @Test
  void dareTiesWithAWeightGradient() throws IOException {
    String out = merge(job("dare_ties.yml"), "dare");
    Map<String, double[]> got = Checkpoints.read(out);
    LayerPositions pos = new LayerPositions(base.keySet());
    double[] density = {0.53, 0.6};
    for (String n : base.keySet()) {
      double t = pos.position(n);
      double[][] models = {ft1.get(n), ft2.get(n)};
      double[] b = base.get(n);
      boolean[][] masks = new boolean[2][b.length];
      double[][] scale = new double[2][b.length];
      for (int m = 0; m < 2; m++) {
        long key = DeterministicRandom.key(0, n, m);
        double l1 = 0;
        double kept = 0;
        for (int i = 0; i < b.length; i++) {
          double tau = Math.abs((float) models[m][i] - (float) b[i]);
          masks[m][i] = DeterministicRandom.uniform(key, i) < density[m];
          l1 += tau;
          kept += masks[m][i] ? tau : 0;
        }
        // rescale: true multiplies the kept entries by ‖τ‖₁ / ‖τ ⊙ m‖₁ (methods.md §1)
        java.util.Arrays.fill(scale[m], l1 < 1e-7 || kept < 1e-7 ? 1.0 : l1 / kept);
      }
      double[] w = {0.2 + 0.4 * t, 0.4};
      double[] ref = ReferenceMerges.combine(b, models, w, masks, scale, true, false, 1.0);
      assertTrue(Checkpoints.relError(got.get(n), ref) <= 1e-5, n + " at t=" + t);
    }
  }

  /** mergekit's gradient rule (methods.md §0), written out independently of ParameterValue. */
  static double gradient(double[] v, double t) {
    double s = t * (v.length - 1);
    int i0 = (int) Math.floor(s);
    int i1 = Math.min(v.length - 1, i0 + 1);
    return (1 - (s - i0)) * v[i0] + (s - i0) * v[i1];
  }

  @Test
  void slerpOverASliceWithGradients() throws IOException {
    String out = merge(job("slerp.yml"), "slerp");
    Map<String, double[]> got = Checkpoints.read(out);
    assertEquals(base.keySet(), got.keySet());
    for (String n : base.keySet()) {
      int layer = LayerPositions.layerIndex(n);
      double pos = layer >= 0 ? layer / 3.0 : 0.0;
      double t = n.contains("self_attn") ? gradient(new double[] {0, 0.5, 0.3, 0.7, 1}, pos)
          : n.contains("mlp") ? gradient(new double[] {1, 0.5, 0.7, 0.3, 0}, pos) : 0.5;
      double[] ref = InterpolationMethodsTest.slerpReference(t, base.get(n), ft1.get(n));
      assertTrue(Checkpoints.relError(got.get(n), ref) <= 1e-5, n + " at t=" + t);
    }
  }

  /**
   * The position of the tensors outside the layers is t = 0, before and after the layers alike
   * (mergekit ≥ 0.1.2, methods.md §0). Worked values: slerp with t: [0, 0.5, 1] over a 4-layer slice
   * gives layer j t = j/3 exactly, so layer 0 is the base and layer 3 the other model; the embeddings,
   * the final norm and lm_head get t = 0 and equal the base (0.1.1's rule, t = 1, made them the other
   * model). Without slices, linear weights [1, 0] and [0, 1] give lm_head ft-math alone.
   */
  @Test
  void tensorsAfterTheLayersSitAtTZeroAsInCurrentMergekit() throws IOException {
    String b = dirs.get(0).toString();
    String f = dirs.get(1).toString();
    String slerp = "merge_method: slerp\nbase_model: " + b + "\nslices:\n  - sources:\n      - model: " + b
        + "\n        layer_range: [0, 4]\n      - model: " + f + "\n        layer_range: [0, 4]\nparameters:\n  t: [0, 0.5, 1]\n";
    Map<String, double[]> got = Checkpoints.read(merge(slerp, "slerp-t0"));
    for (String n : new String[] {"lm_head.weight", "model.norm.weight", "model.embed_tokens.weight",
        "model.layers.0.self_attn.q_proj.weight"}) {
      assertTrue(Checkpoints.relError(got.get(n), base.get(n)) <= 1e-6, n + " equals the base (t = 0)");
      assertTrue(Checkpoints.relError(got.get(n), ft1.get(n)) > 1e-3, n + " is not the other model");
    }
    String last = "model.layers.3.self_attn.q_proj.weight";
    assertTrue(Checkpoints.relError(got.get(last), ft1.get(last)) <= 1e-6, "layer 3 at t = 1 is the other model");
    String mid = "model.layers.1.mlp.up_proj.weight";
    double[] ref = InterpolationMethodsTest.slerpReference(1.0 / 3, base.get(mid), ft1.get(mid));
    assertTrue(Checkpoints.relError(got.get(mid), ref) <= 1e-5, "layer 1 at t = 1/3");

    String linear = "merge_method: linear\nmodels:\n  - model: " + f + "\n    parameters: {weight: [1, 0]}\n  - model: "
        + dirs.get(2) + "\n    parameters: {weight: [0, 1]}\n";
    Map<String, double[]> lin = Checkpoints.read(merge(linear, "linear-t0"));
    for (String n : new String[] {"lm_head.weight", "model.norm.weight", "model.embed_tokens.weight"}) {
      assertTrue(Checkpoints.relError(lin.get(n), ft1.get(n)) <= 1e-6, n + " is ft-math's (weights 1 and 0 at t = 0)");
    }
    String l2 = "model.layers.2.mlp.down_proj.weight";
    double[] ref2 = ReferenceMerges.linear(new double[][] {ft1.get(l2), ft2.get(l2)}, new double[] {1.0 / 3, 2.0 / 3}, true);
    assertTrue(Checkpoints.relError(lin.get(l2), ref2) <= 1e-5, "layer 2 at t = 2/3");
  }

  /** mergekit's way to give nuslerp's weights, per model, plans (it failed resolving the manifest's method-wide defaults). */
  @Test
  void nuslerpWithPerModelWeightsPlans() throws IOException {
    MergeConfig cfg = ConfigLoader.parse("merge_method: nuslerp\nmodels:\n  - model: " + dirs.get(1) + "\n    parameters: {weight: 0.6}\n"
        + "  - model: " + dirs.get(2) + "\n    parameters: {weight: 0.4}\n", "nuslerp.yml");
    io.sparkmerge.plan.MergePlan plan = new io.sparkmerge.plan.Planner(new org.apache.hadoop.conf.Configuration()).plan(cfg, 1, "t");
    assertEquals(Checkpoints.rawBytes(dirs.get(1).toString()).size(), plan.tensorCount());
    assertEquals(0.6, plan.shards().get(0).tensors().stream().filter(t -> !t.isRawCopy()).findFirst().orElseThrow()
        .perModel().get(0).getDouble("weight"), 1e-12);
  }

  /** jobs/mergekit/tokenizer_union.yml is a valid config (the union itself runs in VocabularyUnionJobTest). */
  @Test
  void tokenizerUnionJobParses() throws IOException {
    MergeConfig cfg = ConfigLoader.parse(job("tokenizer_union.yml"), "tokenizer_union.yml");
    assertTrue(cfg.tokenizer().union() && cfg.tokenizer().padToMultipleOf() == 64);
    assertTrue(cfg.tokenizer().tokens().get("<|im_end|>").force());
    assertEquals(dirs.get(2).toString(), cfg.tokenizer().tokens().get("<|im_start|>").model());
    assertTrue(cfg.chatTemplate().contains("<|im_start|>"));
  }

  @Test
  void passthroughStacksRenumberedLayers() throws IOException {
    String yaml = job("passthrough.yml");
    String out = merge(yaml, "stack");
    Map<String, byte[]> got = Checkpoints.rawBytes(out);
    Map<String, byte[]> a = Checkpoints.rawBytes(dirs.get(1).toString());
    Map<String, byte[]> b = Checkpoints.rawBytes(dirs.get(2).toString());
    Map<String, byte[]> expected = new LinkedHashMap<>();
    for (Map.Entry<String, byte[]> e : a.entrySet()) {
      int l = LayerPositions.layerIndex(e.getKey());
      if (l < 0 && LayerPositions.beforeLayers(e.getKey())) {
        expected.put(e.getKey(), e.getValue());          // embeddings (and the integer position ids) from ft-math
      } else if (l >= 0 && l < 3) {
        expected.put(e.getKey(), e.getValue());          // ft-math layers 0..2 → 0..2
      }
    }
    for (Map.Entry<String, byte[]> e : b.entrySet()) {
      int l = LayerPositions.layerIndex(e.getKey());
      if (l < 0 && !LayerPositions.beforeLayers(e.getKey())) {
        expected.put(e.getKey(), e.getValue());          // final norm and lm_head from ft-code
      } else if (l >= 1) {
        expected.put(LayerPositions.withLayerIndex(e.getKey(), l + 2), e.getValue());   // ft-code layers 1..3 → 3..5
      }
    }
    assertEquals(new java.util.TreeSet<>(expected.keySet()), new java.util.TreeSet<>(got.keySet()), "output tensor set");
    for (String n : expected.keySet()) {
      assertArrayEquals(expected.get(n), got.get(n), n);
    }
    assertTrue(got.containsKey("model.layers.5.mlp.down_proj.weight") && !got.containsKey("model.layers.6.mlp.down_proj.weight"));
    assertEquals(6, JSON.readTree(Path.of(out, "config.json").toFile()).get("num_hidden_layers").asInt());
    assertTrue(Files.readString(Path.of(out, "tokenizer.json")).contains("ft2"), "tokenizer_source: ft-code's tokenizer");
    assertTrue(Files.readString(Path.of(out, "generation_config.json")).contains("eos_token_id"));
    assertTrue(card(out).contains("**passthrough**") && card(out).contains(yaml.strip()));
  }

  @Test
  void slicesErrorsNameTheSliceAndTheFix() {
    String b = dirs.get(0).toString();
    String f = dirs.get(1).toString();
    ConfigException past = assertThrows(ConfigException.class, () -> MergeJob.plan(new org.apache.hadoop.conf.Configuration(),
        ConfigLoader.parse("merge_method: passthrough\nslices:\n  - sources:\n      - model: " + f + "\n        layer_range: [2, 6]\n",
            "x.yml"), 1));
    assertTrue(past.getMessage().contains("slices[0].sources[0]") && past.getMessage().contains("at most 4"), past.getMessage());
    ConfigException noBase = assertThrows(ConfigException.class, () -> MergeJob.plan(new org.apache.hadoop.conf.Configuration(),
        ConfigLoader.parse("merge_method: slerp\nbase_model: " + b + "\nparameters: {t: 0.5}\nslices:\n  - sources:\n"
            + "      - model: " + f + "\n        layer_range: [0, 4]\n", "x.yml"), 1));
    assertTrue(noBase.getMessage().contains("not among the slice's sources"), noBase.getMessage());
    ConfigException wholeModel = assertThrows(ConfigException.class, () -> MergeJob.plan(new org.apache.hadoop.conf.Configuration(),
        ConfigLoader.parse("merge_method: localize_stitch\nbase_model: " + b + "\nslices:\n  - sources:\n"
            + "      - model: " + b + "\n        layer_range: [0, 4]\n      - model: " + f + "\n        layer_range: [0, 4]\n",
            "x.yml"), 1));
    assertTrue(wholeModel.getMessage().contains("cannot merge tensors of 'slices:'"), wholeModel.getMessage());
  }

  @Test
  void analysisJobsTakeTheWholeModelsASlicesConfigNames() throws IOException {
    var in = new io.sparkmerge.plan.Planner(new org.apache.hadoop.conf.Configuration())
        .openForAnalysis(ConfigLoader.parse(job("slerp.yml"), "slerp.yml"), "subspaces");
    assertEquals(List.of(dirs.get(1).toString()), in.models().stream().map(m -> m.path()).toList());
  }
}
