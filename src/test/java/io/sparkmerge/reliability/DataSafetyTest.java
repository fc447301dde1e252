package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.ConfigException;
import io.sparkmerge.cli.Main;
import io.sparkmerge.config.ConfigLoader;
import io.sparkmerge.io.HfIndex;
import io.sparkmerge.io.RawSafetensors;
import io.sparkmerge.job.MergeJob;
import io.sparkmerge.testing.Checkpoints;
import io.sparkmerge.testing.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16's defects 1, 7 and 12, end to end through {@code sparkmerge} (in-process {@code Main.execute}):
 * each case ends with its documented exit code and one line on stderr, the inputs intact and nothing
 * written. Most fail before a Spark session starts (the output check, the config) or in {@code --dry-run}.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DataSafetyTest {
  @TempDir static Path family;
  @TempDir Path work;
  static List<org.apache.hadoop.fs.Path> dirs;

  @BeforeAll
  static void generate() throws IOException {
    dirs = Checkpoints.tinyFamily(family.resolve("F"), 21, 2);
  }

  record Run(int code, String out, String err) {
    String line() {
      return err.strip();
    }
  }

  static Run sparkmerge(String... args) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code = Main.execute(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
    return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
  }

  static void fails(Run r, int code, String... words) {
    assertEquals(code, r.code(), "exit code; stderr: " + r.err() + " stdout: " + r.out());
    assertEquals(1, r.line().lines().count(), "one line: " + r.err());
    assertTrue(r.line().startsWith("sparkmerge: "), r.line());
    for (String w : words) {
      assertTrue(r.line().contains(w), "'" + w + "' in: " + r.line());
    }
  }

  Path config(String yaml) throws IOException {
    Path cfg = work.resolve("c" + System.nanoTime() + ".yml");
    Files.writeString(cfg, yaml.replace("BASE", dirs.get(0).toString()).replace("FT1", dirs.get(1).toString())
        .replace("FT2", dirs.get(2).toString()));
    return cfg;
  }

  static final String LINEAR = """
      merge_method: linear
      models:
        - model: FT1
          parameters: {weight: 0.5}
        - model: FT2
          parameters: {weight: 0.5}
      """;

  /** Every file under a directory with its bytes: proof that an input was not touched. */
  static Map<String, byte[]> tree(Path dir) throws IOException {
    Map<String, byte[]> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return m;
  }

  static void assertSameTree(Map<String, byte[]> before, Path dir) throws IOException {
    Map<String, byte[]> after = tree(dir);
    assertEquals(before.keySet(), after.keySet(), "the inputs' files are all there");
    before.forEach((k, v) -> assertTrue(java.util.Arrays.equals(v, after.get(k)), k + " unchanged"));
  }

  // ---- defect 1: the overlap rule --------------------------------------------------------------

  @Test
  void overwriteNeverDeletesAnInput() throws IOException {
    Path f = family.resolve("F");
    Map<String, byte[]> before = tree(f);
    Path cfg = config(LINEAR);
    fails(sparkmerge("merge", cfg.toString(), f.toString(), "--overwrite"), 2, f.toString(), "contains the input models[0]");
    fails(sparkmerge("merge", cfg.toString(), dirs.get(1).toString(), "--overwrite"), 2, "is the same path as the input models[0]");
    fails(sparkmerge("merge", cfg.toString(), f.resolve("ft-1/../ft-2/merged").toString(), "--overwrite"), 2,
        "lies inside the input models[1]");
    fails(sparkmerge("checkpoints", f.toString(), f.toString(), "--window", "2", "--overwrite"), 2, "checkpoint ROOT");
    fails(sparkmerge("checkpoints", f.toString(), f.resolve("wsm").toString(), "--window", "2", "--once"), 2, "checkpoint ROOT");
    fails(sparkmerge("task-vectors", "--base", dirs.get(0).toString(), "--model", dirs.get(1).toString(), f.toString(),
        "--overwrite"), 2, "contains the input base_model");
    fails(sparkmerge("stats", cfg.toString(), dirs.get(2).toString(), "--overwrite"), 2, "same path");
    fails(sparkmerge("scopes", cfg.toString(), dirs.get(1) + "/scopes.json", "--overwrite"), 2, "lies inside");
    assertSameTree(before, f);
    // the jobs enforce it themselves, not only the command line
    ConfigException e = assertThrows(ConfigException.class, () -> MergeJob.run(SparkTestSession.get(),
        ConfigLoader.parse(Files.readString(cfg), cfg.toString()), new MergeJob.Options(f.toString(), true, 2,
            new PrintStream(new ByteArrayOutputStream()))));
    assertTrue(e.getMessage().contains("contains the input"), e.getMessage());
    assertSameTree(before, f);
  }

  // ---- defect 7: copy: ------------------------------------------------------------------------

  @Test
  void copyIsCheckedBeforeAnyWork() throws IOException {
    Path out = work.resolve("out");
    for (String[] c : new String[][] {{"[model.safetensors]", "weights file"}, {"[README.md]", "writes into the output itself"},
        {"[sparkmerge.json]", "writes into the output"}, {"[config.json, config.json]", "listed twice"},
        {"[\"a:b\"]", "plain file name"}, {"[model-00001-of-00002.safetensors]", "weights file"}, {"[../x]", "plain file name"}}) {
      fails(sparkmerge("merge", config(LINEAR + "copy: " + c[0] + "\n").toString(), out.toString()), 2, "copy entry", c[1]);
      assertFalse(Files.exists(out));
    }
  }

  // ---- defect 12 ------------------------------------------------------------------------------

  static byte[] floats(int n, float v) {
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat(v);
    }
    return b.array();
  }

  Path model(String name, String header, byte[] data) throws IOException {
    Path dir = work.resolve(name);
    RawSafetensors.write(dir.resolve(HfIndex.SINGLE_FILE), header, data);
    return dir;
  }

  Path pair(String header, byte[] a, byte[] b) throws IOException {
    Path m1 = model("m1", header, a);
    Path m2 = model("m2", header.replace("\"I64\"", "\"F64\""), b);
    return config("""
        merge_method: linear
        models:
          - model: M1
          - model: M2
        """.replace("M1", m1.toString()).replace("M2", m2.toString()));
  }

  @Test
  void smallerDefectsEachFailWithTheirExitCodeAndOneLine() throws Exception {
    Path out = work.resolve("out");
    // a tensor that is I64 in one model and F64 in the other (it would be copied from the first silently)
    Path dt = pair("{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
        + "\"data_offsets\":[16,24]}}", new byte[24], new byte[24]);
    fails(sparkmerge("merge", dt.toString(), out.toString(), "--dry-run"), 3, "different dtypes a I64 vs F64");
    // a layer index beyond the int range
    Path big = pair("{\"model.layers.99999999999.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], new byte[4]);
    fails(sparkmerge("merge", big.toString(), out.toString(), "--dry-run"), 3, "layer index", "out of range");
    // two models without a tensor
    Path empty = pair("{\"__metadata__\":{\"format\":\"pt\"}}", new byte[0], new byte[0]);
    fails(sparkmerge("merge", empty.toString(), out.toString(), "--dry-run"), 3, "holds no tensors");
    // the same layer spelled layers.1 and layers.01: one output name after renumbering
    Path twice = model("twice", "{\"model.layers.1.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        + "\"model.layers.01.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]);
    Path slices = config("""
        merge_method: passthrough
        slices:
          - sources:
              - model: T
                layer_range: [1, 2]
        """.replace("T", twice.toString()));
    fails(sparkmerge("merge", slices.toString(), out.toString(), "--dry-run"), 3, "written two ways");
    // an invalid regular expression as a filter (it used to match nothing, silently)
    fails(sparkmerge("merge", config(LINEAR + "tensors:\n  - filter: \"lm_head[\"\n    merge_method: linear\n").toString(),
        out.toString(), "--dry-run"), 2, "not a valid regular expression");
    // weights whose sum overflows (the merge was all zeros)
    fails(sparkmerge("merge", config(LINEAR.replace("0.5", "1e308")).toString(), out.toString(), "--dry-run"), 2,
        "weights sum to more than the largest double");
    fails(sparkmerge("merge", config(LINEAR.replace("weight: 0.5", "weight: .inf")).toString(), out.toString(), "--dry-run"), 2,
        "finite number");
    // seeds outside the long range (they were clamped)
    fails(sparkmerge("merge", config(LINEAR + "seed: 9223372036854775808\n").toString(), out.toString(), "--dry-run"), 2,
        "seed must be an integer");
    fails(sparkmerge("merge", config(LINEAR + "seed: 1.0e30\n").toString(), out.toString(), "--dry-run"), 2, "seed");
    // OUT = ""
    fails(sparkmerge("merge", config(LINEAR).toString(), ""), 2, "output path is empty");
    // --poll-interval NaN (it busy-looped)
    fails(sparkmerge("checkpoints", family.resolve("F").toString(), work.resolve("wsm").toString(), "--window", "2", "--watch",
        "--poll-interval", "NaN"), 2, "--poll-interval");
    // report onto a non-empty directory
    Files.createDirectories(work.resolve("dir/x"));
    fails(sparkmerge("report", dirs.get(1).toString(), work.resolve("dir").toString()), 4, "is a directory");
    assertFalse(Files.exists(out));
  }

  /** A read-only output location: a usage error before any task (it gave raw exceptions or Spark's exit 52). */
  @Test
  void aReadOnlyOutputLocationIsAUsageErrorBeforeAnyTask() throws IOException {
    Path ro = Files.createDirectories(work.resolve("ro"));
    Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      // as root permissions are not enforced: /proc is read-only for everyone
      Path target = Files.isWritable(ro) ? Path.of("/proc/sparkmerge-test-out") : ro.resolve("out");
      fails(sparkmerge("merge", config(LINEAR).toString(), target.toString(), "--master", "local[1]"), 2, "cannot write to");
    } finally {
      Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  @Test
  void inspectShowsTerminalEscapesInNamesInsteadOfSendingThem() throws IOException {
    Path m = model("ansi", "{\"a\\u001b[2Jb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
    Run r = sparkmerge("inspect", m.toString());
    assertEquals(0, r.code(), r.err());
    assertFalse(r.out().contains("\u001b"), "no raw escape on the terminal");
    assertTrue(r.out().contains("a\\u001B[2Jb"), r.out());
  }
}
