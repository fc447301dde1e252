package io.sparkmerge.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded fuzzing of the YAML config loader (issue 16): thousands of mutations of the shipped configs
 * (jobs/*.yml, jobs/mergekit/*.yml) — characters deleted, inserted and replaced with YAML's special ones,
 * lines duplicated, dropped and re-indented, values replaced by huge, non-finite, negative and odd ones,
 * anchors and aliases (alias bombs), deep nesting, control characters. The outcome must be a config or a
 * {@link ConfigException} (exit 2) with a short message, never another exception, never a hang.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ConfigLoaderFuzzTest {
  static final long SEED = 22;
  static final int CASES = 6000;

  static final String[] SPECIAL = {":", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "!!binary ", "!!python/object ", "|", ">", "#",
      "'", "\"", "\t", "\n", "  ", "? ", "%YAML 1.1\n", "---\n", "...\n", "\u0000", "\u001b[2J", "\ud800", "<<: *a\n", "~", "null",
      ".inf", "-.nan", "0x1F", "1e400", "99999999999999999999999", "-9223372036854775809", "1_000", "yes", "@", "`", "```"};
  static final String[] VALUES = {"1e308", "-1e308", ".inf", ".nan", "-1", "0", "2", "0.5", "null", "[]", "{}", "[1, 2]",
      "{value: 1}", "[{filter: '(', value: 1}]", "'[x'", "\"a:b\"", "model.safetensors", "sparkmerge.json", "\"\"", "a\\nb",
      "99999999999999999999999999999", "-9223372036854775808", "9223372036854775808", "1.0e+400", "!!float 1", "*nope"};

  @Test
  void everyMutationIsAConfigOrAShortExit2() throws IOException {
    List<String> seeds = new ArrayList<>();
    for (Path dir : List.of(Path.of("jobs"), Path.of("jobs/mergekit"))) {
      try (Stream<Path> s = Files.list(dir)) {
        for (Path p : s.filter(p -> p.toString().endsWith(".yml")).sorted().toList()) {
          seeds.add(Files.readString(p));
        }
      }
    }
    seeds.add(bomb(9, 6));
    Random rnd = new Random(SEED);
    FuzzOutcomes outcomes = new FuzzOutcomes();
    for (int c = 0; c < CASES; c++) {
      String yaml = mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
      long t0 = System.nanoTime();
      String outcome;
      try {
        ConfigLoader.parse(yaml, "fuzz.yml");
        outcome = "valid";
      } catch (ConfigException e) {
        assertEquals(2, e.exitCode());
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "case " + c + ": a message");
        assertTrue(e.getMessage().length() < 2_000, "case " + c + ": a short message (" + e.getMessage().length() + " chars)");
        outcome = "exit 2: " + FuzzOutcomes.rule(e.getMessage(), "fuzz.yml");
      } catch (Throwable e) {
        throw new AssertionError("case " + c + " (seed " + SEED + "): " + e + " for config:\n" + yaml, e);
      }
      outcomes.add(outcome, System.nanoTime() - t0);
    }
    System.out.println(outcomes.report("YAML config", SEED));
    assertEquals(CASES, outcomes.cases());
    assertTrue(outcomes.slowestMillis() < 5_000, "no case takes long: " + outcomes.slowestMillis() + " ms");
  }

  /** A billion-laughs config below SnakeYAML's alias limit: {@code levels} anchors of {@code width} aliases each. */
  static String bomb(int levels, int width) {
    StringBuilder sb = new StringBuilder("merge_method: linear\nx0: &a0 [\"lol\"]\n");
    for (int l = 1; l < levels; l++) {
      sb.append("x").append(l).append(": &a").append(l).append(" [");
      for (int w = 0; w < width; w++) {
        sb.append(w > 0 ? ", " : "").append("*a").append(l - 1);
      }
      sb.append("]\n");
    }
    return sb.append("models: *a").append(levels - 1).append('\n').toString();
  }

  static String mutate(String s, Random rnd) {
    int n = 1 + rnd.nextInt(3);
    for (int k = 0; k < n; k++) {
      int at = s.isEmpty() ? 0 : rnd.nextInt(s.length());
      switch (rnd.nextInt(7)) {
        case 0 -> s = s.substring(0, at) + SPECIAL[rnd.nextInt(SPECIAL.length)] + s.substring(at);
        case 1 -> s = s.substring(0, at) + s.substring(Math.min(s.length(), at + 1 + rnd.nextInt(12)));
        case 2 -> s = replaceValue(s, rnd);
        case 3 -> { // duplicate, drop or re-indent a line
          List<String> lines = new ArrayList<>(s.lines().toList());
          if (lines.isEmpty()) {
            break;
          }
          int i = rnd.nextInt(lines.size());
          switch (rnd.nextInt(3)) {
            case 0 -> lines.add(i, lines.get(i));
            case 1 -> lines.remove(i);
            default -> lines.set(i, " ".repeat(rnd.nextInt(7)) + lines.get(i).stripLeading());
          }
          s = String.join("\n", lines) + "\n";
        }
        case 4 -> s = s + "\n" + List.of("parameters: &a {weight: 1e308}\n", "copy: [\"a:b\", model.safetensors]\n", "seed: 1e30\n",
            "tensors:\n  - filter: \"[\"\n    merge_method: linear\n", "x: " + "[".repeat(40) + "\n", "dtype: float8\n",
            "out_shard_size: 0.5B\n", "chat_template: \"{{```}}\"\n", "tokenizer_source: union\n").get(rnd.nextInt(9));
        case 5 -> s = s.substring(0, at) + (char) rnd.nextInt(0x3000) + s.substring(at);
        default -> s = s.replace("models:", rnd.nextBoolean() ? "models: &m" : "slices:");
      }
    }
    return s;
  }

  static String replaceValue(String s, Random rnd) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(":\\s*([^\\s{}\\[\\],#][^\\n,}\\]]*)").matcher(s);
    List<int[]> spans = new ArrayList<>();
    while (m.find()) {
      spans.add(new int[] {m.start(1), m.end(1)});
    }
    if (spans.isEmpty()) {
      return s;
    }
    int[] sp = spans.get(rnd.nextInt(spans.size()));
    return s.substring(0, sp[0]) + VALUES[rnd.nextInt(VALUES.length)] + s.substring(sp[1]);
  }
}
