package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The merge report's by-products end to end: a TIES merge in Spark local writes each tensor's
 * statistics into sparkmerge.json, equal to the sums computed here from the checkpoints' and the
 * output's values as read back by the test's own reader; the method's summary is unchanged by them.
 */
class MergeStatisticsJobTest {
  @TempDir Path work;

  @Test
  void manifestStatisticsMatchTheInputsAndOutput() throws IOException {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(work.resolve("family"), 11, 2);
    String out = work.resolve("out").toString();
    MergeJob.run(SparkTestSession.get(), Configs.parse(MergeJobTest.TIES.replace("COMPUTE", "float32"), dirs),
        new MergeJob.Options(out, false, 3, new PrintStream(new ByteArrayOutputStream())));
    Map<String, double[]> base = Checkpoints.read(dirs.get(0).toString());
    Map<String, double[]> ft1 = Checkpoints.read(dirs.get(1).toString());
    Map<String, double[]> ft2 = Checkpoints.read(dirs.get(2).toString());
    Map<String, double[]> merged = Checkpoints.read(out);
    JsonNode tensors = new ObjectMapper().readTree(Files.readString(Path.of(out, "sparkmerge.json"))).path("tensors");
    int checked = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = tensors.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      JsonNode s = e.getValue().path("stats");
      assertFalse(e.getValue().path("counters").fieldNames().hasNext() && e.getValue().path("counters").toString().contains("stats/"),
          "statistics are not method counters: " + name);
      if (!e.getValue().path("dtype").asText().startsWith("F")) {
        assertTrue(s.isMissingNode(), "a copied integer tensor has no statistics: " + name);
        continue;
      }
      double[] b = base.get(name);
      double[] t1 = ft1.get(name);
      double[] t2 = ft2.get(name);
      double[] m = merged.get(name);
      double sq1 = 0;
      double sq2 = 0;
      double dot = 0;
      double delta = 0;
      long both = 0;
      long conflicts = 0;
      for (int i = 0; i < b.length; i++) {
        double a = t1[i] - b[i];
        double c = t2[i] - b[i];
        sq1 += a * a;
        sq2 += c * c;
        dot += a * c;
        delta += (m[i] - b[i]) * (m[i] - b[i]);
        both += a != 0 && c != 0 ? 1 : 0;
        conflicts += a * c < 0 ? 1 : 0;
      }
      assertEquals(b.length, s.path("n").asLong(), name);
      assertEquals(sq1, s.path("tau_sq/0").asDouble(), 1e-9 * sq1, name);
      assertEquals(sq2, s.path("tau_sq/1").asDouble(), 1e-9 * sq2, name);
      assertEquals(dot, s.path("dot/0/1").asDouble(), 1e-9 * Math.sqrt(sq1 * sq2), name);
      assertEquals(delta, s.path("delta_sq").asDouble(), 1e-9 * delta + 1e-30, name);
      assertEquals(both, s.path("both_nonzero/0/1").asLong(), name);
      assertEquals(conflicts, s.path("sign_conflicts/0/1").asLong(), name);
      checked++;
    }
    assertTrue(checked >= 10, "floating tensors checked: " + checked);
  }
}
