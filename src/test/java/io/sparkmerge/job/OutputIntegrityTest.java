package io.sparkmerge.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.InputDataException;
import io.sparkmerge.analysis.SubspaceStats;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.config.MergeConfig;
import io.sparkmerge.io.HfIndex;
import io.sparkmerge.io.RawSafetensors;
import io.sparkmerge.math.WeightScope;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, defects 2, 6 and 12 (CSV): what a job writes is what it says, and only where it says.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class OutputIntegrityTest {
  @TempDir Path work;

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  Path model(String name, String header, byte[] data) throws IOException {
    Path dir = work.resolve(name);
    RawSafetensors.write(dir.resolve(HfIndex.SINGLE_FILE), header, data);
    return dir;
  }

  static MergeConfig cfg(String yaml) {
    return ConfigLoader.parse(yaml, "test.yml");
  }

  static PrintStream quiet() {
    return new PrintStream(new ByteArrayOutputStream());
  }

  /** Defect 6: F32 values of 70000 narrowed to float16 are Inf in the file: exit 3 naming the tensor, not exit 0. */
  @Test
  void valuesThatOverflowWhenNarrowedAreCaughtAndTheManifestDescribesTheBytes() throws IOException {
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    Path a = model("a", header, floats(70000, 1, 2, 3));
    Path b = model("b", header, floats(70000, 1, 2, 3));
    String yaml = "merge_method: linear\nmodels:\n  - model: " + a + "\n  - model: " + b + "\ndtype: float16\n";
    Path out = work.resolve("out");
    // the task fails with it; Spark carries it to the driver, where the CLI reports exit 3 (Main.unwrap)
    Exception e = assertThrows(Exception.class,
        () -> MergeJob.run(SparkTestSession.get(), cfg(yaml), new MergeJob.Options(out.toString(), false, 1, quiet())));
    assertTrue(e.getMessage().contains(InputDataException.class.getName() + ": tensor w: the merged values contain 0 NaN and 1 Inf"),
        e.getMessage());
    assertFalse(Files.exists(out));

    // bf16 rounds 1.00001 to 1 and 3.14159 to 3.140625: the manifest's min and max are the values written
    Path c = model("c", header, floats(1.00001f, 3.14159f, 2, 2));
    // the YAML (copied into the model card) holds a line of four backticks, which closes a ``` fence: the card's
    // fence must be longer (defect 12)
    String bf16 = "merge_method: linear\nmodels:\n  - model: " + c + "\n  - model: " + c + "\ndtype: bfloat16\n"
        + "chat_template: |\n  {% for m in messages %}{{ m.content }}{% endfor %}\n  ````\n";
    Path out2 = work.resolve("out2");
    MergeJob.run(SparkTestSession.get(), cfg(bf16), new MergeJob.Options(out2.toString(), false, 1, quiet()));
    JsonNode w = new ObjectMapper().readTree(out2.resolve("sparkmerge.json").toFile()).path("tensors").path("w");
    assertEquals(1.0, w.path("min").asDouble(), 0.0, w.toString());
    assertEquals(3.140625, w.path("max").asDouble(), 0.0, w.toString());
    String card = Files.readString(out2.resolve("README.md"));
    int open = card.indexOf("`````yaml\n");
    assertTrue(open > 0, card);
    String body = card.substring(open + "`````yaml\n".length());
    assertTrue(body.startsWith("merge_method: linear\n"), card);
    assertTrue(body.contains("{% endfor %}\n  ````\n`````\n"), "the fence closes after the whole YAML: " + card);
  }

  /**
   * Defect 2: a tensor named {@code model.layers.0./../../../../../../x/pwned} (its spectrum plotted) may not
   * put a file outside OUT; the plot lands inside OUT/plots under an escaped name. Defect 12: a ',' and a
   * '\r' in a tensor name keep the CSV columns (one library writes and reads every CSV).
   */
  @Test
  void namesFromInputDataNeitherEscapeOutNorBreakTheTables() throws IOException {
    String evil = "model.layers.0./../../../../../../x/pwned";
    String comma = "model.layers.0.a,b\\rc";
    String header = "{\"" + evil + "\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
        + "\"" + comma + "\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,32]}}";
    Path base = model("base", header, floats(1, 2, 3, 4, 5, 6, 7, 8));
    Path ft1 = model("ft1", header, floats(2, 2, 3, 5, 5, 7, 7, 8));
    Path ft2 = model("ft2", header, floats(1, 3, 4, 4, 6, 6, 8, 9));
    String yaml = "merge_method: task_arithmetic\nbase_model: " + base + "\nmodels:\n  - model: " + ft1 + "\n  - model: " + ft2 + "\n";
    Path out = work.resolve("sub/out");
    List<SubspaceStats.Report> reports = SubspacesJob.run(SparkTestSession.get(), cfg(yaml),
        new SubspacesJob.Options(out.toString(), false, 4, 1, "layers.0.", 8, quiet()));
    assertEquals(2, reports.size());
    try (Stream<Path> s = Files.walk(work)) {
      List<Path> pngs = s.filter(p -> p.toString().endsWith(".png")).toList();
      assertEquals(2, pngs.size(), pngs.toString());
      for (Path p : pngs) {
        assertTrue(p.getParent().equals(out.resolve("plots")), "plots stay in OUT/plots: " + p);
      }
    }
    assertFalse(Files.exists(work.resolve("x")) || Files.exists(out.resolve("x")) || Files.exists(Path.of("/x/pwned.png")));
    // the CSV twin reads back with the names intact and every row complete
    var table = io.sparkmerge.analysis.CsvTable.parse("summary", Files.readString(out.resolve("summary.csv")));
    assertTrue(table.rows().stream().anyMatch(r -> r.get("tensor").equals("model.layers.0.a,b\rc")), table.rows().toString());
    assertTrue(table.rows().stream().allMatch(r -> r.size() == table.columns().size() && !r.get("frobenius_norm").isEmpty()));

    // stats: the same names in tensor_stats.csv, read back by the report
    Path stats = work.resolve("stats");
    StatsJob.run(SparkTestSession.get(), cfg(yaml), new StatsJob.Options(stats.toString(), false, WeightScope.Fusion.MOMENT, 3, quiet()));
    var st = io.sparkmerge.analysis.CsvTable.parse("tensor_stats", Files.readString(stats.resolve("tensor_stats.csv")));
    assertTrue(st.rows().stream().anyMatch(r -> r.get("tensor").equals("model.layers.0.a,b\rc")));
    assertTrue(st.rows().stream().allMatch(r -> r.size() == st.columns().size()));
  }
}
