package io.sparkmerge.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.method.SideValues;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The planner's side inputs, parameter precedence and plan records, from headers alone (no Spark). */
class PlannerTest {
  @TempDir static Path family;
  static List<org.apache.hadoop.fs.Path> dirs;

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 11, 2);
  }

  static MergeConfig config(String body) {
    return Configs.parse(body, dirs);
  }

  static MergePlan plan(String body) {
    return new Planner(new Configuration()).plan(config(body), 1, "test");
  }

  static List<TensorTask> merged(MergePlan p) {
    return p.shards().stream().flatMap(s -> s.tensors().stream()).filter(t -> !t.isRawCopy()).toList();
  }

  @Test
  void aSideInputKeyTheMethodDoesNotReadIsRefusedNamingTheMethodsThatRead() {
    ConfigException e = assertThrows(ConfigException.class, () -> plan("merge_method: ties\nbase_model: BASE\nmodels:\n"
        + "  - model: FT1\n    masks: FT2\n    parameters: {density: 0.5}\n"));
    assertTrue(e.getMessage().contains("models[0]") && e.getMessage().contains("'masks:'") && e.getMessage().contains("'ties'")
        && e.getMessage().contains("localize_stitch"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> plan("merge_method: linear\nmodels:\n  - model: FT1\n"
        + "    importance: task_vector_norm\n"));
    assertTrue(e.getMessage().contains("'importance:'") && e.getMessage().contains("lewis"), e.getMessage());
  }

  @Test
  void sideInputValuesAreTypedNotParameters() {
    MergePlan p = plan("merge_method: localize_stitch\nbase_model: BASE\nmodels:\n  - model: FT1\n  - model: FT2\n"
        + "parameters: {mask_scope: tensor}\n");
    for (TensorTask t : merged(p)) {
      assertEquals(2, t.sides().models());
      assertFalse(t.sides().hasGivenMask(0) || t.sides().isTaskVector(1));
      assertTrue(Double.isNaN(t.sides().globalThreshold(0)) && Double.isNaN(t.sides().importanceDensity(1)));
      assertEquals(Map.of("sparsity", 0.01), t.perModel().get(0).asMap(), "no side-input value among the parameters");
    }
  }

  @Test
  void nuslerpPlansWithItsRequiredPerModelWeight() {
    // the manifest's method-wide defaults used to be resolved with empty per-model maps: "models[0] needs 'weight'"
    MergePlan p = plan("merge_method: nuslerp\nbase_model: BASE\nmodels:\n  - model: FT1\n    parameters: {weight: 0.4}\n"
        + "  - model: FT2\n    parameters: {weight: 0.6}\nparameters: {nuslerp_flatten: true}\n");
    assertEquals(true, p.globalDefaults().get("nuslerp_flatten"));
    assertEquals(0.4, merged(p).get(0).perModel().get(0).getDouble("weight"));
  }

  @Test
  void withSidesAndMapMergedKeepEveryOtherField() {
    MergePlan p = plan("merge_method: linear\nslices:\n  - sources:\n      - model: FT1\n        layer_range: [0, 2]\n"
        + "      - model: FT2\n        layer_range: [2, 4]\n");
    TensorTask t = merged(p).stream().filter(x -> x.modelIndices() != null && x.name().contains("layers.1.")).findFirst()
        .orElseThrow();
    SideValues s = SideValues.none(2).withImportanceDensity(1, 0.25);
    MergePlan q = p.mapMerged(x -> x == t ? x.withSides(s) : x);
    TensorTask u = merged(q).stream().filter(x -> x.name().equals(t.name())).findFirst().orElseThrow();
    assertEquals(0.25, u.sides().importanceDensity(1));
    assertArrayEquals(t.modelIndices(), u.modelIndices());
    assertArrayEquals(t.sourceNames(), u.sourceNames());
    assertEquals(t.sourceNames()[2], u.modelSource(1), "a renumbered layer still reads its source tensor");
    assertEquals(List.of(t.perModel(), t.position(), t.cost(), t.readBytes()),
        List.of(u.perModel(), u.position(), u.cost(), u.readBytes()));
  }

  @Test
  void analysisWeightsFollowTheOnePrecedenceAndTheModelsConfigIndex() {
    MergeConfig cfg = config("merge_method: linear\nmodels:\n  - model: FT1\n    parameters: {weight: [1, 3]}\n"
        + "  - model: FT2\nparameters: {weight: 2}\n");
    Planner.AnalysisInputs in = new Planner(new Configuration()).openWithOptionalBase(cfg);
    assertEquals(1, in.models().get(1).index());
    // a gradient over the layers, at t = 0 and t = 1; the second model takes the config-wide weight
    assertArrayEquals(new double[] {1, 2}, ModelWeights.of(cfg, in.models(), "x", 0.0), 0);
    assertArrayEquals(new double[] {3, 2}, ModelWeights.of(cfg, in.models(), "x", 1.0), 0);
    assertEquals("[1.0, 3.0]", ModelWeights.declared(cfg, in.models().get(0)).toString());
    assertNull(ModelWeights.declared(config("merge_method: linear\nmodels:\n  - model: FT1\n"), in.models().get(0)));
  }

  @Test
  void aConfigBuiltInCodeRendersYamlThatLoadsToTheSameConfig() {
    MergeConfig built = MergeConfig.builder("ties").baseModel(dirs.get(0).toString())
        .model(dirs.get(1).toString(), Map.of("weight", 0.5, "density", 0.2)).model(dirs.get(2).toString(), Map.of())
        .parameter("lambda", 0.8).compute(true, false, null, 42, false).text(null, "built in a test").build();
    assertTrue(built.rawYaml().startsWith("# built in a test\nmerge_method: ties\n"), built.rawYaml());
    MergeConfig loaded = ConfigLoader.parse(built.rawYaml(), "rendered.yml");
    assertEquals(List.of(built.mergeMethod(), built.baseModel(), built.seed(), built.computeDouble()),
        List.of(loaded.mergeMethod(), loaded.baseModel(), loaded.seed(), loaded.computeDouble()));
    assertEquals(built.parameters().toString(), loaded.parameters().toString());
    for (int i = 0; i < 2; i++) {
      assertEquals(built.models().get(i).path(), loaded.models().get(i).path());
      assertEquals(built.models().get(i).parameters().toString(), loaded.models().get(i).parameters().toString());
    }
  }
}
