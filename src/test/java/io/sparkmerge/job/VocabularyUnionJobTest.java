package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.ConfigException;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.io.DType;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.SmallCheckpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tokenizer_source: union through the real Spark job: three models whose vocabularies differ (order,
 * tokens only some have, added tokens), a forced token from another token's row, a zero token and
 * pad_to_multiple_of. Executors read the permuted embedding rows; the merged tensors, the vocabulary
 * and the tokenizer files are checked against an independent numpy implementation of mergekit's
 * union and PermutedEmbeddings (src/test/resources/vocab/union_reference.py).
 */
class VocabularyUnionJobTest {
  static final String PYTHON = "/usr/bin/python3";
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  @TempDir Path work;
  static String base;
  static String ft1;
  static String ft2;

  @BeforeAll
  static void models() throws IOException {
    base = model("base", 0, 8, vocab("<unk>", "<s>", "</s>", "a", "b", "c", "ab"), List.of());
    ft1 = model("ft1", 1, 10, vocab("<unk>", "<s>", "</s>", "a", "b", "c", "ab", "x", "y"), List.of("<|im_start|>"));
    ft2 = model("ft2", 2, 10, vocab("<unk>", "<s>", "</s>", "b", "a", "c", "z", "x"), List.of("<|im_start|>", "<|im_end|>"));
  }

  private static Map<String, Integer> vocab(String... tokens) {
    Map<String, Integer> v = new LinkedHashMap<>();
    for (String t : tokens) {
      v.put(t, v.size());
    }
    return v;
  }

  /** A model with embeddings of {@code rows} rows, its tokenizer.json (specials 0-2 added) and config.json. */
  private static String model(String name, int seed, int rows, Map<String, Integer> vocab, List<String> extraAdded) throws IOException {
    Path d = dir.resolve(name);
    int h = 4;
    List<SmallCheckpoints.Tensor> ts = new ArrayList<>();
    for (String t : List.of("model.embed_tokens.weight", "lm_head.weight")) {
      ts.add(new SmallCheckpoints.Tensor(t, new long[] {rows, h}, values(rows * h, seed, t.length())));
    }
    ts.add(new SmallCheckpoints.Tensor("model.layers.0.mlp.up_proj.weight", new long[] {3, h}, values(3 * h, seed, 7)));
    ts.add(new SmallCheckpoints.Tensor("model.norm.weight", new long[] {h}, values(h, seed, 3)));
    SmallCheckpoints.write(d, DType.F32, ts);
    var root = JSON.createObjectNode();
    var added = root.putArray("added_tokens");
    List<String> specials = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
    for (int i = 0; i < 3; i++) {
      added.addObject().put("id", i).put("content", specials.get(i)).put("single_word", false).put("lstrip", false)
          .put("rstrip", false).put("normalized", false).put("special", true);
    }
    int next = vocab.size();
    for (String t : extraAdded) {
      added.addObject().put("id", next++).put("content", t).put("single_word", false).put("lstrip", false).put("rstrip", false)
          .put("normalized", false).put("special", true);
    }
    var model = root.putObject("model").put("type", "BPE");
    var v = model.putObject("vocab");
    vocab.forEach(v::put);
    model.putArray("merges").add("a b");
    Files.writeString(d.resolve("tokenizer.json"), JSON.writeValueAsString(root));
    Files.writeString(d.resolve("tokenizer_config.json"), "{\"model_max_length\": 64, \"from\": \"" + name + "\"}");
    Files.writeString(d.resolve("special_tokens_map.json"), "{\"bos_token\": \"<s>\"}");
    Files.writeString(d.resolve("tokenizer.model"), "stale sentencepiece");
    Files.writeString(d.resolve("config.json"), "{\"model_type\": \"llama\", \"vocab_size\": " + rows
        + ", \"num_hidden_layers\": 1, \"torch_dtype\": \"float32\"}");
    return d.toString();
  }

