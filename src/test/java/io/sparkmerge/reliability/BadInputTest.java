package io.sparkmerge.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.cli.Main;
import io.sparkmerge.io.HfIndex;
import io.sparkmerge.io.RawSafetensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The malformed-input corpus of issue 7, driven end to end through {@code sparkmerge merge}: every
 * case ends with its documented exit code (3 bad input data, 2 bad config), one line on stderr that
 * names the file, tensor or key, nothing at OUT, and no hang (each case is bounded by a timeout).
 * The corrupt model is always the second of two models, so the first, valid one proves the job
 * really opened inputs before failing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputTest {
  @TempDir Path work;
  Path good;
  Path bad;
  Path out;

  /** A valid model: a F32 [2,2] and b F32 [2]. */
  static final String HEADER = "{\"__metadata__\":{\"format\":\"pt\"},"
      + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
      + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}";

  static final String LINEAR = """
      merge_method: linear
      models:
        - model: GOOD
          parameters: {weight: 0.5}
        - model: BAD
          parameters: {BAD_PARAMS}
      """;

  static final String TIES = """
      merge_method: ties
      base_model: GOOD
      models:
        - model: GOOD2
          parameters: {weight: 0.5, density: 0.5}
        - model: BAD
          parameters: {BAD_PARAMS}
      """;

  @BeforeEach
  void setUp() throws IOException {
    good = work.resolve("good");
    bad = work.resolve("bad");
    out = work.resolve("out");
    model(good, HEADER, floats(1, 2, 3, 4, 5, 6));
    Files.createDirectories(bad);
  }

  // ---- harness -------------------------------------------------------------------------------

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }

  static Path model(Path dir, String header, byte[] data) throws IOException {
    return RawSafetensors.write(dir.resolve(HfIndex.SINGLE_FILE), header, data);
  }

  /** The bad model's single file with the given header and {@code dataBytes} zero bytes of data. */
  Path badFile(String header, int dataBytes) throws IOException {
    return RawSafetensors.write(bad.resolve(HfIndex.SINGLE_FILE), header, dataBytes);
  }

  record Run(int code, String out, String err) {}

  Run merge(String yaml) throws IOException {
    return merge(yaml, yaml.contains("ties") ? "weight: 0.5, density: 0.5" : "weight: 0.5");
  }

  /** Runs the config with the corrupt model's parameters set to {@code badParams}. */
  Run merge(String yaml, String badParams) throws IOException {
    yaml = yaml.replace("BAD_PARAMS", badParams);
    Path cfg = work.resolve("merge.yml");
    Files.writeString(cfg, yaml.replace("GOOD2", good.toString()).replace("GOOD", good.toString()).replace("BAD", bad.toString()));
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code = Main.execute(new String[] {"merge", cfg.toString(), out.toString(), "--master", "local[2]"},
        new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
    return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
  }

  /** Runs the merge and checks the failure contract: exit code, one line naming {@code names}, nothing at OUT. */
  void fails(String yaml, int code, String... names) throws IOException {
    failsWith(merge(yaml), code, names);
  }

  void failsWith(Run r, int code, String... names) {
    assertEquals(code, r.code(), "exit code; stderr: " + r.err());
    String line = r.err().strip();
    assertEquals(1, line.lines().count(), "one line, no stack trace: " + r.err());
    assertTrue(line.startsWith("sparkmerge: "), line);
    for (String n : names) {
      assertTrue(line.contains(n), "'" + n + "' in: " + line);
    }
    assertFalse(Files.exists(out), "nothing written at OUT: " + line);
  }

  /** A bad-input (exit 3) case whose message names the bad file and {@code words}. */
  void badData(String... words) throws IOException {
    String[] names = new String[words.length + 1];
    names[0] = bad.toString();
    System.arraycopy(words, 0, names, 1, words.length);
    fails(LINEAR, 3, names);
  }

  static String one(String name, String dtype, String shape, long begin, long end) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
  }

  // ---- the 8-byte length ---------------------------------------------------------------------

  @Test
  void emptyFile() throws IOException {
    Files.write(bad.resolve(HfIndex.SINGLE_FILE), new byte[0]);
    badData("0 bytes", "shorter than the 8-byte");
  }

  @Test
  void sevenByteFile() throws IOException {
    Files.write(bad.resolve(HfIndex.SINGLE_FILE), new byte[7]);
    badData("7 bytes");
  }

  @Test
  void headerLengthPastEndOfFile() throws IOException {
    byte[] h = HEADER.getBytes(StandardCharsets.UTF_8);
    RawSafetensors.writeWithLength(bad.resolve(HfIndex.SINGLE_FILE), h.length + 1000, h, 24);
    badData("past the end");
  }

  @Test
  void headerLengthTwoToThe63() throws IOException {
    byte[] h = HEADER.getBytes(StandardCharsets.UTF_8);
    RawSafetensors.writeWithLength(bad.resolve(HfIndex.SINGLE_FILE), Long.MIN_VALUE, h, 24);
    badData("9223372036854775808", "limit");
  }

  @Test
  void headerLengthOver100MB() throws IOException {
    byte[] h = HEADER.getBytes(StandardCharsets.UTF_8);
    RawSafetensors.writeWithLength(bad.resolve(HfIndex.SINGLE_FILE), 100_000_001L, h, 24);
    badData("100000001", "limit");
  }

  // ---- the header JSON -------------------------------------------------------------------------

  @Test
  void headerNotJson() throws IOException {
    badFile("{\"a\": not json", 0);
    badData("not valid JSON");
  }

  @Test
  void headerNotAnObject() throws IOException {
    badFile("[1, 2, 3]", 0);
    badData("not an object");
  }

  @Test
  void headerNotUtf8() throws IOException {
    RawSafetensors.write(bad.resolve(HfIndex.SINGLE_FILE), new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'}, 0);
    badData("UTF-8");
  }

  @Test
  void headerDeeplyNested() throws IOException {
    badFile("{\"a\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}", 0);
    badData("nested");
  }

  @Test
  void duplicateKeys() throws IOException {
    badFile("{" + one("a", "F32", "[2,2]", 0, 16) + "," + one("a", "F32", "[2]", 16, 24) + "}", 24);
    badData("duplicate", "'a'");
  }

  @Test
  void nonStringMetadata() throws IOException {
    badFile(HEADER.replace("\"format\":\"pt\"", "\"format\":{\"nested\":1}"), 24);
    badData("__metadata__", "'format'");
  }

  @Test
  void unknownDtype() throws IOException {
    badFile(HEADER.replace("\"dtype\":\"F32\",\"shape\":[2]", "\"dtype\":\"F8_E9\",\"shape\":[2]"), 24);
    badData("F8_E9", "'b'");
  }

  // ---- shapes and offsets ----------------------------------------------------------------------

  @Test
  void shapeTimesDtypeIsNotTheByteRange() throws IOException {
    badFile("{" + one("a", "F32", "[2,3]", 0, 16) + "," + one("b", "F32", "[2]", 16, 24) + "}", 24);
    badData("'a'", "needs 24 bytes", "span 16");
  }

  @Test
  void shapeOverflow() throws IOException {
    badFile("{" + one("a", "F32", "[4294967296,4294967296,4]", 0, 16) + "," + one("b", "F32", "[2]", 16, 24) + "}", 24);
    badData("'a'", "overflows");
  }

  @Test
  void negativeShape() throws IOException {
    badFile("{" + one("a", "F32", "[-2,-2]", 0, 16) + "," + one("b", "F32", "[2]", 16, 24) + "}", 24);
    badData("'a'", "non-negative");
  }

  @Test
  void offsetsOutOfRange() throws IOException {
    badFile("{" + one("a", "F32", "[2,2]", 0, 16) + "," + one("b", "F32", "[2]", 100, 108) + "}", 24);
    badData("'b'", "past the data section");
  }

  @Test
  void offsetsReversed() throws IOException {
    badFile("{" + one("a", "F32", "[2,2]", 16, 0) + "," + one("b", "F32", "[2]", 16, 24) + "}", 24);
    badData("'a'", "reversed");
  }

  @Test
  void offsetsOverlap() throws IOException {
    badFile("{" + one("a", "F32", "[2,2]", 0, 16) + "," + one("b", "F32", "[2]", 12, 20) + "}", 24);
    badData("'b'", "overlaps");
  }

  @Test
  void offsetsWithAGap() throws IOException {
    badFile("{" + one("a", "F32", "[2,2]", 0, 16) + "," + one("b", "F32", "[2]", 20, 28) + "}", 28);
    badData("gap of 4 bytes", "'b'");
  }

  @Test
  void trailingBytes() throws IOException {
    badFile(HEADER, 30);
    badData("6 trailing bytes");
  }

  @Test
  void truncatedData() throws IOException {
    // a valid file cut short, as an interrupted copy leaves it
    Path f = model(bad, HEADER, floats(1, 2, 3, 4, 5, 6));
    byte[] all = Files.readAllBytes(f);
    Files.write(f, java.util.Arrays.copyOf(all, all.length - 5));
    badData("'b'", "past the data section");
  }

  // ---- sharded models and their index ---------------------------------------------------------

  @Test
  void indexPointsOutsideTheDirectory() throws IOException {
    model(work.resolve("elsewhere"), HEADER, floats(1, 2, 3, 4, 5, 6));
    Files.writeString(bad.resolve(HfIndex.INDEX_FILE),
        "{\"weight_map\":{\"a\":\"../elsewhere/model.safetensors\",\"b\":\"../elsewhere/model.safetensors\"}}");
    badData("'a'", "not a plain file name");
  }

  @Test
  void indexPointsToAMissingShard() throws IOException {
    Files.writeString(bad.resolve(HfIndex.INDEX_FILE),
        "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
    badData("model-00001-of-00002.safetensors", "does not exist");
  }

  @Test
  void indexPointsToAnAbsentTensor() throws IOException {
    RawSafetensors.write(bad.resolve("model-00001-of-00001.safetensors"), HEADER, floats(1, 2, 3, 4, 5, 6));
    Files.writeString(bad.resolve(HfIndex.INDEX_FILE), "{\"weight_map\":{\"a\":\"model-00001-of-00001.safetensors\","
        + "\"b\":\"model-00001-of-00001.safetensors\",\"c\":\"model-00001-of-00001.safetensors\"}}");
    badData("'c'", "no such tensor");
  }

  @Test
  void indexIsNotJson() throws IOException {
    RawSafetensors.write(bad.resolve("model-00001-of-00001.safetensors"), HEADER, floats(1, 2, 3, 4, 5, 6));
    Files.writeString(bad.resolve(HfIndex.INDEX_FILE), "{\"weight_map\": [");
    badData(HfIndex.INDEX_FILE, "not valid JSON");
  }

  @Test
  void pickleOnlyCheckpoint() throws IOException {
    Files.write(bad.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 0x02, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm'});
    badData("pytorch_model.bin", "pickle", "convert to safetensors");
  }

  // ---- models that do not match ---------------------------------------------------------------

  @Test
  void tensorNamesDifferAcrossModels() throws IOException {
    model(bad, "{" + one("a", "F32", "[2,2]", 0, 16) + "," + one("c", "F32", "[2]", 16, 24) + "}", floats(1, 2, 3, 4, 5, 6));
    badData("missing tensors b", "extra tensors c");
  }

  @Test
  void shapesDifferAcrossModels() throws IOException {
    model(bad, "{" + one("a", "F32", "[4,1]", 0, 16) + "," + one("b", "F32", "[2]", 16, 24) + "}", floats(1, 2, 3, 4, 5, 6));
    badData("different shapes a [2, 2] vs [4, 1]");
  }

  // ---- values --------------------------------------------------------------------------------

  @Test
  void nanInAnInputFailsUnlessAllowed() throws IOException {
    model(bad, HEADER, floats(1, 2, Float.NaN, 4, 5, 6));
    badData("tensor a", "NaN/Inf", "allow_nonfinite");
    Run allowed = merge(LINEAR + "allow_nonfinite: true\n");
    assertEquals(0, allowed.code(), allowed.err());
    assertTrue(Files.exists(out.resolve("_SUCCESS")), "allow_nonfinite: true merges anyway");
  }

  @Test
  void infinityInAnInputFails() throws IOException {
    model(bad, HEADER, floats(1, 2, 3, 4, 5, Float.NEGATIVE_INFINITY));
    badData("tensor b", "NaN/Inf");
  }

  // ---- config errors (exit 2) ----------------------------------------------------------------

  @Test
  void unknownConfigKey() throws IOException {
    model(bad, HEADER, floats(1, 2, 3, 4, 5, 6));
    fails(LINEAR + "sed: 3\n", 2, "unknown key 'sed'", "seed");
  }

  @Test
  void unknownMethod() throws IOException {
    model(bad, HEADER, floats(1, 2, 3, 4, 5, 6));
    fails(LINEAR.replace("linear", "lineer"), 2, "'lineer'", "did you mean 'linear'");
  }

  @Test
  void unknownParameter() throws IOException {
    model(bad, HEADER, floats(1, 2, 3, 4, 5, 6));
    failsWith(merge(LINEAR, "wieght: 0.5"), 2, "wieght");
  }

  @Test
  void densityZeroIsOutsideItsRange() throws IOException {
    model(bad, HEADER, floats(1, 2, 3, 4, 5, 6));
    failsWith(merge(TIES, "weight: 0.5, density: 0.0"), 2, "density");
  }

  @Test
  void densityAboveOneIsOutsideItsRange() throws IOException {
    model(bad, HEADER, floats(1, 2, 3, 4, 5, 6));
    failsWith(merge(TIES, "weight: 0.5, density: 1.5"), 2, "density", "1.5");
  }

  @Test
  void weightsSummingToZeroWithNormalize() throws IOException {
    model(bad, HEADER, floats(1, 2, 3, 4, 5, 6));
    failsWith(merge(LINEAR + "parameters: {normalize: true}\n", "weight: -0.5"), 2, "sum to 0", "normalize");
  }

  @Test
  void missingModelPath() throws IOException {
    Files.delete(bad);
    fails(LINEAR, 2, bad.toString(), "does not exist");
  }
}
