package io.sparkmerge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.io.DType;
import org.junit.jupiter.api.Test;

/** mergekit's keys beyond models: slices, dtype/out_dtype, tokenizer_source, chat_template. */
class MergekitKeysTest {
  static final String SLICES = """
      merge_method: passthrough
      slices:
        - sources:
            - model: /m/a
              layer_range: [0, 2]
          parameters: {scale: 1.0}
        - sources:
            - model: /m/b
              layer_range: [3, 5]
              parameters: {scale: 0.5}
      """;

  static String error(String yaml) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "c.yml")).getMessage();
  }

  @Test
  void slicesParseWithTheirParameters() {
    MergeConfig c = ConfigLoader.parse(SLICES, "c.yml");
    assertTrue(c.hasSlices());
    assertTrue(c.models().isEmpty());
    assertEquals(2, c.slices().size());
    assertEquals(new MergeConfig.SliceSource("/m/b", 3, 5, c.slices().get(1).sources().get(0).parameters()),
        c.slices().get(1).sources().get(0));
    assertEquals(0.5, c.slices().get(1).sources().get(0).parameters().get("scale").evaluate("x", 0));
    assertEquals(1.0, c.slices().get(0).parameters().get("scale").evaluate("x", 0));
    assertEquals(2, c.slices().get(0).layerCount());
  }

  @Test
  void badSlicesAreClearErrors() {
    assertTrue(error(SLICES + "models: [/m/a]\n").contains("not both"));
    assertTrue(error(SLICES.replace("[3, 5]", "[3, 3]")).contains("layer_range [3, 3] is empty"));
    assertTrue(error(SLICES.replace("[0, 2]", "0")).contains("'layer_range' must be [FROM, TO]"));
    assertTrue(error(SLICES.replace("layer_range: [0, 2]", "layer_range: [0, 2]\n        weight: 1")).contains("unknown key 'weight'"));
    String twoSources = """
        merge_method: linear
        slices:
          - sources:
              - {model: /m/a, layer_range: [0, 4]}
              - {model: /m/b, layer_range: [0, 3]}
        """;
    String e = error(twoSources);
    assertTrue(e.contains("slices[0].sources[1] (/m/b)") && e.contains("same number of layers"), e);
  }

  @Test
  void dtypeIsTheOutputUnlessOutDtypeIsGiven() {
    String m = "merge_method: linear\nmodels: [/m/a, /m/b]\n";
    assertEquals(DType.BF16, ConfigLoader.parse(m + "dtype: bfloat16\n", "c").outDtype());
    MergeConfig both = ConfigLoader.parse(m + "dtype: float64\nout_dtype: bfloat16\n", "c");
    assertEquals(DType.BF16, both.outDtype());
    assertTrue(both.computeDouble(), "mergekit computes in 'dtype' when out_dtype is given");
    MergeConfig half = ConfigLoader.parse(m + "dtype: float16\nout_dtype: float32\n", "c");
    assertEquals(DType.F32, half.outDtype());
    assertFalse(half.computeDouble());
    assertTrue(error(m + "dtype: int8\n").contains("dtype 'int8' is not one of"));
  }

  @Test
  void tokenizerSourceAndChatTemplate() {
    String m = "merge_method: linear\nbase_model: /m/base\nmodels: [/m/a, /m/b]\n";
    assertEquals("base", ConfigLoader.parse(m + "tokenizer_source: base\n", "c").tokenizerSource());
    assertEquals("/m/b", ConfigLoader.parse(m + "tokenizer_source: /m/b\n", "c").tokenizerSource());
    assertNull(ConfigLoader.parse(m, "c").tokenizerSource());
    MergeConfig union = ConfigLoader.parse(m + "tokenizer_source: union\n", "c");
    assertNull(union.tokenizerSource(), "a union builds its tokenizer files; none is copied");
    assertTrue(union.tokenizer().union() && union.tokenizer().explicit());
    assertTrue(error("merge_method: linear\nmodels: [/m/a]\ntokenizer_source: base\n").contains("needs 'base_model:'"));
    TokenizerSpec block = ConfigLoader.parse(m + "tokenizer:\n  pad_to_multiple_of: 64\n  tokens:\n    \"<x>\":\n"
        + "      source: /m/a\n      force: true\n    \"<z>\":\n      source: {kind: zero}\n", "c").tokenizer();
    assertEquals("union", block.source(), "the block's source defaults to union, as mergekit's");
    assertEquals(64, block.padToMultipleOf());
    assertEquals(new TokenizerSpec.TokenEmbedding(TokenizerSpec.Kind.MODEL, "/m/a", null, -1, true), block.tokens().get("<x>"));
    assertEquals(TokenizerSpec.Kind.ZERO, block.tokens().get("<z>").kind());
    assertTrue(error(m + "tokenizer:\n  pad_to_multiple_of: -3\n").contains("positive integer"));
    assertTrue(error(m + "tokenizer:\n  tokens:\n    t:\n      source: {kind: model_token, model: /m/a}\n")
        .contains("exactly one of token_id and token"));
    assertTrue(error(m + "tokenizer:\n  sorce: union\n").contains("'source'"), "a misspelt key suggests the right one");
    assertEquals("auto", ConfigLoader.parse(m + "chat_template: auto\n", "c").chatTemplate());
    String tpl = "{% for message in messages %}{{ message['content'] }}{% endfor %}";
    assertEquals(tpl, ConfigLoader.parse(m + "chat_template: \"" + tpl + "\"\n", "c").chatTemplate());
    assertTrue(ConfigLoader.parse(m + "chat_template: chatml\n", "c").chatTemplate().contains("<|im_start|>"), "a named template");
    assertTrue(error(m + "chat_template: short\n").contains("named templates"));
  }
}
