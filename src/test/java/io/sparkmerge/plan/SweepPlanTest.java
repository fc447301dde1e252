package io.sparkmerge.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.config.MergeConfig;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Grid axes, their product, refinement rounds and a candidate's config, worked by hand. */
class SweepPlanTest {

  @Test
  void axesParseLogLinearAndListGrids() {
    SweepPlan.Axis log = SweepPlan.Axis.parse("lambda=0.1:10:log:5");
    assertEquals(List.of(0.1, 0.3162, 1.0, 3.162, 10.0), log.values());
    assertTrue(log.log());
    SweepPlan.Axis lin = SweepPlan.Axis.parse("density=0.2:0.8:lin:4");
    assertEquals(List.of(0.2, 0.4, 0.6, 0.8), lin.values());
    SweepPlan.Axis list = SweepPlan.Axis.parse("models.1.weight=0.9,0.1,0.5");
    assertEquals(1, list.model());
    assertEquals("weight", list.param());
    assertEquals(List.of(0.1, 0.5, 0.9), list.values());
    for (String bad : List.of("lambda", "lambda=", "lambda=1:0.1:log:3", "lambda=0:1:log:3", "lambda=0.1:1:cubic:3",
        "lambda=0.1:1:log:1", "lambda=a,b", "models.x.weight=1,2")) {
      assertThrows(ConfigException.class, () -> SweepPlan.Axis.parse(bad), bad);
    }
  }

  @Test
  void theGridIsTheProductWithTheFirstAxisSlowest() {
    List<SweepPlan.Candidate> c = SweepPlan.grid(List.of(SweepPlan.Axis.parse("lambda=0.5,2"),
        SweepPlan.Axis.parse("density=0.1,0.3")));
    assertEquals(List.of("lambda=0.5_density=0.1", "lambda=0.5_density=0.3", "lambda=2_density=0.1", "lambda=2_density=0.3"),
        c.stream().map(SweepPlan.Candidate::id).toList());
  }

  @Test
  void refineExtendsAnEdgeOutwardsAndZoomsInBetweenNeighboursInLogSpace() {
    List<SweepPlan.Axis> axes = List.of(SweepPlan.Axis.parse("lambda=0.1,1,10"));
    // best at the upper edge: one log step outwards (100) and the log midpoint below (sqrt(10) = 3.162)
    SweepPlan.Refinement r = SweepPlan.refine(axes, Map.of("lambda", 10.0), Set.of("lambda=0.1", "lambda=1", "lambda=10"));
    assertEquals(List.of("lambda=100", "lambda=3.162"), r.candidates().stream().map(SweepPlan.Candidate::id).sorted().toList());
    assertEquals(List.of(0.1, 1.0, 3.162, 10.0, 100.0), r.axes().get(0).values());
    // interior best: the two log midpoints; values already tried are not repeated
    SweepPlan.Refinement in = SweepPlan.refine(r.axes(), Map.of("lambda", 3.162), Set.of("lambda=1", "lambda=10", "lambda=3.162"));
    assertEquals(List.of("lambda=1.778", "lambda=5.623"), in.candidates().stream().map(SweepPlan.Candidate::id).sorted().toList());
    // a linear axis steps linearly (0.2 − 0.2 = 0 is not a density: halved to 0.1); other axes stay at the best's values
    List<SweepPlan.Axis> two = List.of(SweepPlan.Axis.parse("density=0.2:0.6:lin:3"), SweepPlan.Axis.parse("lambda=1,2"));
    SweepPlan.Refinement lin = SweepPlan.refine(two, Map.of("density", 0.2, "lambda", 2.0), Set.of());
    assertEquals(List.of("lambda=2_density=0.1", "lambda=2_density=0.3", "lambda=1.414_density=0.2", "lambda=4_density=0.2"),
        lin.candidates().stream().map(c -> "lambda=" + SweepPlan.format(c.values().get("lambda")) + "_density="
            + SweepPlan.format(c.values().get("density"))).toList());
  }

  @Test
  void aCandidatesConfigSetsTheGridValuesOverTheText() {
    MergeConfig cfg = ConfigLoader.parse("""
        merge_method: ties
        base_model: /b
        models:
          - model: /m1
            parameters: {weight: 1, density: 0.5}
          - model: /m2
            parameters: {weight: 1}
        parameters: {lambda: 1}
        """, "t.yml");
    List<SweepPlan.Axis> axes = List.of(SweepPlan.Axis.parse("lambda=2,3"), SweepPlan.Axis.parse("density=0.1,0.2"),
        SweepPlan.Axis.parse("models.1.weight=0.25,0.5"));
    SweepPlan.Candidate c = SweepPlan.grid(axes).get(0);
    MergeConfig x = SweepPlan.configFor(cfg, axes, c);
    assertEquals("2.0", x.parameters().get("lambda").toString().replace("Scalar[value=", "").replace("]", ""));
    assertTrue(x.models().get(0).parameters().get("density").toString().contains("0.1"), "a model's own density is overridden");
    assertTrue(x.models().get(1).parameters().get("weight").toString().contains("0.25"));
    assertTrue(x.models().get(0).parameters().get("weight").toString().contains("1"));
    assertTrue(x.rawYaml().startsWith("# sparkmerge sweep candidate " + c.id()));
    assertThrows(ConfigException.class, () -> SweepPlan.configFor(cfg, List.of(SweepPlan.Axis.parse("models.2.weight=1,2")),
        SweepPlan.grid(List.of(SweepPlan.Axis.parse("models.2.weight=1,2"))).get(0)));
  }
}
