package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.synth.FamilyPreset;
import io.sparkmerge.synth.ModelFamilyGenerator;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.Configs;
import io.sparkmerge.testing.ScopeReference;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** merge_method: wsa through the real merge job, against the plain-double reference on every tensor. */
class WsaMergeJobTest {
  @TempDir Path work;

  @Test
  void wsaThroughSparkMatchesTheReference() throws IOException {
    List<org.apache.hadoop.fs.Path> dirs = Checkpoints.tinyFamily(work.resolve("family"), 17, 3);
    String yaml = """
        merge_method: wsa
        models:
          - model: BASE
            parameters: {weight: 2}
          - model: FT1
            parameters: {weight: 1}
          - model: FT3
            parameters: {weight: 5}
        parameters: {rescale_output: true}
        """;
    String out = work.resolve("out").toString();
    MergeJob.run(SparkTestSession.get(), Configs.parse(yaml, dirs),
        new MergeJob.Options(out, false, 3, new PrintStream(new ByteArrayOutputStream())));
    Map<String, double[]> a = Checkpoints.read(dirs.get(0).toString());
    Map<String, double[]> b = Checkpoints.read(dirs.get(1).toString());
    Map<String, double[]> c = Checkpoints.read(dirs.get(3).toString());
    Map<String, double[]> got = Checkpoints.read(out);
    var shapes = new ModelFamilyGenerator(FamilyPreset.of("tiny"), 17).tensors();
    assertEquals(a.keySet(), got.keySet());
    for (String n : a.keySet()) {
      double[] ref = ScopeReference.wsa(new double[][] {a.get(n), b.get(n), c.get(n)}, new double[] {2, 1, 5}, true, true,
          shapes.get(n).length < 2);
      assertTrue(Checkpoints.relError(got.get(n), ref) <= 1e-5, n + ": " + Checkpoints.relError(got.get(n), ref));
    }
    String note = new ObjectMapper().readTree(Path.of(out, "sparkmerge.json").toFile()).get("resolved").get("method_note").asText();
    assertTrue(note.contains("analogue"), note);
  }
}
