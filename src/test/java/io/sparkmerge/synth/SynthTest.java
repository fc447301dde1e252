package io.sparkmerge.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The writer's fast path computes exactly {@link ModelFamilyGenerator#value}, bit for bit. */
class SynthTest {
  @Test
  void fastPathEqualsTheDefinitionForEveryElementOfTheTinyFamily() {
    ModelFamilyGenerator g = new ModelFamilyGenerator(FamilyPreset.of("tiny"), 13);
    int compared = 0;
    for (int model = 0; model <= 2; model++) {
      for (Map.Entry<String, long[]> e : g.tensors().entrySet()) {
        ModelFamilyGenerator.TensorValues fast = g.new TensorValues(model, e.getKey(), e.getValue());
        long n = ModelFamilyGenerator.numel(e.getValue());
        int m = model;
        for (long i = 0; i < n; i++) {
          float want = g.value(model, e.getKey(), e.getValue(), i);
          assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(fast.at(i)),
              "model " + m + " " + e.getKey() + " element " + i);
          compared++;
        }
      }
    }
    assertEquals(3 * 246_336, compared, "every element of base + 2 fine-tunes compared");
  }

  @Test
  void fastPathEqualsTheDefinitionOnAWideMatrixAcrossRowBoundaries() {
    ModelFamilyGenerator g = new ModelFamilyGenerator(FamilyPreset.of("small"), 7);
    String name = "model.layers.3.mlp.down_proj.weight";
    long[] shape = g.tensors().get(name);
    ModelFamilyGenerator.TensorValues fast = g.new TensorValues(2, name, shape);
    long cols = shape[1];
    for (long i = 0; i < 5 * cols + 17; i++) {
      assertEquals(Float.floatToRawIntBits(g.value(2, name, shape, i)), Float.floatToRawIntBits(fast.at(i)), "element " + i);
    }
  }
}
