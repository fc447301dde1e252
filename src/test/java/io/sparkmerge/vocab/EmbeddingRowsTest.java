package io.sparkmerge.vocab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.sparkmerge.config.TokenizerSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The row map's defaults worked by hand (mergekit embed.py's rules), and its fingerprint for --resume. */
class EmbeddingRowsTest {
  private static EmbeddingRows plan(List<int[]> perms, int baseIndex, boolean[] counted, int pad) {
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < perms.get(0).length; i++) {
      tokens.add("t" + i);
    }
    VocabularyMerge merged = new VocabularyMerge(tokens, Map.of(), null, List.of(), List.of());
    return EmbeddingRows.plan(merged, new TokenizerSpec("union", Map.of(), pad, true), perms, java.util.Arrays.asList(null, null, null),
        baseIndex, p -> -1, counted, new ArrayList<>());
  }

  @Test
  void defaultsAreTheSoleOwnerElseTheBaseElseTheMean() {
    // inputs: base, m1, m2; token 0 all have it, 1 only m2, 2 base and m1, 3 m1 and m2, 4 nobody
    int[] base = {0, -1, 1, -1, -1};
    int[] m1 = {0, -1, 5, 6, -1};
    int[] m2 = {2, 7, -1, 8, -1};
    EmbeddingRows r = plan(List.of(base, m1, m2), 0, new boolean[] {true, true, true}, 4);
    assertEquals(5, r.vocab());
    assertEquals(8, r.rows(), "5 tokens padded to a multiple of 4");
    assertArrayEquals(new int[] {0, -1, 1, -1, -1}, r.src()[0]);
    assertEquals(null, r.fills().get(0), "everybody has token 0: no default");
    assertArrayEquals(new int[] {2, 7}, r.fills().get(1), "only m2 has token 1: its row");
    assertArrayEquals(new int[] {0, 1}, r.fills().get(2), "the base has token 2: the base's row");
    assertArrayEquals(new int[] {1, 6, 2, 8}, r.fills().get(3), "m1 and m2 have token 3, the base not: their mean");
    assertArrayEquals(new int[0], r.fills().get(4), "nobody: zeros");
    assertEquals(8, r.maxRowRead(2));
    EmbeddingRows noBase = plan(List.of(base, m1, m2), -1, new boolean[] {true, true, true}, 0);
    assertArrayEquals(new int[] {0, 1, 1, 5}, noBase.fills().get(2), "without a base: the mean of those that have it");
    EmbeddingRows repeated = plan(List.of(base, m1, m2), -1, new boolean[] {true, false, true}, 0);
    assertArrayEquals(new int[] {0, 1}, repeated.fills().get(2), "an input that repeats another is counted once");
  }

  @Test
  void theFingerprintChangesWithAnyRowSource() {
    int[] a = {0, 1, -1};
    int[] b = {0, -1, 1};
    String f = plan(List.of(a, b, b), 0, new boolean[] {true, true, true}, 0).fingerprint();
    assertEquals(f, plan(List.of(a.clone(), b.clone(), b.clone()), 0, new boolean[] {true, true, true}, 0).fingerprint());
    assertNotEquals(f, plan(List.of(new int[] {1, 0, -1}, b, b), 0, new boolean[] {true, true, true}, 0).fingerprint());
    assertNotEquals(f, plan(List.of(a, b, b), 0, new boolean[] {true, true, true}, 2).fingerprint(), "padding changes it");
  }
}
