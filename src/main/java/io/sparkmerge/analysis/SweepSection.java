package io.sparkmerge.analysis;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The report of a sweep output (OUT/leaderboard.csv, OUT/best): the best candidate and its values, score
 * against each grid parameter ({@link SweepCharts}), the rounds (grid, then refinement) and the leaderboard.
 * Columns as {@code output.Leaderboard} writes them: id, round, one per axis, status, score, metrics, error,
 * eval_seconds.
 */
public final class SweepSection {
  /** The leaderboard's columns that are not grid axes. */
  private static final List<String> FIXED = List.of("id", "round", "status", "score", "metrics", "error", "eval_seconds");

  private SweepSection() {}

  /**
   * @param title the page title (the sweep's directory)
   * @param board OUT/leaderboard.csv
   * @param best the id OUT/best names, or null
   * @param shown the candidate whose manifest follows (the best, else the first still on disk), or null
   * @param manifest that candidate's sparkmerge.json, or null
   */
  public static String render(String title, CsvTable board, String best, String shown, String manifest) {
    String method = manifest == null ? null : MergeSection.method(manifest);
    HtmlPage page = new HtmlPage("sparkmerge sweep report: " + title);
    List<String> axes = axes(board);
    List<Map<String, String>> rows = board.rows();
    Map<String, String> bestRow = rows.stream().filter(r -> r.get("id").equals(best)).findFirst().orElse(null);
    Map<String, Long> byStatus = new TreeMap<>();
    rows.forEach(r -> byStatus.merge(r.get("status"), 1L, Long::sum));
    int rounds = rows.stream().mapToInt(r -> (int) CsvTable.num(r, "round")).max().orElse(-1) + 1;
    page.section("sweep", "Sweep" + (method == null ? "" : ": " + method), String.format(Locale.ROOT,
        "%d candidate(s) in %d round(s) (%s). %s%s", rows.size(), rounds, statusText(byStatus),
        bestRow == null ? "No best candidate (no candidate was scored)."
            : "Best: candidates/" + best + ", score " + fmt(CsvTable.num(bestRow, "score")) + ".",
        manifest == null ? "" : " Merge (at the end): the manifest of candidates/" + shown
            + (shown.equals(best) ? " (the best)." : " (the first candidate on disk).")));
    List<List<String>> chosen = new ArrayList<>();
    for (String a : axes) {
      TreeSet<Double> tried = new TreeSet<>();
      rows.forEach(r -> {
        double v = CsvTable.num(r, a);
        if (Double.isFinite(v)) {
          tried.add(v);
        }
      });
      chosen.add(List.of(a, bestRow == null ? "" : fmt(CsvTable.num(bestRow, a)),
          tried.isEmpty() ? "" : fmt(tried.first()) + " … " + fmt(tried.last()), String.valueOf(tried.size())));
    }
    page.table(List.of("parameter", "chosen value", "range tried", "values tried"), chosen);
    for (String a : axes) {
      page.image(SweepCharts.scoreVs(a, axes, rows, best));
    }
    page.section("rounds", "Rounds", "Round 0 is the grid; each later round (--refine) zooms in around the best value "
        + "(log-space midpoints) or extends an axis whose best value was at its edge.");
    page.table(roundsHeader(axes), roundsTable(axes, rows));
    page.section("leaderboard", "Leaderboard", "Every candidate, best score first; failed (eval failed or timed out) "
        + "and invalid (config refused) candidates last, with why.");
    List<String> header = new ArrayList<>(List.of("", "id", "round"));
    header.addAll(axes);
    header.addAll(List.of("status", "score", "metrics", "error", "eval s"));
    page.table(header, leaderboard(axes, rows, best));
    if (manifest != null) {
      MergeSection.add(page, manifest);
    }
    return page.html();
  }

  /** The grid axes: the columns between round and status. */
  static List<String> axes(CsvTable board) {
    return board.columns().stream().filter(c -> !FIXED.contains(c)).toList();
  }

  private static String statusText(Map<String, Long> byStatus) {
    List<String> parts = new ArrayList<>();
    byStatus.forEach((s, n) -> parts.add(n + " " + s));
    return String.join(", ", parts);
  }

  private static List<String> roundsHeader(List<String> axes) {
    List<String> h = new ArrayList<>(List.of("round", "candidates", "ok", "failed"));
    axes.forEach(a -> h.add(a + " tried"));
    h.addAll(List.of("best score after the round", "best after the round"));
    return h;
  }

