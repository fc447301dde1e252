package io.sparkmerge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** chat_template: NAME gives the text mergekit ships under that name (a6e4028), byte for byte. */
class ChatTemplatesTest {
  /** SHA-256 of mergekit/_data/chat_templates/NAME.jinja at a6e4028 (sha256sum of mergekit's files). */
  private static final Map<String, String> MERGEKIT = Map.of(
      "alpaca", "95937b9bcf22b3759c6be7ca8d92d817e8c092c509bfcb6363c9cabfc09a4245",
      "chatml", "99000004eb5936e12e2cb9ba6449b7d194155b6439e8686f658b15cc71938b0b",
      "exaone", "add73d0750d7a20f8a9100f60e4a8c7e6e72fd02513816bc992a70da39cbf373",
      "llama3", "9d12985182ab0fcda12fd009b2a7f8d30a91c004857c472d5636f3cead82de56",
      "mistral", "796853172235ab3aaa4810013ddfe2eab481bda3306dad4f700c00d436eed596");

  @Test
  void everyNamedTemplateIsMergekitsText() throws Exception {
    assertEquals(MERGEKIT.keySet(), new java.util.TreeSet<>(MergekitKeys.NAMED_TEMPLATES).stream().collect(
        java.util.stream.Collectors.toSet()));
    for (Map.Entry<String, String> e : MERGEKIT.entrySet()) {
      byte[] text = MergekitKeys.namedTemplate(e.getKey()).getBytes(StandardCharsets.UTF_8);
      assertEquals(e.getValue(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text)), e.getKey());
    }
  }

  @Test
  void aConfigNamingOneCarriesItsText() {
    MergeConfig c = ConfigLoader.parse("merge_method: linear\nmodels: [/m1, /m2]\nchat_template: chatml\n", "c.yml");
    assertTrue(c.chatTemplate().startsWith("{% for message in messages %}{{'<|im_start|>' + message['role']"), c.chatTemplate());
    assertTrue(ConfigLoader.parse("merge_method: linear\nmodels: [/m]\nchat_template: llama3\n", "c.yml").chatTemplate()
        .contains("<|start_header_id|>"));
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.parse("merge_method: linear\nmodels: [/m]\nchat_template: chatmll\n", "c.yml"));
    assertTrue(e.getMessage().contains("'chatmll'") && e.getMessage().contains("chatml"), e.getMessage());
  }
}
