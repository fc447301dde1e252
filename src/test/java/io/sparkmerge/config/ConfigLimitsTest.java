package io.sparkmerge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue 16, defect 11 (and 12's seeds): hostile YAML ends in a short exit-2 message, quickly. */
class ConfigLimitsTest {
  static final String MODELS = "merge_method: linear\nmodels:\n  - model: /a\n  - model: /b\n";

  static ConfigException refused(String yaml) {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "x.yml"));
    assertEquals(2, e.exitCode());
    assertTrue(e.getMessage().length() < 1_000, "a short message: " + e.getMessage().length() + " characters");
    return e;
  }

  /** A billion-laughs document under SnakeYAML's 50-alias limit: 9 levels of 6 aliases (10 million values expanded). */
  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void anAliasBombIsRefusedQuicklyWithAShortMessage() {
    StringBuilder sb = new StringBuilder("merge_method: linear\nx0: &a0 [\"lol\"]\n");
    for (int l = 1; l < 9; l++) {
      sb.append("x").append(l).append(": &a").append(l).append(" [");
      for (int w = 0; w < 6; w++) {
        sb.append(w > 0 ? ", " : "").append("*a").append(l - 1);
      }
      sb.append("]\n");
    }
    sb.append("models: *a8\n");
    assertTrue(refused(sb.toString()).getMessage().contains("expands to more than"));
  }

  @Test
  void oversizedAndDeepConfigsAreRefused() {
    assertTrue(refused(MODELS + "# " + "x".repeat(ConfigLimits.MAX_CONFIG_CHARS) + "\n").getMessage().contains("more than the limit"));
    refused(MODELS + "parameters: " + "[".repeat(200) + "]".repeat(200) + "\n");
  }

  @Test
  void seedsOutsideTheLongRangeAreRefusedNotClamped() {
    assertEquals(Long.MAX_VALUE, ConfigLoader.parse(MODELS + "seed: 9223372036854775807\n", "x.yml").seed());
    assertEquals(-3, ConfigLoader.parse(MODELS + "seed: -3\n", "x.yml").seed());
    for (String s : new String[] {"9223372036854775808", "-9223372036854775809", "1e30", "1.5", "0x1p70", ".inf"}) {
      assertTrue(refused(MODELS + "seed: " + s + "\n").getMessage().contains("seed must be an integer"), s);
    }
  }

  @Test
  void valuesInMessagesAreCut() {
    ConfigException e = refused(MODELS + "base_model: [" + "\"" + "y".repeat(5000) + "\"]\n");
    assertTrue(e.getMessage().contains("characters)"), e.getMessage());
  }
}
