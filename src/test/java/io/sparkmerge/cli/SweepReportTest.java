package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.analysis.CsvTable;
import io.sparkmerge.output.Leaderboard;
import io.sparkmerge.testing.Checkpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code report} on a real sweep output: a TIES sweep over λ × density of a generated family, scored by a fake
 * eval with a known peak that fails one candidate, refined once; the page shows score vs each parameter, the
 * chosen values (the leaderboard's best, read back independently), the rounds and every candidate, the failed
 * one as failed with its error.
 */
class SweepReportTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 23, 2);
  }

  @Test
  void reportOfASweepShowsScoreVsEachParameterTheChosenValuesTheRoundsAndTheFailures() throws IOException {
    Path cfg = work.resolve("ties.yml");
    Files.writeString(cfg, "merge_method: ties\nbase_model: " + dirs.get(0) + "\nmodels:\n  - model: " + dirs.get(1)
        + "\n    parameters: {weight: 0.5, density: 0.3}\n  - model: " + dirs.get(2) + "\n    parameters: {weight: 0.5, density: 0.3}\n");
    Path py = work.resolve("score.py");
    // peak at λ = 0.8 and density 0.3; λ = 4 with density 0.5 fails
    Files.writeString(py, """
        import json, math, sys
        p = json.load(open(sys.argv[1] + '/sparkmerge.json'))['sweep']['parameters']
        if p['lambda'] == 4 and p['density'] == 0.5: sys.exit(5)
        print(json.dumps({'score': 1 - math.log(p['lambda'] / 0.8) ** 2 - (p['density'] - 0.3) ** 2, 'acc': 0.5}))
        """);
    Path out = work.resolve("sweep");
    MainTest.Run s = MainTest.run("sweep", cfg.toString(), out.toString(), "--grid", "lambda=0.25,1,4", "--grid", "density=0.1,0.5",
        "--eval", "/usr/bin/python3 " + py + " {model}", "--refine", "1", "--master", "local[2]");
    assertEquals(0, s.code(), s.err());

    Path html = work.resolve("sweep.html");
    MainTest.Run r = MainTest.run("report", out.toString(), html.toString());
    assertEquals(0, r.code(), r.err());
    String page = Files.readString(html);
    ReportTest.sections(page, "sweep", "rounds", "leaderboard", "merge");
    assertTrue(page.contains("<h2>Sweep: ties</h2>"), "the method, from the best candidate's manifest");
    assertEquals(2, ReportTest.images(page).size(), "score vs lambda and score vs density");
    assertTrue(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"), "self-contained");

    // the chosen values: the leaderboard's best row, read here from the CSV and OUT/best
    CsvTable board = CsvTable.parse("leaderboard", Files.readString(out.resolve("leaderboard.csv")));
    String best = Leaderboard.bestOf(Checkpoints.localFs(), new org.apache.hadoop.fs.Path(out.toString()));
    Map<String, String> bestRow = board.rows().stream().filter(x -> x.get("id").equals(best)).findFirst().orElseThrow();
    double top = board.rows().stream().filter(x -> x.get("status").equals("ok")).mapToDouble(x -> CsvTable.num(x, "score"))
        .max().orElseThrow();
    assertEquals(top, CsvTable.num(bestRow, "score"), "OUT/best is the highest score");
    assertTrue(page.contains("Best: candidates/" + best + ","), "the best candidate named");
    assertTrue(page.contains("<tr><td>lambda</td><td>" + fmt(bestRow.get("lambda")) + "</td>"), "chosen λ");
    assertTrue(page.contains("<tr><td>density</td><td>" + fmt(bestRow.get("density")) + "</td>"), "chosen density");

    // every candidate is a leaderboard row; the failed one is shown failed, with its error
    assertEquals(board.rows().size(), count(page, "<tr><td>(best)?</td><td>lambda="), "one row per candidate");
    assertTrue(page.contains("<td>lambda=4_density=0.5</td><td>0</td><td>4</td><td>0.5</td><td>failed</td><td></td><td></td>"
        + "<td>eval exited with status 5</td>"), "the failed candidate");
    assertTrue(page.contains("1 failed"), "the summary counts it");
    // the rounds: the grid (6 candidates, 1 failed), then one refinement round
    long rounds = board.rows().stream().mapToInt(x -> (int) CsvTable.num(x, "round")).distinct().count();
    assertEquals(2, rounds);
    assertTrue(page.contains("<tr><td>0</td><td>6</td><td>5</td><td>1</td><td>0.25, 1, 4</td><td>0.1, 0.5</td>"), "round 0");
    assertTrue(page.contains("<tr><td>1</td><td>"), "round 1");
  }

  /** The page's four-significant-digit form of a CSV value. */
  private static String fmt(String v) {
    return io.sparkmerge.analysis.SweepSection.fmt(Double.parseDouble(v));
  }

  private static int count(String s, String regex) {
    Matcher m = Pattern.compile(regex).matcher(s);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }
}
