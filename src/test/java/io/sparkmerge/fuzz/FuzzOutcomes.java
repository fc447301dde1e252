package io.sparkmerge.fuzz;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The outcome classes of a fuzz run: how many cases ended how, for the run's one-line report. */
final class FuzzOutcomes {
  private final Map<String, Integer> classes = new TreeMap<>();
  private int cases;
  private long slowestNanos;

  /** Counts one case under an outcome class (e.g. "exit 3: header is not valid JSON"). */
  void add(String outcome, long nanos) {
    cases++;
    classes.merge(outcome, 1, Integer::sum);
    slowestNanos = Math.max(slowestNanos, nanos);
  }

  int cases() {
    return cases;
  }

  long slowestMillis() {
    return slowestNanos / 1_000_000;
  }

  /** The class of an error message: its words with the file label, numbers and quoted values taken out. */
  static String rule(String message, String label) {
    String m = message.replace(label, "FILE").replaceAll("'[^']*'", "'…'").replaceAll("\"[^\"]*\"", "\"…\"")
        .replaceAll("\\[[^\\]]*\\]", "[…]").replaceAll("\\([^)]*\\)", "(…)").replaceAll("-?\\d+", "N");
    String[] words = m.split("\\s+");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(7, words.length); i++) {
      sb.append(i > 0 ? " " : "").append(words[i]);
    }
    return sb.toString().replaceAll("[;:,]$", "");
  }

  String report(String what, long seed) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s fuzz (seed %d): %d cases, slowest %d ms;", what, seed,
        cases, slowestMillis()));
    Map<String, Integer> byCode = new TreeMap<>();
    classes.forEach((k, v) -> byCode.merge(k.substring(0, k.indexOf(':') < 0 ? k.length() : k.indexOf(':')), v, Integer::sum));
    byCode.forEach((k, v) -> sb.append(' ').append(k).append(' ').append(v).append(';'));
    sb.append("\n  classes:");
    classes.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
        .forEach(e -> sb.append(String.format(Locale.ROOT, "%n    %6d  %s", e.getValue(), e.getKey())));
    return sb.toString();
  }
}
