package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.analysis.TensorStats;
import io.sparkmerge.math.WeightScope;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stats job end to end: tables and their schema, values against in-test computations over whole tensors. */
class StatsJobTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 13, 2);
  }

  private StatsJob.Outcome run(String yaml, String out, ByteArrayOutputStream console) throws IOException {
    return StatsJob.run(SparkTestSession.get(), Configs.parse(yaml, dirs),
        new StatsJob.Options(out, false, WeightScope.Fusion.MOMENT, 5, new PrintStream(console)));
  }

  static double[] meanVar(double[] x) {
    double m = 0;
    for (double v : x) {
      m += v;
    }
    m /= x.length;
    double s = 0;
    for (double v : x) {
      s += (v - m) * (v - m);
    }
    return new double[] {m, s / x.length};
  }

  @Test
  void tablesMatchWholeTensorComputations() throws IOException {
    String out = work.resolve("stats").toString();
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    StatsJob.Outcome o = run("""
        merge_method: ties
        base_model: BASE
        models:
          - model: FT1
            parameters: {weight: 3}
          - model: FT2
            parameters: {weight: 1}
        """, out, console);
    Map<String, double[]> base = Checkpoints.read(dirs.get(0).toString());
    Map<String, double[]> f1 = Checkpoints.read(dirs.get(1).toString());
    Map<String, double[]> f2 = Checkpoints.read(dirs.get(2).toString());
    assertEquals(base.size() * 5, o.stats().size());
    assertEquals(base.size(), o.pairs().size());

    String name = "model.layers.1.self_attn.q_proj.weight";
    double[] t1 = new double[base.get(name).length];
    double[] t2 = new double[t1.length];
    double dot = 0;
    double n1 = 0;
    double n2 = 0;
    int both = 0;
    int conflict = 0;
    for (int i = 0; i < t1.length; i++) {
      t1[i] = f1.get(name)[i] - base.get(name)[i];
      t2[i] = f2.get(name)[i] - base.get(name)[i];
      dot += t1[i] * t2[i];
      n1 += t1[i] * t1[i];
      n2 += t2[i] * t2[i];
      if (t1[i] != 0 && t2[i] != 0) {
        both++;
        conflict += t1[i] * t2[i] < 0 ? 1 : 0;
      }
    }
    double[] s1 = meanVar(f1.get(name));
    double[] s2 = meanVar(f2.get(name));
    double muStar = 0.75 * s1[0] + 0.25 * s2[0];
    double varStar = 0.75 * (s1[1] + (s1[0] - muStar) * (s1[0] - muStar)) + 0.25 * (s2[1] + (s2[0] - muStar) * (s2[0] - muStar));
    double kl1 = 0.5 * Math.log(varStar / s1[1]) + (s1[1] + (s1[0] - muStar) * (s1[0] - muStar)) / (2 * varStar) - 0.5;

    TensorStats.StatRow w1 = find(o, name, "ft-1", "weights");
    assertEquals(1, w1.layer());
    assertEquals(s1[0], w1.mean(), 1e-12);
    assertEquals(s1[1], w1.variance(), s1[1] * 1e-9);
    assertEquals(muStar, w1.fusedMean(), 1e-12);
    assertEquals(varStar, w1.fusedVariance(), varStar * 1e-9);
    assertEquals(kl1, w1.klToFused(), Math.abs(kl1) * 1e-6 + 1e-12);
    double[] st1 = meanVar(t1);
    TensorStats.StatRow tau1 = find(o, name, "ft-1", "task_vector");
    assertEquals(st1[0], tau1.mean(), 1e-12);
    assertEquals(st1[1], tau1.variance(), st1[1] * 1e-9);
    assertEquals(Math.sqrt(n1), tau1.l2Norm(), Math.sqrt(n1) * 1e-9);
    TensorStats.PairRow p = o.pairs().stream().filter(r -> r.tensor().equals(name)).findFirst().get();
    assertEquals(dot / Math.sqrt(n1 * n2), p.cosine(), 1e-9);
    assertEquals((double) conflict / both, p.signConflict(), 1e-12);
    assertNull(find(o, "model.norm.weight", "ft-1", "weights").klToFused());

    // committed tables with exactly the shared schema
    assertTrue(Files.exists(Path.of(out, "_SUCCESS")));
    assertEquals("tensor,layer,model,kind,numel,mean,variance,min,max,l2_norm,zero_fraction,nonfinite_count,fused_mean,"
        + "fused_variance,kl_to_fused", Files.readAllLines(Path.of(out, "tensor_stats.csv")).get(0));
    assertEquals("tensor,layer,model_i,model_j,cosine,sign_conflict", Files.readAllLines(Path.of(out, "pair_stats.csv")).get(0));
    assertEquals(o.stats().size() + 1, Files.readAllLines(Path.of(out, "tensor_stats.csv")).size());
    var df = SparkTestSession.get().read().parquet(out + "/tensor_stats.parquet");
    assertEquals(List.of(StatsJob.STATS_SCHEMA.fieldNames()), List.of(df.columns()));
    assertEquals(o.stats().size(), df.count());
    assertEquals(o.pairs().size(), SparkTestSession.get().read().parquet(out + "/pair_stats.parquet").count());
    assertTrue(console.toString().contains("most scope-mismatched layers"), console.toString());
  }

  @Test
  void withoutABaseThereAreNoTaskVectorRows() throws IOException {
    StatsJob.Outcome o = run("""
        merge_method: linear
        models: [FT1, FT2]
        """, work.resolve("s2").toString(), new ByteArrayOutputStream());
    assertTrue(o.stats().stream().allMatch(r -> r.kind().equals("weights")));
    assertTrue(o.pairs().isEmpty());
    assertEquals(2 * 39, o.stats().size());
  }

  private static TensorStats.StatRow find(StatsJob.Outcome o, String tensor, String model, String kind) {
    return o.stats().stream().filter(r -> r.tensor().equals(tensor) && r.model().equals(model) && r.kind().equals(kind))
        .findFirst().orElseThrow();
  }
}
