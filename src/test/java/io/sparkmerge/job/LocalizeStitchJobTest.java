package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.InputDataException;
import io.sparkmerge.io.DType;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.SmallCheckpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Localize-and-Stitch through the real merge job (global and per-tensor dataless masks, given masks)
 * against a reference computed in the test by sorting every magnitude.
 */
class LocalizeStitchJobTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;
  static Map<String, double[]> base;
  static List<Map<String, double[]>> fts = new ArrayList<>();

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 3, 3);
    List<Map<String, double[]>> all = Checkpoints.readAll(dirs);
    base = all.get(0);
    fts.addAll(all.subList(1, all.size()));
  }

  private MergeConfig config(String body) {
    return Configs.parse(body, dirs);
  }

  private String run(MergeConfig cfg, String name, int partitions) throws IOException {
    String out = work.resolve(name).toString();
    MergeJob.run(SparkTestSession.get(), cfg, new MergeJob.Options(out, false, partitions,
        new PrintStream(new ByteArrayOutputStream())));
    return out;
  }

  static double key(double x, double b) {
    return (float) Math.abs(x - b);
  }

  /** Masks by an exact sort: global over all tensors of a model, or per tensor. */
  static Map<String, boolean[]> dataless(Map<String, double[]> ft, double s, boolean global) {
    Map<String, boolean[]> masks = new LinkedHashMap<>();
    if (global) {
      List<Double> all = new ArrayList<>();
      base.forEach((n, b) -> {
        for (int i = 0; i < b.length; i++) {
          all.add(key(ft.get(n)[i], b[i]));
        }
      });
      double thr = kth(all.stream().mapToDouble(Double::doubleValue).toArray(), s);
      base.forEach((n, b) -> masks.put(n, above(ft.get(n), b, thr)));
    } else {
      base.forEach((n, b) -> {
        double[] k = new double[b.length];
        for (int i = 0; i < b.length; i++) {
          k[i] = key(ft.get(n)[i], b[i]);
        }
        masks.put(n, above(ft.get(n), b, kth(k, s)));
      });
    }
    return masks;
  }

  static double kth(double[] keys, double s) {
    double[] v = keys.clone();
    Arrays.sort(v);
    long k = Math.max(1, (long) Math.floor(s * v.length));
    return v[(int) (v.length - k)];
  }

  static boolean[] above(double[] x, double[] b, double thr) {
    boolean[] m = new boolean[b.length];
    for (int i = 0; i < b.length; i++) {
      m[i] = key(x[i], b[i]) >= thr;
    }
    return m;
  }

  /** θ₀ + Σ (γ_t / c) τ_t where c > 0, else θ₀. */
  static double[] stitch(String name, List<Map<String, boolean[]>> masks) {
    double[] b = base.get(name);
    double[] out = b.clone();
    for (int i = 0; i < b.length; i++) {
      int c = 0;
      double sum = 0;
      for (int t = 0; t < masks.size(); t++) {
        if (masks.get(t).get(name)[i]) {
          c++;
          sum += fts.get(t).get(name)[i] - b[i];
        }
      }
      if (c > 0) {
        out[i] = b[i] + sum / c;
      }
    }
    return out;
  }

  private void assertMatches(String out, List<Map<String, boolean[]>> masks) throws IOException {
    Map<String, double[]> got = Checkpoints.read(out);
    assertEquals(base.keySet(), got.keySet());
    for (String name : base.keySet()) {
      double err = Checkpoints.relError(got.get(name), stitch(name, masks));
      assertTrue(err <= 1e-6, name + " differs from the reference stitch by " + err);
    }
    // the manifest reports each model's mask density over the whole model
    JsonNode summary = new ObjectMapper().readTree(new File(out, "sparkmerge.json")).get("method_summary");
    long n = base.values().stream().mapToLong(v -> v.length).sum();
    for (int t = 0; t < masks.size(); t++) {
      long kept = masks.get(t).values().stream().mapToLong(m -> {
        long c = 0;
        for (boolean x : m) {
          c += x ? 1 : 0;
        }
        return c;
      }).sum();
      JsonNode m = summary.get("masks").get(t);
      assertEquals(kept, m.get("kept").asLong());
      assertEquals((double) kept / n, m.get("density").asDouble(), 1e-12);
      assertEquals(kept * 8, m.get("sparse_bytes").asLong()); // F32: 4-byte index + 4-byte value
    }
    assertEquals(3, summary.get("overlap").size());
  }

  @Test
  void globalAndTensorScopeMatchAnExactSort() throws IOException {
    String yaml = """
        merge_method: localize_stitch
        base_model: BASE
        models:
          - model: FT1
            parameters: {sparsity: 0.02}
          - model: FT2
            parameters: {sparsity: 0.05}
          - model: FT3
        parameters: {mask_scope: SCOPE}
        """;
    for (String scope : new String[] {"global", "tensor"}) {
      boolean global = scope.equals("global");
      List<Map<String, boolean[]>> masks = List.of(dataless(fts.get(0), 0.02, global), dataless(fts.get(1), 0.05, global),
          dataless(fts.get(2), 0.01, global));
      String one = run(config(yaml.replace("SCOPE", scope)), scope + "-1", 1);
      assertMatches(one, masks);
      String three = run(config(yaml.replace("SCOPE", scope)), scope + "-3", 3);
      Map<String, byte[]> a = Checkpoints.rawBytes(one);
      Map<String, byte[]> b = Checkpoints.rawBytes(three);
      for (String name : a.keySet()) {
        assertArrayEquals(a.get(name), b.get(name), scope + ": " + name + " depends on the partitioning");
      }
    }
  }

  @Test
  void givenMasksAreStitched() throws IOException {
    Random rnd = new Random(5);
    List<Map<String, boolean[]>> masks = new ArrayList<>();
    List<String> maskDirs = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      Map<String, boolean[]> m = new LinkedHashMap<>();
      List<SmallCheckpoints.Tensor> tensors = new ArrayList<>();
      for (var e : base.entrySet()) {
        boolean[] k = new boolean[e.getValue().length];
        double[] v = new double[k.length];
        for (int i = 0; i < k.length; i++) {
          k[i] = rnd.nextDouble() < 0.3;
          v[i] = k[i] ? 1 : 0;
        }
        m.put(e.getKey(), k);
        tensors.add(new SmallCheckpoints.Tensor(e.getKey(), shape(e.getKey()), v));
      }
      masks.add(m);
      maskDirs.add(SmallCheckpoints.write(work.resolve("masks" + t), t == 0 ? DType.U8 : DType.BOOL, tensors));
    }
    // the third model has no given masks: it gets the dataless global one
    masks.add(dataless(fts.get(2), 0.01, true));
    String yaml = """
        merge_method: localize_stitch
        base_model: BASE
        models:
          - model: FT1
            masks: M1
          - model: FT2
            masks: M2
          - model: FT3
        """.replace("M1", maskDirs.get(0)).replace("M2", maskDirs.get(1));
    assertMatches(run(config(yaml), "given", 2), masks);

    // a mask of the wrong shape is bad input, named
    List<SmallCheckpoints.Tensor> bad = new ArrayList<>();
    for (String name : base.keySet()) {
      bad.add(new SmallCheckpoints.Tensor(name, new long[] {base.get(name).length + 1}, new double[base.get(name).length + 1]));
    }
    String badDir = SmallCheckpoints.write(work.resolve("badmask"), DType.U8, bad);
    InputDataException e = assertThrows(InputDataException.class,
        () -> run(config(yaml.replace(maskDirs.get(0), badDir)), "bad", 1));
    assertTrue(e.getMessage().contains("models[0].masks"), e.getMessage());
  }

  private static long[] shape(String name) throws IOException {
    var md = io.sparkmerge.io.ModelDirectory.open(Checkpoints.localFs(), dirs.get(0));
    return md.tensors().get(name).shape();
  }
}
