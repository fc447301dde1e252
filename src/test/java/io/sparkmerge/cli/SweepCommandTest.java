package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sparkmerge sweep's usage errors: exit 2 with a one-line message, before any Spark session or output. */
class SweepCommandTest {
  @TempDir Path work;

  private int run(List<String> args, ByteArrayOutputStream err) {
    return Main.execute(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void badGridsAndOptionsAreUsageErrors() throws Exception {
    Path cfg = work.resolve("c.yml");
    Files.writeString(cfg, "merge_method: ties\nbase_model: /b\nmodels:\n  - model: /m\n");
    String out = work.resolve("out").toString();
    for (List<String> extra : List.<List<String>>of(List.of("--grid", "lambda=1:0.1:log:3"), List.of("--grid", "lambda=a,b"),
        List.of("--grid", "lambda=1,2", "--refine", "2"), List.of("--grid", "lambda=1,2", "--keep", "best"),
        List.of("--grid", "lambda=1,2", "--keep", "some"), List.of("--grid", "lambda=1,2", "--grid", "lambda=3,4"),
        List.of("--grid", "lambda=1,2", "--eval-on", "executors"), List.of("--grid", "lambda=1,2", "--eval", "x", "--eval-on", "gpu"),
        List.of())) {
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      List<String> args = new java.util.ArrayList<>(List.of("sweep", cfg.toString(), out));
      args.addAll(extra);
      assertEquals(2, run(args, err), extra + ": " + err);
      String msg = err.toString(StandardCharsets.UTF_8);
      assertTrue(msg.contains("--grid") || msg.contains("--keep") || msg.contains("--eval") || msg.contains("Missing"), extra + ": " + msg);
      assertFalse(Files.exists(Path.of(out)), "nothing written for " + extra);
    }
  }
}