  private static List<List<String>> roundsTable(List<String> axes, List<Map<String, String>> rows) {
    Map<Integer, List<Map<String, String>>> byRound = new TreeMap<>();
    rows.forEach(r -> byRound.computeIfAbsent((int) CsvTable.num(r, "round"), k -> new ArrayList<>()).add(r));
    List<List<String>> out = new ArrayList<>();
    Map<String, String> best = null;
    for (Map.Entry<Integer, List<Map<String, String>>> e : byRound.entrySet()) {
      List<Map<String, String>> rs = e.getValue();
      for (Map<String, String> r : rs) {
        // the earlier row wins a tie, as the leaderboard's best
        if ("ok".equals(r.get("status")) && (best == null || CsvTable.num(r, "score") > CsvTable.num(best, "score"))) {
          best = r;
        }
      }
      List<String> line = new ArrayList<>(List.of(String.valueOf(e.getKey()), String.valueOf(rs.size()),
          String.valueOf(rs.stream().filter(r -> "ok".equals(r.get("status"))).count()),
          String.valueOf(rs.stream().filter(r -> "failed".equals(r.get("status"))).count())));
      for (String a : axes) {
        TreeSet<Double> v = new TreeSet<>();
        rs.forEach(r -> {
          if (Double.isFinite(CsvTable.num(r, a))) {
            v.add(CsvTable.num(r, a));
          }
        });
        line.add(String.join(", ", v.stream().map(SweepSection::fmt).toList()));
      }
      line.add(best == null ? "" : fmt(CsvTable.num(best, "score")));
      line.add(best == null ? "" : best.get("id"));
      out.add(line);
    }
    return out;
  }

  private static List<List<String>> leaderboard(List<String> axes, List<Map<String, String>> rows, String best) {
    List<Map<String, String>> sorted = new ArrayList<>(rows);
    // scored rows by score (highest first), then the others in the order they were tried
    sorted.sort(Comparator.comparingDouble((Map<String, String> r) -> {
      double s = CsvTable.num(r, "score");
      return "ok".equals(r.get("status")) && Double.isFinite(s) ? -s : Double.POSITIVE_INFINITY;
    }));
    List<List<String>> out = new ArrayList<>();
    for (Map<String, String> r : sorted) {
      List<String> line = new ArrayList<>(List.of(r.get("id").equals(best) ? "best" : "", r.get("id"), r.get("round")));
      axes.forEach(a -> line.add(fmt(CsvTable.num(r, a))));
      line.addAll(List.of(r.get("status"), fmt(CsvTable.num(r, "score")), r.getOrDefault("metrics", ""),
          r.getOrDefault("error", ""), fmt(CsvTable.num(r, "eval_seconds"))));
      out.add(line);
    }
    return out;
  }

  /** Four significant digits; NaN (no value) as empty. */
  public static String fmt(double v) {
    if (!Double.isFinite(v)) {
      return "";
    }
    String s = String.format(Locale.ROOT, "%.4g", v);
    // 1.000 → 1, 0.3000 → 0.3 (but not 1.000e+05's exponent)
    return s.contains("e") || !s.contains(".") ? s : s.replaceAll("0+$", "").replaceAll("\\.$", "");
  }

  /** The other axes' values of a row, as a series name ("density=0.3"); "score" when there is one axis. */
  static String group(List<String> axes, String axis, Map<String, String> r) {
    List<String> parts = new ArrayList<>();
    for (String a : axes) {
      if (!a.equals(axis)) {
        parts.add(a + "=" + fmt(CsvTable.num(r, a)));
      }
    }
    return parts.isEmpty() ? "score" : String.join(", ", parts);
  }

  /**
   * score by x per series (the other axes' values), in order of first appearance. A refinement round that
   * moved another axis adds a series of one point: it is left out here (the chart marks the candidates added by
   * refinement on their own), so the lines are the grid's and the refinements along this axis.
   */
  static Map<String, SortedMap<Double, Double>> series(List<String> axes, String axis, List<Map<String, String>> rows) {
    Map<String, SortedMap<Double, Double>> s = new LinkedHashMap<>();
    java.util.Set<String> inGrid = new java.util.HashSet<>();
    for (Map<String, String> r : rows) {
      double x = CsvTable.num(r, axis);
      double y = CsvTable.num(r, "score");
      if ("ok".equals(r.get("status")) && Double.isFinite(x) && Double.isFinite(y)) {
        s.computeIfAbsent(group(axes, axis, r), k -> new TreeMap<>()).put(x, y);
      }
      if (CsvTable.num(r, "round") == 0) {
        inGrid.add(group(axes, axis, r));
      }
    }
    s.entrySet().removeIf(e -> e.getValue().size() < 2 && !inGrid.contains(e.getKey()));
    return s;
  }
}
