package io.sparkmerge.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.cli.Main;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.job.ExtractLoraJob;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.JacobiSvd;
import io.sparkmerge.testing.PolarReference;
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
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * extract-lora through the real Spark job, checked against an independent truncated SVD (the tests' one-sided
 * Jacobi SVD in doubles): B·A of every factored module equals the rank-r truncation U_r·S_r·V_rᵀ of τ, each factor
 * carries √S (row norms of A and column norms of B are √σ_i), the reported error is √(Σ_{i>r} σ_i²) / ‖τ‖_F, a
 * module of rank below r is exact and listed in rank_pattern, embeddings and norms are stored whole, and merging
 * {@code BASE+ADAPTER} gives BASE + U_r·S_r·V_rᵀ.
 */
class ExtractLoraJobTest {
  static final String L = "model.layers.0.";
  static final ObjectMapper JSON = new ObjectMapper();
  static final Map<String, long[]> SHAPES = new LinkedHashMap<>();
  @TempDir static Path dir;
  @TempDir Path work;
  static String base;
  static String model;
  static Map<String, double[]> tau = new LinkedHashMap<>();

  @BeforeAll
  static void models() throws IOException {
    SHAPES.put("model.embed_tokens.weight", new long[] {20, 8});
    SHAPES.put(L + "self_attn.q_proj.weight", new long[] {24, 16});
    SHAPES.put(L + "self_attn.q_proj.bias", new long[] {24});
    SHAPES.put(L + "self_attn.k_proj.weight", new long[] {3, 16});
    SHAPES.put(L + "mlp.up_proj.weight", new long[] {12, 16});
    SHAPES.put(L + "input_layernorm.weight", new long[] {8});
    SHAPES.put("lm_head.weight", new long[] {20, 8});
    Random rnd = new Random(7);
    Map<String, double[]> b = new LinkedHashMap<>();
    Map<String, double[]> m = new LinkedHashMap<>();
    SHAPES.forEach((k, s) -> {
      int n = (int) (s.length == 1 ? s[0] : s[0] * s[1]);
      double[] w = new double[n];
      double[] x = new double[n];
      double[] t = lowRankPlusNoise(s, rnd);
      for (int i = 0; i < n; i++) {
        w[i] = (float) rnd.nextGaussian();
        x[i] = (float) (w[i] + t[i]);
      }
      b.put(k, w);
      m.put(k, x);
      double[] exact = new double[n];
      for (int i = 0; i < n; i++) {
        exact[i] = x[i] - w[i];
      }
      tau.put(k, exact);
    });
    base = write("base", b);
    model = write("model", m);
  }

