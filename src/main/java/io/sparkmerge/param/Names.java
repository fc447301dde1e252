package io.sparkmerge.param;

import java.util.Collection;

/** "Did you mean" suggestions for unknown names in configs (Levenshtein distance). */
public final class Names {
  private Names() {}

  /** " (did you mean 'x'?)" for the nearest candidate within a small distance, else "". */
  public static String suggestion(String given, Collection<String> candidates) {
    String best = null;
    int bestDist = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = distance(given.toLowerCase(), c.toLowerCase());
      if (d < bestDist) {
        bestDist = d;
        best = c;
      }
    }
    if (best == null || bestDist > Math.max(2, given.length() / 3)) {
      return "";
    }
    return " (did you mean '" + best + "'?)";
  }

  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
