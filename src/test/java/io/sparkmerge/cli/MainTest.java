package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI contract: commands, one-line errors, exit codes (DESIGN.md §4). */
class MainTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;

  record Run(int code, String out, String err) {}

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 3, 2);
  }

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  Path config(String yaml) throws IOException {
    Path p = work.resolve("c" + System.nanoTime() + ".yml");
    Files.writeString(p, Configs.withPaths(yaml, dirs));
    return p;
  }

  static final String TIES = """
      merge_method: ties
      base_model: BASE
      models:
        - model: FT1
          parameters: {weight: 0.5, density: 0.5}
        - model: FT2
          parameters: {weight: 0.5, density: 0.5}
      """;

  @Test
  void mergeThroughTheCliAndDryRun() throws IOException {
    Path cfg = config(TIES);
    Run dry = run("merge", cfg.toString(), work.resolve("dry").toString(), "--dry-run", "--partitions", "2");
    assertEquals(0, dry.code(), dry.err());
    assertTrue(dry.out().contains("2 output shard(s)"), dry.out());
    assertTrue(dry.out().contains("estimated executor memory"), dry.out());
    assertFalse(Files.exists(work.resolve("dry")), "--dry-run writes nothing");
    Run r = run("merge", cfg.toString(), work.resolve("out").toString(), "--master", "local[2]");
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.exists(work.resolve("out/_SUCCESS")));
    Run again = run("merge", cfg.toString(), work.resolve("out").toString(), "--master", "local[2]");
    assertEquals(4, again.code(), again.err());
    assertTrue(again.err().contains("--overwrite"), again.err());
  }

  @Test
  void configErrorsExitTwoWithASuggestion() throws IOException {
    Run r = run("merge", config(TIES + "desnity: 0.3\n").toString(), work.resolve("o").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("unknown key 'desnity'"), r.err());
    Run m = run("merge", config(TIES.replace("ties", "tiez")).toString(), work.resolve("o").toString());
    assertEquals(2, m.code(), m.err());
    assertTrue(m.err().contains("did you mean 'ties'"), m.err());
    Run p = run("merge", config(TIES.replace("density: 0.5}", "densty: 0.5}")).toString(), work.resolve("o").toString());
    assertEquals(2, p.code(), p.err());
    assertTrue(p.err().contains("densty"), p.err());
    Run d = run("merge", config(TIES.replace("density: 0.5}", "density: 1.5}")).toString(), work.resolve("o").toString());
    assertEquals(2, d.code(), d.err());
    Run missing = run("merge", config(TIES.replace("FT2", "/nonexistent/model")).toString(), work.resolve("o").toString());
    assertEquals(2, missing.code(), missing.err());
    assertTrue(missing.err().contains("/nonexistent/model"), missing.err());
    Run usage = run("merge", "only-one-arg");
    assertEquals(2, usage.code());
    assertFalse(Files.exists(work.resolve("o")), "config errors write nothing");
    assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
  }

  @Test
  void badInputDataExitsThree() throws IOException {
    Path bad = work.resolve("bad");
    Files.createDirectories(bad);
    Files.write(bad.resolve("model.safetensors"), new byte[] {1, 2, 3, 4, 5, 6, 7});
    Run r = run("merge", config(TIES.replace("FT2", bad.toString())).toString(), work.resolve("o").toString());
    assertEquals(3, r.code(), r.err());
    assertTrue(r.err().contains("model.safetensors"), r.err());
    assertFalse(Files.exists(work.resolve("o")));
    Path pickle = work.resolve("pickle");
    Files.createDirectories(pickle);
    Files.write(pickle.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
    Run p = run("inspect", pickle.toString());
    assertEquals(3, p.code(), p.err());
    assertTrue(p.err().contains("safetensors"), p.err());
  }

  @Test
  void inspectShowsTensorsAndCompatibility() {
    Run r = run("inspect", dirs.get(0).toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("model.layers.0.self_attn.q_proj.weight"), r.out());
    Run two = run("inspect", dirs.get(0).toString(), dirs.get(1).toString(), "--summary");
    assertEquals(0, two.code(), two.err());
    assertTrue(two.out().contains("compatible"), two.out());
  }

  @Test
  void demoGeneratesMergesAndReports(@TempDir Path demo) throws IOException {
    Run r = run("demo", "--dir", demo.toString(), "--master", "local[2]");
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.exists(demo.resolve("merged/_SUCCESS")), r.out());
    assertTrue(Files.exists(demo.resolve("merged/sparkmerge.json")));
    String page = Files.readString(demo.resolve("report.html"));
    assertTrue(page.contains("<section id=\"merge\">") && page.contains("ties"), "the report shows the merge");
    assertTrue(page.indexOf("<section id=\"") == page.indexOf("<section id=\"by-products\">"),
        "the demo's page opens with what the merge did per layer");
    assertTrue(r.out().contains("4/4 output in"), r.out());
  }

  @Test
  void versionAndHelp() {
    Run v = run("--version");
    assertEquals(0, v.code());
    assertTrue(v.out().contains("sparkmerge 0.1.0"));
    Run h = run("merge", "--help");
    assertEquals(0, h.code());
    assertTrue(h.out().contains("--overwrite") && h.out().contains("Examples"));
  }
}
