package io.sparkmerge.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.InputDataException;
import io.sparkmerge.io.DType;
import org.junit.jupiter.api.Test;

/** config.json of the output says what the merge wrote: layer count, dtype (both keys), vocabulary size. */
class ConfigJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String LLAMA = "{\"model_type\": \"llama\", \"num_hidden_layers\": 4, \"torch_dtype\": \"float32\","
      + " \"vocab_size\": 256, \"rope_scaling\": null}";

  @Test
  void outputDtypeGoesIntoTorchDtypeAndTheNewerDtypeKey() throws Exception {
    JsonNode c = JSON.readTree(ConfigJson.rewrite(LLAMA, "config.json", -1, DType.BF16, -1));
    assertEquals("bfloat16", c.get("torch_dtype").asText());
    assertEquals("bfloat16", c.get("dtype").asText());
    assertEquals(4, c.get("num_hidden_layers").asInt(), "layer count left alone");
    assertEquals(256, c.get("vocab_size").asInt(), "vocabulary left alone");
    assertEquals("llama", c.get("model_type").asText());
    assertEquals("float16", JSON.readTree(ConfigJson.rewrite(LLAMA, "c", -1, DType.F16, -1)).get("dtype").asText());
    assertEquals("float64", JSON.readTree(ConfigJson.rewrite(LLAMA, "c", -1, DType.F64, -1)).get("torch_dtype").asText());
  }

  @Test
  void noDtypeLeavesTheDonorsKeysAndOtherChangesApply() throws Exception {
    JsonNode c = JSON.readTree(ConfigJson.rewrite(LLAMA, "config.json", 6, null, 32000));
    assertEquals("float32", c.get("torch_dtype").asText());
    assertFalse(c.has("dtype"), "no dtype key invented when the output keeps the input's dtype");
    assertEquals(6, c.get("num_hidden_layers").asInt());
    assertEquals(32000, c.get("vocab_size").asLong());
    assertEquals(true, c.get("rope_scaling").isNull(), "other keys kept as they were");
  }

  @Test
  void aConfigThatIsNotAnObjectNamesTheFile() {
    InputDataException e = assertThrows(InputDataException.class, () -> ConfigJson.rewrite("[1, 2]", "/m/config.json", 2, null, -1));
    assertEquals(true, e.getMessage().startsWith("/m/config.json: not a JSON object"), e.getMessage());
  }
}
