package io.sparkmerge.param;

import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** methods.md §0: gradients, steps, conditions, precedence and validation. */
class ParameterResolverTest {
  static ParameterValue v(Object yaml) {
    return ParameterValue.parse(yaml, "test");
  }

  @Test
  void gradientsInterpolateAtTheLayerPosition() {
    assertEquals(0.25, (double) v(List.of(0, 1)).evaluate("x", 0.25), 1e-15);
    // 3 values: s = t·2; t = 0.75 → s = 1.5 → halfway between v[1] = 0.5 and v[2] = 0.0
    assertEquals(0.25, (double) v(List.of(1.0, 0.5, 0.0)).evaluate("x", 0.75), 1e-15);
    assertEquals(0.0, (double) v(List.of(1.0, 0.5, 0.0)).evaluate("x", 1.0), 1e-15);
    assertEquals(1.0, (double) v(List.of(1.0, 0.5, 0.0)).evaluate("x", 0.0), 1e-15);
    assertEquals(7.0, (double) v(List.of(7)).evaluate("x", 0.6), 0);
  }

  @Test
  void stepListsAndConditions() {
    assertEquals("b", v(List.of("a", "b", "c")).evaluate("x", 0.6));
    assertEquals(true, v(List.of(false, true)).evaluate("x", 1.0));
    ParameterValue c = v(List.of(Map.of("filter", "self_attn", "value", 0.1), Map.of("filter", "lm_head|embed", "value", 0.2),
        Map.of("value", List.of(0.0, 1.0))));
    assertEquals(0.1, c.evaluate("model.layers.3.self_attn.q_proj.weight", 0.5));
    assertEquals(0.2, c.evaluate("model.embed_tokens.weight", 0.0), "regex alternative");
    assertEquals(0.5, (double) c.evaluate("model.layers.3.mlp.up_proj.weight", 0.5), 1e-15, "catch-all gradient");
    assertNull(v(List.of(Map.of("filter", "mlp", "value", 1))).evaluate("attn", 0), "no match falls through");
  }

  @Test
  void precedenceTensorOverrideModelSliceGlobalDefault() {
    MergeMethod ties = MethodRegistry.get("ties");
    Map<String, ParameterValue> global = Map.of("density", v(0.9), "weight", v(0.3));
    Map<String, ParameterValue> slice = Map.of("density", v(0.8));
    List<Map<String, ParameterValue>> models = List.of(Map.of("density", v(0.7)), Map.of());
    var r = ParameterResolver.resolve(ties, "t", 0, Map.of(), models, slice, global);
    assertEquals(0.7, r.perModel().get(0).getDouble("density"), "model beats slice");
    assertEquals(0.8, r.perModel().get(1).getDouble("density"), "slice beats global");
    assertEquals(0.3, r.perModel().get(1).getDouble("weight"), "global beats default");
    assertEquals(1.0, r.global().getDouble("lambda"), "default");
    assertEquals(true, r.global().getBoolean("normalize"), "ties' default normalize");
    var o = ParameterResolver.resolve(ties, "t", 0, Map.of("density", v(0.5)), models, slice, global);
    assertEquals(0.5, o.perModel().get(0).getDouble("density"), "tensor override beats all");
  }

  @Test
  void unknownAndMisplacedParametersAreErrors() {
    MergeMethod ties = MethodRegistry.get("ties");
    ConfigException e = assertThrows(ConfigException.class,
        () -> ParameterResolver.resolve(ties, "t", 0, Map.of(), List.of(Map.of("densty", v(0.5))), Map.of(), Map.of()));
    assertTrue(e.getMessage().contains("did you mean 'density'") && e.getMessage().contains("valid parameters"), e.getMessage());
    ConfigException g = assertThrows(ConfigException.class,
        () -> ParameterResolver.resolve(ties, "t", 0, Map.of(), List.of(Map.of("lambda", v(0.5))), Map.of(), Map.of()));
    assertTrue(g.getMessage().contains("top-level 'parameters:'"), g.getMessage());
    ConfigException kind = assertThrows(ConfigException.class,
        () -> ParameterResolver.resolve(ties, "t", 0, Map.of(), List.of(Map.of()), Map.of(), Map.of("normalize", v(3))));
    assertTrue(kind.getMessage().contains("normalize"), kind.getMessage());
    assertThrows(ConfigException.class, () -> v(List.of(1, "a")));
    assertThrows(ConfigException.class, () -> v(List.of()));
  }
}
