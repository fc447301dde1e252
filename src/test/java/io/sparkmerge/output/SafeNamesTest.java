package io.sparkmerge.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Issue 16, defect 2: no path component from input data reaches the file system. */
class SafeNamesTest {
  @Test
  void namesFromInputDataBecomeOneHarmlessPathComponent() {
    assertEquals("model.layers.0.self_attn.q_proj.weight", SafeNames.fileName("model.layers.0.self_attn.q_proj.weight"),
        "ordinary tensor names are kept as they are");
    String evil = SafeNames.fileName("model.layers.0./../../../../../../x/pwned");
    assertFalse(evil.contains("/") || evil.contains("\\"), evil);
    assertEquals("model.layers.0.%2F..%2F..%2F..%2F..%2F..%2F..%2Fx%2Fpwned", evil);
    for (String s : new String[] {"..", ".", "", ".hidden", "a\u0000b", "c:\\x", "\u001b[31m", "über"}) {
      String f = SafeNames.fileName(s);
      assertFalse(f.isEmpty() || f.equals(".") || f.equals("..") || f.startsWith(".") || f.contains("/") || f.contains("\\")
          || f.chars().anyMatch(ch -> ch < 0x20), s + " -> " + f);
    }
    assertNotEquals(SafeNames.fileName("a/b"), SafeNames.fileName("a%2Fb"), "distinct names stay distinct");
    String longName = "x".repeat(400);
    assertTrue(SafeNames.fileName(longName).length() <= 200);
    assertNotEquals(SafeNames.fileName(longName), SafeNames.fileName(longName + "y"));
  }
}
