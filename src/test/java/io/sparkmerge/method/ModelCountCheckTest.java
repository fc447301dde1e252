package io.sparkmerge.method;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sparkmerge.ConfigException;
import org.junit.jupiter.api.Test;

/** The fixed-model-count methods' checks (declared with MethodBase.modelCount): their bounds and their exact one-line messages. */
class ModelCountCheckTest {
  private static String rejected(String method, int models, boolean hasBase) {
    return assertThrows(ConfigException.class, () -> MethodHarness.validateModels(MethodRegistry.get(method), models, hasBase))
        .getMessage();
  }

  private static void accepted(String method, int models, boolean hasBase) {
    assertDoesNotThrow(() -> MethodHarness.validateModels(MethodRegistry.get(method), models, hasBase), method + " " + models);
  }

  @Test
  void boundsAndMessages() {
    accepted("passthrough", 1, false);
    assertEquals("merge_method 'passthrough' takes exactly one model, got 2; list one model (use tensors: overrides to take "
        + "tensors from elsewhere)", rejected("passthrough", 2, false));
    accepted("slerp", 1, true);
    assertEquals("merge_method 'slerp' interpolates the base with exactly one other model, got 0 besides the base; use nuslerp "
        + "or karcher for other counts", rejected("slerp", 0, true));
    accepted("nuslerp", 2, false);
    assertEquals("merge_method 'nuslerp' takes exactly two models (plus an optional base), got 1", rejected("nuslerp", 1, false));
    assertEquals("merge_method 'nuslerp' takes exactly two models (plus an optional base), got 3", rejected("nuslerp", 3, true));
    accepted("model_stock", 2, true);
    accepted("model_stock", 7, true);
    assertEquals("merge_method 'model_stock' needs a base and at least two other models, got 1 besides the base",
        rejected("model_stock", 1, true));
    accepted("arcee_fusion", 1, true);
    assertEquals("merge_method 'arcee_fusion' fuses the base with exactly one other model, got 2 besides the base; list one "
        + "model under models:", rejected("arcee_fusion", 2, true));
    accepted("nearswap", 1, true);
    assertEquals("merge_method 'nearswap' swaps entries between the base and exactly one other model, got 0 besides the base; "
        + "list one model under models:", rejected("nearswap", 0, true));
  }
}
