package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.OutputExistsException;
import io.sparkmerge.math.WeightScope;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.synth.FamilyPreset;
import io.sparkmerge.synth.ModelFamilyGenerator;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.ScopeReference;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** scopes export end to end: fused scopes against whole-tensor computations, JSON + Parquet, refusal to overwrite. */
class ScopesJobTest {
  @TempDir Path work;

  @Test
  void exportsFusedScopesOfEveryMatrix() throws IOException {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(work.resolve("family"), 19, 2);
    MergeConfig cfg = Configs.parse("""
        merge_method: linear
        base_model: BASE
        models:
          - model: FT1
            parameters: {weight: 1200}
          - model: FT2
            parameters: {weight: 400}
        """, dirs);
    Path json = work.resolve("round").resolve("scopes.json");
    var opts = new ScopesJob.Options(json.toString(), false, WeightScope.Fusion.MEAN, new PrintStream(new ByteArrayOutputStream()));
    List<ScopesJob.TargetScope> scopes = ScopesJob.run(SparkTestSession.get(), cfg, opts);
    Map<String, double[]> a = Checkpoints.read(dirs.get(1).toString());
    Map<String, double[]> b = Checkpoints.read(dirs.get(2).toString());
    var shapes = new ModelFamilyGenerator(FamilyPreset.of("tiny"), 19).tensors();
    long matrices = shapes.values().stream().filter(s -> s.length >= 2).count();
    assertEquals(matrices, scopes.size());
    JsonNode root = new ObjectMapper().readTree(json.toFile());
    assertEquals("mean", root.get("fusion").asText());
    assertEquals(1200.0, root.get("models").get(0).get("weight").asDouble());
    for (ScopesJob.TargetScope s : scopes) {
      // fusion mean, weights 3:1
      double mu = 0.75 * ScopeReference.mean(a.get(s.tensor())) + 0.25 * ScopeReference.mean(b.get(s.tensor()));
      double var = 0.75 * ScopeReference.variance(a.get(s.tensor())) + 0.25 * ScopeReference.variance(b.get(s.tensor()));
      assertEquals(mu, s.mean(), 1e-12, s.tensor());
      assertEquals(var, s.variance(), var * 1e-9, s.tensor());
      JsonNode j = root.get("scopes").get(s.tensor());
      assertEquals(s.mean(), j.get("mean").asDouble(), 0.0);
      assertEquals(s.variance(), j.get("variance").asDouble(), 0.0);
    }
    assertEquals(matrices, SparkTestSession.get().read().parquet(work.resolve("round").resolve("scopes.parquet").toString()).count());
    try (var files = Files.list(work.resolve("round"))) {
      assertFalse(files.anyMatch(p -> p.getFileName().toString().contains(".tmp-")), "temporary files left behind");
    }
    assertThrows(OutputExistsException.class, () -> ScopesJob.run(SparkTestSession.get(), cfg, opts));
    assertTrue(Files.exists(json));
  }
}
