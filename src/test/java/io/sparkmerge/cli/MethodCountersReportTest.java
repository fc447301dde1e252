package io.sparkmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.JacobiSvd;
import io.sparkmerge.testing.PolarReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The methods' per-tensor counters end to end (Spark local, the real CLI): a TIES merge writes kept[t] =
 * ⌊d_t·n⌋ and elected[t] per tensor into sparkmerge.json and its report plots the kept share per layer; an
 * Iso-C merge writes the spectrum of Σ τ_t (checked against a Jacobi SVD of the task vectors read back here)
 * and of the flattened update, and its report has the "spectrum flattening" plot and table.
 */
class MethodCountersReportTest {
  @TempDir Path work;

  private JsonNode mergeAndReport(List<org.apache.hadoop.fs.Path> dirs, String method, String params, String name)
      throws IOException {
    Path cfg = work.resolve(name + ".yml");
    Files.writeString(cfg, "merge_method: " + method + "\nbase_model: " + dirs.get(0) + "\nmodels:\n  - model: " + dirs.get(1)
        + "\n    parameters: " + params.split(";")[0] + "\n  - model: " + dirs.get(2) + "\n    parameters: " + params.split(";")[1]
        + "\n");
    String out = work.resolve(name).toString();
    MainTest.Run r = MainTest.run("merge", cfg.toString(), out, "--master", "local[2]");
    assertEquals(0, r.code(), r.err());
    assertEquals(0, MainTest.run("report", out, work.resolve(name + ".html").toString()).code());
    return new ObjectMapper().readTree(Files.readString(Path.of(out, "sparkmerge.json")));
  }

  @Test
  void tiesKeptCountsAndIsoCSpectrumReachTheManifestAndTheReport() throws IOException {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(work.resolve("family"), 31, 2);
    JsonNode ties = mergeAndReport(dirs, "ties", "{weight: 0.7, density: 0.3};{weight: 0.5, density: 0.6}", "ties");
    int counted = 0;
    long kept0 = 0;
    long all = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = ties.path("tensors").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode c = e.getValue().path("counters");
      if (!c.has("numel")) {
        continue;
      }
      long n = c.path("numel").asLong();
      assertEquals((long) Math.floor(0.3 * n), c.path("kept[0]").asLong(), e.getKey());
      assertEquals((long) Math.floor(0.6 * n), c.path("kept[1]").asLong(), e.getKey());
      for (int t = 0; t < 2; t++) {
        long elected = c.path("elected[" + t + "]").asLong(-1);
        assertTrue(elected >= 0 && elected <= c.path("kept[" + t + "]").asLong(), e.getKey() + " elected[" + t + "] " + elected);
      }
      kept0 += c.path("kept[0]").asLong();
      all += n;
      counted++;
    }
    assertTrue(counted >= 10, "tensors with counters: " + counted);
    JsonNode masks = ties.path("method_summary").path("masks");
    assertEquals((double) kept0 / all, masks.get(0).path("density").asDouble(), 1e-12, "summary density of models[0]");
    String tiesHtml = Files.readString(work.resolve("ties.html"));
    assertTrue(tiesHtml.contains("method_summary: masks"), "the masks' densities as a table");
    assertTrue(tiesHtml.contains("kept / numel"), "the kept share (plot and the table of tensors outside the layers)");

    JsonNode iso = mergeAndReport(dirs, "iso_c", "{};{}", "iso");
    Map<String, double[]> base = Checkpoints.read(dirs.get(0).toString());
    Map<String, double[]> ft1 = Checkpoints.read(dirs.get(1).toString());
    Map<String, double[]> ft2 = Checkpoints.read(dirs.get(2).toString());
    int matrices = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = iso.path("tensors").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode c = e.getValue().path("counters");
      JsonNode shape = e.getValue().path("shape");
      if (shape.size() != 2 || !e.getValue().path("dtype").asText().startsWith("F")) {
        assertTrue(!c.has("rank"), "no spectrum off the SVD path: " + e.getKey());
        continue;
      }
      int m = shape.get(0).asInt();
      int n = shape.get(1).asInt();
      double[] b = base.get(e.getKey());
      double[] sum = new double[b.length];
      for (int i = 0; i < b.length; i++) {
        sum[i] = (ft1.get(e.getKey())[i] - b[i]) + (ft2.get(e.getKey())[i] - b[i]);
      }
      double s1 = 0;
      double s2 = 0;
      for (double s : JacobiSvd.svd(PolarReference.reshape(sum, m, n)).s()) {
        s1 += s;
        s2 += s * s;
      }
      // the checkpoints are stored in 16 bits and Σ τ is formed in the compute dtype: a loose tolerance
      assertEquals(s1, c.path("sigma_sum").asDouble(), 1e-3 * s1, e.getKey());
      assertEquals(s1 * s1 / s2, c.path("rank").asDouble(), 1e-3 * Math.min(m, n), e.getKey());
      assertEquals(Math.min(m, n), c.path("flat_rank").asDouble(), 1e-9, e.getKey());
      assertEquals(c.path("sigma_sum").asDouble(), c.path("flat_sigma_sum").asDouble(), 1e-6 * s1, e.getKey()); // r·mean of float32 σ
      assertTrue(c.path("rank").asDouble() <= c.path("flat_rank").asDouble() + 1e-9, "flattening never lowers the rank");
      matrices++;
    }
    assertTrue(matrices >= 5, "matrices with a spectrum: " + matrices);
    String isoHtml = Files.readString(work.resolve("iso.html"));
    int table = isoHtml.indexOf("spectrum flattening: layer");
    assertTrue(table > 0, "the per-layer spectrum flattening table");
    // the plot over the layers, then the table of the matrices outside them (embeddings, lm_head), then the layers' table
    int outside = isoHtml.indexOf("effective rank (mean over matrices), tensors outside the numbered layers");
    assertTrue(outside > 0 && outside < table, "lm_head and the embeddings in a table of their own");
    assertTrue(isoHtml.lastIndexOf("<img", outside) > isoHtml.lastIndexOf("</table>", outside), "the plot right before them");
  }
}