  private static double[] values(int n, int seed, int salt) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = Math.sin(1.3 * i + 0.7 * seed + 0.11 * salt) * (1 + seed);
    }
    return v;
  }

  private String yaml() {
    return "merge_method: task_arithmetic\nbase_model: " + base + "\nmodels:\n  - model: " + ft1 + "\n    parameters: {weight: 0.6}\n"
        + "  - model: " + ft2 + "\n    parameters: {weight: 0.4}\ntokenizer:\n  source: union\n  pad_to_multiple_of: 8\n"
        + "  tokens:\n    \"<|im_end|>\":\n      source: {kind: model_token, model: " + ft1 + ", token: \"y\"}\n      force: true\n"
        + "    \"<extra>\":\n      source: {kind: zero}\nchat_template: chatml\n";
  }

  @Test
  void unionMatchesTheNumpyReferenceThroughTheSparkJob() throws Exception {
    assumeTrue(new File(PYTHON).canExecute(), "skipped: " + PYTHON + " (with numpy) is not available");
    String out = work.resolve("merged").toString();
    MergeJob.run(SparkTestSession.get(), ConfigLoader.parse(yaml(), "union.yml"),
        new MergeJob.Options(out, false, 3, new PrintStream(new ByteArrayOutputStream())));
    Path ref = work.resolve("ref");
    Path spec = work.resolve("spec.json");
    Files.writeString(spec, "{\"base\": \"" + base + "\", \"models\": [\"" + ft1 + "\", \"" + ft2 + "\"], \"weights\": [0.6, 0.4],"
        + " \"lambda\": 1.0, \"pad_to_multiple_of\": 8, \"tokens\": {\"<|im_end|>\": {\"kind\": \"model_token\", \"model\": \""
        + ft1 + "\", \"token\": \"y\", \"force\": true}, \"<extra>\": {\"kind\": \"zero\"}}}");
    Process p = new ProcessBuilder(PYTHON, Path.of("src/test/resources/vocab/union_reference.py").toAbsolutePath().toString(),
        spec.toString(), ref.toString()).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), log);

    Map<String, double[]> got = Checkpoints.read(out);
    for (String n : List.of("model.embed_tokens.weight", "lm_head.weight", "model.layers.0.mlp.up_proj.weight", "model.norm.weight")) {
      byte[] b = Files.readAllBytes(ref.resolve(n + ".f64"));
      double[] want = new double[b.length / 8];
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(want);
      assertEquals(want.length, got.get(n).length, n + ": 16 rows (13 tokens padded to a multiple of 8) × 4");
      assertTrue(Checkpoints.relError(got.get(n), want) <= 1e-6, n + " matches the numpy reference");
    }
    assertEquals(16 * 4, got.get("lm_head.weight").length);

    // the vocabulary the output tokenizer files describe equals the reference's
    JsonNode tj = JSON.readTree(new File(out, "tokenizer.json"));
    Map<String, Integer> vocab = new TreeMap<>();
    tj.get("model").get("vocab").fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asInt()));
    tj.get("added_tokens").forEach(a -> vocab.put(a.get("content").asText(), a.get("id").asInt()));
    Map<String, Integer> want = new TreeMap<>();
    JSON.readTree(ref.resolve("vocab.json").toFile()).fields().forEachRemaining(e -> want.put(e.getKey(), e.getValue().asInt()));
    assertEquals(want, vocab);
    assertEquals(Map.of("x", 7, "y", 8, "z", 9, "<|im_start|>", 10, "<|im_end|>", 11, "<extra>", 12),
        Map.of("x", vocab.get("x"), "y", vocab.get("y"), "z", vocab.get("z"), "<|im_start|>", vocab.get("<|im_start|>"),
            "<|im_end|>", vocab.get("<|im_end|>"), "<extra>", vocab.get("<extra>")), "ids as the tokenizers library numbers them");
    JsonNode tc = JSON.readTree(new File(out, "tokenizer_config.json"));
    assertEquals("<|im_start|>", tc.get("added_tokens_decoder").get("10").get("content").asText());
    assertTrue(tc.get("added_tokens_decoder").get("10").get("special").asBoolean(), "ft1's added-token settings kept");
    assertFalse(tc.get("added_tokens_decoder").get("7").get("special").asBoolean(), "a regular token added as transformers does");
    assertTrue(tc.get("chat_template").asText().contains("<|im_start|>"), "named chat template written");
    assertEquals("base", tc.get("from").asText(), "the base's other tokenizer settings kept");
    assertEquals(16, JSON.readTree(new File(out, "config.json")).get("vocab_size").asInt());
    assertTrue(new File(out, "special_tokens_map.json").exists());
    assertFalse(new File(out, "tokenizer.model").exists(), "files that list the old vocabulary are not carried over");
  }

  @Test
  void errorsNameTheTokenAndTheFix() {
    String b = "merge_method: task_arithmetic\nbase_model: " + base + "\nmodels:\n  - model: " + ft1 + "\n  - model: " + ft2 + "\n";
    ConfigException notAModel = assertThrows(ConfigException.class, () -> MergeJob.run(SparkTestSession.get(), ConfigLoader.parse(
        b + "tokenizer:\n  tokens:\n    \"<q>\":\n      source: /nowhere/model\n", "c.yml"),
        new MergeJob.Options(work.resolve("e1").toString(), false, 1, new PrintStream(new ByteArrayOutputStream()))));
    assertTrue(notAModel.getMessage().contains("<q>") && notAModel.getMessage().contains("/nowhere/model"), notAModel.getMessage());
    ConfigException both = assertThrows(ConfigException.class,
        () -> ConfigLoader.parse(b + "tokenizer_source: union\ntokenizer: {source: base}\n", "c.yml"));
    assertTrue(both.getMessage().contains("not both"), both.getMessage());
    ConfigException slices = assertThrows(ConfigException.class, () -> ConfigLoader.parse("merge_method: passthrough\nslices:\n"
        + "  - sources:\n      - model: " + ft1 + "\n        layer_range: [0, 1]\ntokenizer_source: union\n", "c.yml"));
    assertTrue(slices.getMessage().contains("slices"), slices.getMessage());
  }
}