  /** A spread spectrum: rank-6 structure of decreasing strength plus a little full-rank noise. */
  private static double[] lowRankPlusNoise(long[] s, Random rnd) {
    int rows = (int) s[0];
    int cols = s.length == 1 ? 1 : (int) s[1];
    double[] t = new double[rows * cols];
    for (int k = 0; k < 6; k++) {
      double[] u = new double[rows];
      double[] v = new double[cols];
      for (int i = 0; i < rows; i++) {
        u[i] = rnd.nextGaussian();
      }
      for (int j = 0; j < cols; j++) {
        v[j] = rnd.nextGaussian();
      }
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          t[i * cols + j] += u[i] * v[j] / (k + 1) * 0.1;
        }
      }
    }
    for (int i = 0; i < t.length; i++) {
      t[i] += 0.002 * rnd.nextGaussian();
    }
    return t;
  }

  private static String write(String name, Map<String, double[]> t) throws IOException {
    return LoraMergeJobTest.write(dir.resolve(name), t, SHAPES);
  }

  /** U_r·S_r·V_rᵀ of a rows×cols matrix by the Jacobi SVD, and the singular values. */
  static double[] truncation(double[] flat, int rows, int cols, int r, double[] sOut) {
    JacobiSvd.Result svd = JacobiSvd.svd(PolarReference.reshape(flat, rows, cols));
    System.arraycopy(svd.s(), 0, sOut, 0, Math.min(sOut.length, svd.s().length));
    double[] t = new double[rows * cols];
    for (int k = 0; k < Math.min(r, svd.s().length); k++) {
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          t[i * cols + j] += svd.u()[i][k] * svd.s()[k] * svd.v()[j][k];
        }
      }
    }
    return t;
  }

  private Path extract(String... extra) {
    Path out = work.resolve("lora");
    List<String> args = new ArrayList<>(List.of("extract-lora", "--base", base, "--model", model, out.toString(), "--rank", "4",
        "--master", "local[2]", "--verbose"));
    args.addAll(List.of(extra));
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code = Main.execute(args.toArray(String[]::new), new PrintStream(o), new PrintStream(e));
    assertEquals(0, code, o + "\n" + e);
    return out;
  }

  @Test
  void factorsEqualTheTruncatedSvdOfTheTaskVectorAndMergeBack() throws Exception {
    Path out = extract();
    Map<String, double[]> a = Checkpoints.read(out.toString());
    String p = "base_model.model.";
    for (String module : List.of(L + "self_attn.q_proj", L + "mlp.up_proj", L + "self_attn.k_proj")) {
      long[] s = SHAPES.get(module + ".weight");
      int rows = (int) s[0];
      int cols = (int) s[1];
      int r = Math.min(4, rows);
      double[] sv = new double[Math.min(rows, cols)];
      double[] want = truncation(tau.get(module + ".weight"), rows, cols, r, sv);
      double[] bm = a.get(p + module + ".lora_B.weight");
      double[] am = a.get(p + module + ".lora_A.weight");
      assertEquals(rows * r, bm.length, module + ": B is rows × r");
      assertEquals(r * cols, am.length, module + ": A is r × cols");
      double[] ba = LoraMergeJobTest.product(bm, rows, r, am, cols, false);
      assertTrue(Checkpoints.relError(ba, want) <= 1e-5, module + ": B·A = U_r S_r V_rᵀ, " + Checkpoints.relError(ba, want));
      for (int k = 0; k < r; k++) {
        double rowA = 0;
        double colB = 0;
        for (int j = 0; j < cols; j++) {
          rowA += am[k * cols + j] * am[k * cols + j];
        }
        for (int i = 0; i < rows; i++) {
          colB += bm[i * r + k] * bm[i * r + k];
        }
        assertEquals(Math.sqrt(sv[k]), Math.sqrt(rowA), 1e-5, module + ": ‖A_k‖ = √σ_k");
        assertEquals(Math.sqrt(sv[k]), Math.sqrt(colB), 1e-5, module + ": ‖B_:k‖ = √σ_k");
      }
    }
    assertFalse(a.containsKey(p + L + "self_attn.q_proj.bias"), "a factored module's bias goes to lora_B.bias");
    assertTrue(Checkpoints.relError(a.get(p + L + "self_attn.q_proj.lora_B.bias"), tau.get(L + "self_attn.q_proj.bias")) <= 1e-6);
    Map<String, double[]> m = Checkpoints.read(model);
    for (String whole : List.of("model.embed_tokens.weight", "lm_head.weight", L + "input_layernorm.weight")) {
      assertEquals(0, Checkpoints.relError(a.get(p + whole), m.get(whole)), whole + " is stored whole");
    }

    JsonNode cfg = JSON.readTree(out.resolve("adapter_config.json").toFile());
    assertEquals(4, cfg.path("r").asInt());
    assertEquals(4, cfg.path("lora_alpha").asInt());
    assertEquals(Set.of("q_proj", "k_proj", "up_proj"), strings(cfg.path("target_modules")));
    assertEquals(Set.of("embed_tokens", "lm_head", "input_layernorm"), strings(cfg.path("modules_to_save")));
    assertEquals(3, cfg.path("rank_pattern").path(L + "self_attn.k_proj").asInt(), "k_proj has 3 rows: rank 3");
    assertEquals(3, cfg.path("alpha_pattern").path(L + "self_attn.k_proj").asInt(), "alpha = rank: scale 1");
    assertTrue(cfg.path("lora_bias").asBoolean());

    JsonNode man = JSON.readTree(out.resolve("extract_lora.json").toFile());
    double[] sv = new double[12];
    truncation(tau.get(L + "mlp.up_proj.weight"), 12, 16, 4, sv);
    double tail = 0;
    double all = 0;
    for (int i = 0; i < sv.length; i++) {
      all += sv[i] * sv[i];
      tail += i >= 4 ? sv[i] * sv[i] : 0;
    }
    JsonNode up = man.path("modules").path(L + "mlp.up_proj");
    assertEquals(Math.sqrt(tail / all), up.path("relative_error").asDouble(), 1e-5, "error = √(Σ_{i>r} σ²) / ‖τ‖");
    assertEquals("svd", up.path("algorithm").asText());
    assertTrue(man.path("modules").path(L + "self_attn.k_proj").path("relative_error").asDouble() < 1e-6, "full rank: exact");
    assertTrue(Files.readString(out.resolve("lora_modules.csv")).contains(L + "mlp.up_proj,linear,12,16,4,svd,"));
    Path html = work.resolve("report.html");
    assertEquals(0, Main.execute(new String[] {"report", out.toString(), html.toString()}, new PrintStream(new ByteArrayOutputStream()),
        new PrintStream(new ByteArrayOutputStream())));
    String page = Files.readString(html);
    assertTrue(page.contains("LoRA extraction") && page.contains(L + "mlp.up_proj") && page.contains("<img"), "report plots the errors");

    // the reverse: BASE+ADAPTER is BASE + B·A (scale alpha/r = 1), the merged weights of the truncation
    String merged = work.resolve("merged").toString();
    MergeJob.run(SparkTestSession.get(), ConfigLoader.parse("merge_method: passthrough\nmodels:\n  - model: " + base + "+" + out
        + "\n", "back.yml"), new MergeJob.Options(merged, false, 2, new PrintStream(new ByteArrayOutputStream())));
    Map<String, double[]> back = Checkpoints.read(merged);
    Map<String, double[]> b = Checkpoints.read(base);
    String q = L + "self_attn.q_proj.weight";
    double[] want = truncation(tau.get(q), 24, 16, 4, new double[16]);
    for (int i = 0; i < want.length; i++) {
      want[i] += b.get(q)[i];
    }
    assertTrue(Checkpoints.relError(back.get(q), want) <= 1e-5, "base + U_r S_r V_rᵀ");
    assertTrue(Checkpoints.relError(back.get(L + "self_attn.k_proj.weight"), m.get(L + "self_attn.k_proj.weight")) <= 1e-5,
        "full rank gives the model back");
    assertEquals(0, Checkpoints.relError(back.get("lm_head.weight"), m.get("lm_head.weight")), "modules_to_save: the model's");
  }

  @Test
  void embedLoraFactorsTheEmbeddingTransposedAndModulesFilters() throws Exception {
    Path out = extract("--embed-lora", "--no-distribute-scale", "--modules", "embed_tokens|lm_head|q_proj");
    Map<String, double[]> a = Checkpoints.read(out.toString());
    String p = "base_model.model.";
    double[] sv = new double[8];
    double[] want = truncation(tau.get("model.embed_tokens.weight"), 20, 8, 4, sv);
    double[] em = a.get(p + "model.embed_tokens.lora_embedding_A"); // r × vocab
    double[] eb = a.get(p + "model.embed_tokens.lora_embedding_B"); // dim × r
    assertEquals(4 * 20, em.length);
    assertEquals(8 * 4, eb.length);
    assertTrue(Checkpoints.relError(LoraMergeJobTest.product(eb, 8, 4, em, 20, true), want) <= 1e-5, "(B·A)ᵀ = U_r S_r V_rᵀ");
    double[] hb = a.get(p + "lm_head.lora_B.weight");
    for (int k = 0; k < 4; k++) {
      double col = 0;
      for (int i = 0; i < 20; i++) {
        col += hb[i * 4 + k] * hb[i * 4 + k];
      }
      assertEquals(1, col, 1e-5, "without distributing, B = U_r (unit columns)");
    }
    Set<String> modules = new TreeSet<>();
    a.keySet().forEach(k -> modules.add(k.replaceAll("\\.(lora_\\w+)(\\.weight|\\.bias)?$", "")));
    assertEquals(Set.of(p + "model.embed_tokens", p + "lm_head", p + L + "self_attn.q_proj"), modules, "--modules filters");
  }

  private static Set<String> strings(JsonNode arr) {
    Set<String> s = new TreeSet<>();
    arr.forEach(x -> s.add(x.asText()));
    return s;
  }
}
