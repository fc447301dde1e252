package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.TensorCodec;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * compute_dtype: input through the Spark job reproduces mergekit's BF16 arithmetic bit for bit:
 * float32 inputs cast to bfloat16 (dtype: bfloat16, as mergekit's GatherTensors casts), then every
 * operation of linear.py / generalized_task_arithmetic.py rounded in its order. The references are
 * scalar loops written from mergekit's code, rounding with TensorCodec's float → BF16 conversion.
 */
class InputComputeJobTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;
  static Map<String, double[]> base;
  static Map<String, double[]> ft1;
  static Map<String, double[]> ft2;

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 29, 2);
    base = Checkpoints.read(dirs.get(0).toString());
    ft1 = Checkpoints.read(dirs.get(1).toString());
    ft2 = Checkpoints.read(dirs.get(2).toString());
  }

  private static float bf(double v) {
    return io.sparkmerge.io.HalfFloats.bf16ToFloat(io.sparkmerge.io.HalfFloats.floatToBf16((float) v));
  }

  private Map<String, double[]> merge(String yaml) throws IOException {
    String out = work.resolve("out" + System.nanoTime()).toString();
    MergeConfig cfg = ConfigLoader.parse(yaml, "input.yml");
    MergeJob.run(SparkTestSession.get(), cfg, new MergeJob.Options(out, false, 2, new PrintStream(new ByteArrayOutputStream())));
    return Checkpoints.read(out);
  }

  @Test
  void linearRoundsEachProductTheSumAndTheQuotient() throws IOException {
    Map<String, double[]> got = merge("merge_method: linear\ndtype: bfloat16\ncompute_dtype: input\nmodels:\n  - model: " + dirs.get(1)
        + "\n    parameters: {weight: 0.7}\n  - model: " + dirs.get(2) + "\n    parameters: {weight: 0.45}\n");
    float w1 = bf(0.7);
    float w2 = bf(0.45);
    float div = bf(w1 + w2);
    int differsFromFloat32 = 0;
    for (String n : List.of("model.layers.0.self_attn.q_proj.weight", "model.norm.weight", "lm_head.weight")) {
      double[] a = ft1.get(n);
      double[] b = ft2.get(n);
      for (int i = 0; i < a.length; i++) {
        float sum = bf(bf(w1 * bf(a[i])) + bf(w2 * bf(b[i])));
        float want = bf(sum / div);
        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits((float) got.get(n)[i]), n + "[" + i + "]");
        differsFromFloat32 += want != bf((0.7 * a[i] + 0.45 * b[i]) / 1.15) ? 1 : 0;
      }
    }
    assertTrue(differsFromFloat32 > 0, "the 16-bit arithmetic differs from float32-then-round somewhere, or the test shows nothing");
  }

  @Test
  void tiesRoundsInMergekitsOrder() throws IOException {
    Map<String, double[]> got = merge("merge_method: ties\nbase_model: " + dirs.get(0) + "\ndtype: bfloat16\ncompute_dtype: input\n"
        + "parameters: {lambda: 0.8}\nmodels:\n  - model: " + dirs.get(1) + "\n    parameters: {weight: 0.6, density: 0.4}\n"
        + "  - model: " + dirs.get(2) + "\n    parameters: {weight: 0.5, density: 0.6}\n");
    float[] w = {bf(0.6), bf(0.5)};
    double[] dens = {0.4, 0.6};
    for (String n : List.of("model.layers.1.mlp.down_proj.weight", "model.layers.2.post_attention_layernorm.weight")) {
      double[] b = base.get(n);
      double[][] x = {ft1.get(n), ft2.get(n)};
      int len = b.length;
      float[][] wd = new float[2][len];
      for (int t = 0; t < 2; t++) {
        float[] tau = new float[len];
        for (int i = 0; i < len; i++) {
          tau[i] = bf(bf(x[t][i]) - bf(b[i]));
        }
        int k = (int) Math.floor(dens[t] * len);
        Integer[] order = IntStream.range(0, len).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -Math.abs(tau[i])).thenComparingInt(i -> i));
        for (int r = 0; r < k; r++) {
          int i = order[r];
          wd[t][i] = bf(tau[i] * w[t]);
        }
      }
      for (int i = 0; i < len; i++) {
        boolean plus = bf(wd[0][i] + wd[1][i]) >= 0;
        float mixed = 0;
        float div = 0;
        for (int t = 0; t < 2; t++) {
          if (wd[t][i] != 0 && (wd[t][i] > 0) == plus) {
            mixed += wd[t][i];
            div += w[t];
          }
        }
        mixed = bf(mixed);
        div = bf(div) == 0 ? 1 : bf(div);
        float want = bf(bf(b[i]) + bf(bf(mixed / div) * 0.8f));
        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits((float) got.get(n)[i]), n + "[" + i + "]");
      }
    }
  }

  @Test
  void aMethodWithoutTheArithmeticIsAConfigErrorNamingTheOnesThatHaveIt() {
    String yaml = "merge_method: karcher\ndtype: bfloat16\ncompute_dtype: input\nmodels:\n  - model: " + dirs.get(1)
        + "\n  - model: " + dirs.get(2) + "\n";
    ConfigException e = assertThrows(ConfigException.class, () -> merge(yaml));
    assertTrue(e.getMessage().contains("compute_dtype: input") && e.getMessage().contains("karcher")
        && e.getMessage().contains("linear") && e.getMessage().contains("ties"), e.getMessage());
    ConfigException bad = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
        "merge_method: linear\ncompute_dtype: bf16x\nmodels: [/m]\n", "c.yml"));
    assertTrue(bad.getMessage().contains("float32, float64 or input"), bad.getMessage());
  }
}
