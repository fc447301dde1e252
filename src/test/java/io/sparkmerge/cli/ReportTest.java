package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.plan.LayerPositions;
import io.sparkmerge.testing.Checkpoints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTML report rendered from a real subspaces output (through {@code subspaces --report}), a real
 * merge output, and stats/masks tables this test computes from the same checkpoints in the brief's
 * schemas (those jobs live on other branches).
 */
class ReportTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family, 21, 2);
  }

  Path config() throws IOException {
    Path p = work.resolve("ties.yml");
    Files.writeString(p, "merge_method: ties\nbase_model: " + dirs.get(0) + "\nmodels:\n  - model: " + dirs.get(1)
        + "\n    parameters: {weight: 0.5, density: 0.3}\n  - model: " + dirs.get(2) + "\n    parameters: {weight: 0.5, density: 0.3}\n");
    return p;
  }

  /** The PNGs embedded in a page, decoded; each must be a real, non-empty image. */
  static List<BufferedImage> images(String html) throws IOException {
    List<BufferedImage> out = new ArrayList<>();
    Matcher m = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
    while (m.find()) {
      byte[] png = Base64.getDecoder().decode(m.group(1));
      assertTrue(png.length > 1000, "a real plot, not an empty image: " + png.length + " bytes");
      BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
      assertNotNull(img, "decodes as PNG");
      assertTrue(img.getWidth() > 100 && img.getHeight() > 100);
      out.add(img);
    }
    return out;
  }

  static void sections(String html, String... ids) {
    for (String id : ids) {
      assertTrue(html.contains("<section id=\"" + id + "\">"), "section " + id);
    }
  }

  @Test
  void reportsOfSubspacesStatsMasksAndAMerge() throws IOException {
    Path cfg = config();
    String sub = work.resolve("sub").toString();
    Path subHtml = work.resolve("sub.html");
    MainTest.Run r = MainTest.run("subspaces", cfg.toString(), sub, "--top-k", "8", "--k", "2", "--max-plots", "1",
        "--master", "local[2]", "--report", subHtml.toString());
    assertEquals(0, r.code(), r.err());
    String page = Files.readString(subHtml);
    sections(page, "norms", "spectra", "overlap");
    assertTrue(images(page).size() >= 3 + 1, "norms, spectra, effective rank, overlap");
    assertTrue(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"), "self-contained");

    // stats and masks tables in the brief's schemas, computed here from the checkpoints, next to the subspaces tables
    Path all = work.resolve("all");
    Files.createDirectories(all);
    for (String t : List.of("summary", "spectra", "overlap")) {
      Files.copy(Path.of(sub, t + ".csv"), all.resolve(t + ".csv"));
    }
    writeStatsAndMasks(all, dirs);
    Path allHtml = work.resolve("all.html");
    assertEquals(0, MainTest.run("report", all.toString(), allHtml.toString()).code());
    String full = Files.readString(allHtml);
    sections(full, "norms", "cosine", "scope", "spectra", "overlap", "masks");
    assertTrue(images(full).size() >= 10, "norms, 2 heatmaps, μ, σ, spectra, rank, overlap, density, jaccard");
    assertTrue(full.contains("tensor_stats") && full.contains("mask_overlap"));

    // a real stats output, reported by the stats command itself
    String stats = work.resolve("stats").toString();
    Path statsHtml = work.resolve("stats.html");
    MainTest.Run st = MainTest.run("stats", cfg.toString(), stats, "--master", "local[2]", "--report", statsHtml.toString());
    assertEquals(0, st.code(), st.err());
    String sp = Files.readString(statsHtml);
    sections(sp, "norms", "cosine", "scope");
    assertTrue(images(sp).size() >= 5, "norms, cosine and sign heatmaps, μ, σ from the job's own tables");

    // a real masks output (the TIES trims of the config), reported by the masks command itself
    String masks = work.resolve("masks").toString();
    Path masksHtml = work.resolve("masks.html");
    MainTest.Run mk = MainTest.run("masks", cfg.toString(), masks, "--master", "local[2]", "--report", masksHtml.toString());
    assertEquals(0, mk.code(), mk.err());
    String mp0 = Files.readString(masksHtml);
    sections(mp0, "masks");
    assertTrue(images(mp0).size() >= 2, "density and Jaccard from the job's own tables");

    // a merge output: what sparkmerge.json says
    String merged = work.resolve("merged").toString();
    assertEquals(0, MainTest.run("merge", cfg.toString(), merged, "--master", "local[2]").code());
    Path mergeHtml = work.resolve("merge.html");
    assertEquals(0, MainTest.run("report", merged, mergeHtml.toString()).code());
    String mp = Files.readString(mergeHtml);
    sections(mp, "merge", "by-products");
    assertTrue(mp.indexOf("<section id=\"by-products\">") < mp.indexOf("<section id=\"merge\">"), "the page opens with the by-products");
    String models = dirs.get(1).getName() + " × " + dirs.get(2).getName();
    assertTrue(mp.contains(models), "pairs by short model names: " + models);
    assertTrue(images(mp.substring(mp.indexOf("<section id=\"by-products\">"), mp.indexOf("<section id=\"merge\">"))).size() >= 5,
        "norms, cosine, sign conflicts per layer and the two heatmaps");
    assertFalse(mp.contains(">.") || mp.contains(" .0"), "numbers keep their leading zero");
    assertTrue(mp.contains("ties") && mp.contains(dirs.get(1).toString()) && mp.contains(dirs.get(2).toString())
        && mp.contains("density") && mp.contains("commit") && mp.contains("parameter lambda"), "method, inputs, parameters, timings");

    assertEquals(4, MainTest.run("report", merged, mergeHtml.toString()).code(), "an existing report needs --overwrite");
    assertEquals(0, MainTest.run("report", merged, mergeHtml.toString(), "--overwrite").code());
    Path empty = Files.createDirectories(work.resolve("empty"));
    MainTest.Run none = MainTest.run("report", empty.toString(), work.resolve("none.html").toString());
    assertEquals(3, none.code());
    assertTrue(none.err().contains("nothing to report"), none.err());
    assertTrue(!Files.exists(work.resolve("none.html")));
  }

  /** tensor_stats, pair_stats, mask_density, mask_overlap for base, ft-1, ft-2 (TIES-style top-30% masks). */
  static void writeStatsAndMasks(Path dir, List<org.apache.hadoop.fs.Path> dirs) throws IOException {
    Map<String, double[]> b = Checkpoints.read(dirs.get(0).toString());
    List<Map<String, double[]>> ft = List.of(Checkpoints.read(dirs.get(1).toString()), Checkpoints.read(dirs.get(2).toString()));
    String[] names = {"base", dirs.get(1).getName(), dirs.get(2).getName()};
    StringBuilder ts = new StringBuilder("tensor,layer,model,kind,numel,mean,variance,min,max,l2_norm,zero_fraction,"
        + "nonfinite_count,fused_mean,fused_variance,kl_to_fused\n");
    StringBuilder ps = new StringBuilder("tensor,layer,model_i,model_j,cosine,sign_conflict\n");
    StringBuilder md = new StringBuilder("tensor,layer,model,method,numel,kept,density\n");
    StringBuilder mo = new StringBuilder("tensor,layer,model_i,model_j,jaccard\n");
    for (String t : b.keySet()) {
      int layer = LayerPositions.layerIndex(t);
      double[][] w = {b.get(t), ft.get(0).get(t), ft.get(1).get(t)};
      double[][] tau = new double[2][];
      boolean[][] mask = new boolean[2][];
      for (int m = 0; m < 3; m++) {
        row(ts, t, layer, names[m], "weights", w[m]);
        if (m > 0) {
          tau[m - 1] = new double[w[0].length];
          for (int i = 0; i < tau[m - 1].length; i++) {
            tau[m - 1][i] = w[m][i] - w[0][i];
          }
          row(ts, t, layer, names[m], "task_vector", tau[m - 1]);
          double[] mag = tau[m - 1].clone();
          for (int i = 0; i < mag.length; i++) {
            mag[i] = Math.abs(mag[i]);
          }
          double[] sorted = mag.clone();
          java.util.Arrays.sort(sorted);
          double cut = sorted[(int) (0.7 * sorted.length)];
          mask[m - 1] = new boolean[mag.length];
          int kept = 0;
          for (int i = 0; i < mag.length; i++) {
            mask[m - 1][i] = mag[i] >= cut;
            kept += mask[m - 1][i] ? 1 : 0;
          }
          md.append(String.join(",", t, "" + layer, names[m], "ties", "" + mag.length, "" + kept, "" + (double) kept / mag.length)).append('\n');
        }
      }
      double dot = 0, n0 = 0, n1 = 0, conflict = 0, inter = 0, union = 0;
      for (int i = 0; i < tau[0].length; i++) {
        dot += tau[0][i] * tau[1][i];
        n0 += tau[0][i] * tau[0][i];
        n1 += tau[1][i] * tau[1][i];
        conflict += tau[0][i] * tau[1][i] < 0 ? 1 : 0;
        inter += mask[0][i] && mask[1][i] ? 1 : 0;
        union += mask[0][i] || mask[1][i] ? 1 : 0;
      }
      ps.append(String.join(",", t, "" + layer, names[1], names[2], "" + dot / Math.sqrt(n0 * n1), "" + conflict / tau[0].length)).append('\n');
      mo.append(String.join(",", t, "" + layer, names[1], names[2], "" + inter / union)).append('\n');
    }
    Files.writeString(dir.resolve("tensor_stats.csv"), ts);
    Files.writeString(dir.resolve("pair_stats.csv"), ps);
    Files.writeString(dir.resolve("mask_density.csv"), md);
    Files.writeString(dir.resolve("mask_overlap.csv"), mo);
  }

  private static void row(StringBuilder sb, String t, int layer, String model, String kind, double[] v) {
    double sum = 0, sq = 0, min = Double.MAX_VALUE, max = -Double.MAX_VALUE, zeros = 0;
    for (double x : v) {
      sum += x;
      sq += x * x;
      min = Math.min(min, x);
      max = Math.max(max, x);
      zeros += x == 0 ? 1 : 0;
    }
    double mean = sum / v.length;
    sb.append(String.join(",", t, "" + layer, model, kind, "" + v.length, "" + mean, "" + (sq / v.length - mean * mean), "" + min,
        "" + max, "" + Math.sqrt(sq), "" + zeros / v.length, "0", "", "", "")).append('\n');
  }
}
