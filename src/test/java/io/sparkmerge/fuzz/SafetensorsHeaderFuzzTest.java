package io.sparkmerge.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.InputDataException;
import io.sparkmerge.cli.Main;
import io.sparkmerge.io.RawSafetensors;
import io.sparkmerge.io.SafetensorsHeader;
import io.sparkmerge.io.Storage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the safetensors header parser (issue 16): thousands of mutations of valid files —
 * byte flips, insertions, deletions and truncations, JSON-aware edits of names, dtypes, shapes and offsets
 * (huge, negative, fractional, nested, lone-surrogate escapes), lying length prefixes and truncated files
 * (those read from disk through {@link SafetensorsHeader#read} as a merge reads them, the others parsed in
 * memory by the same validation, {@link SafetensorsHeader#parse}): the outcome must be a valid header or
 * an {@link InputDataException} (exit 3) whose message is one line naming the file, never another
 * exception, never a hang; one case in 250 also goes through {@code sparkmerge inspect} and must exit 0 or
 * 3 with one line on stderr. The outcome classes are printed (docs/reliability.md quotes a run).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SafetensorsHeaderFuzzTest {
  static final long SEED = 16;
  static final int CASES = 5000;
  @TempDir Path tmp;

  static final List<String> VALID = List.of(
      "{\"__metadata__\":{\"format\":\"pt\"},\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
          + "\"a.bias\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[24,30]}}",
      "{\"model.layers.0.mlp.up_proj.weight\":{\"dtype\":\"F16\",\"shape\":[4,2],\"data_offsets\":[0,16]},"
          + "\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[16,32]},\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[32,40]}}",
      "{\"m\":{\"dtype\":\"BOOL\",\"shape\":[5],\"data_offsets\":[0,5]},\"e\":{\"dtype\":\"U8\",\"shape\":[0,7],\"data_offsets\":[5,5]}}");
  static final int[] DATA = {30, 40, 5};

  static final String[] TOKENS = {"{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00", "-1",
      "1e400", "9223372036854775808", "18446744073709551615", "0.5", "null", "true", "\"F32\"", "\"F8_E4M3\"", "\"X\"",
      "[[[[[[[[[[[[[[[[[[[[", "\"__metadata__\"", "\"data_offsets\"", "\"shape\"", "\"dtype\"", "\u00e9", "\u0000", "\n", " "};

  @Test
  void everyMutationIsAValidHeaderOrOneLineExit3() throws Exception {
    Random rnd = new Random(SEED);
    FileSystem fs = FileSystem.get(URI.create("file:///"), Storage.configuration());
    FuzzOutcomes outcomes = new FuzzOutcomes();
    Path file = tmp.resolve("model.safetensors");
    for (int c = 0; c < CASES; c++) {
      int t = rnd.nextInt(VALID.size());
      byte[] header = mutate(VALID.get(t).getBytes(StandardCharsets.UTF_8), rnd);
      int data = Math.max(0, DATA[t] + (rnd.nextInt(4) == 0 ? rnd.nextInt(9) - 4 : 0));
      long declared = header.length;
      boolean lies = rnd.nextInt(12) == 0;
      if (lies) {
        long[] lengths = {-1, 0, 7, header.length - 1L, header.length + 1L, 100_000_001L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40};
        declared = lengths[rnd.nextInt(lengths.length)];
      }
      boolean truncated = rnd.nextInt(25) == 0;
      boolean cli = c % 250 == 0;
      // cases with a lying length prefix, a truncated file or a CLI run go through a real file; the rest
      // through the same parser in memory (SafetensorsHeader.parse), which keeps the run in tens of seconds
      boolean onDisk = lies || truncated || cli;
      if (onDisk) {
        RawSafetensors.writeWithLength(file, declared, header, data);
        if (truncated) {
          byte[] all = Files.readAllBytes(file);
          Files.write(file, java.util.Arrays.copyOf(all, rnd.nextInt(all.length + 1)));
        }
      }
      String label = new org.apache.hadoop.fs.Path(file.toUri()).toString();
      long t0 = System.nanoTime();
      String outcome;
      try {
        SafetensorsHeader h = onDisk ? SafetensorsHeader.read(fs, new org.apache.hadoop.fs.Path(file.toUri()))
            : SafetensorsHeader.parse(label, header, 8L + header.length + data);
        outcome = "valid: " + h.tensors().size() + " tensor(s)";
      } catch (InputDataException e) {
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "case " + c + ": one line: " + m);
        assertTrue(m.contains(label) || m.contains(file.toString()), "case " + c + ": the message names the file: " + m);
        assertEquals(3, e.exitCode());
        outcome = "exit 3: " + FuzzOutcomes.rule(m, label);
      } catch (Throwable e) {
        throw new AssertionError("case " + c + " (seed " + SEED + "): " + e + " for header " + printable(header), e);
      }
      outcomes.add(outcome, System.nanoTime() - t0);
      if (cli) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.execute(new String[] {"inspect", file.toString()}, new PrintStream(out), new PrintStream(err));
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(outcome.startsWith("valid") ? 0 : 3, code, "case " + c + ": inspect exit code; stderr " + e);
        assertTrue(code == 0 ? e.isEmpty() : e.strip().lines().count() == 1 && e.startsWith("sparkmerge: "),
            "case " + c + ": one line on stderr: " + e);
      }
    }
    System.out.println(outcomes.report("safetensors header", SEED));
    assertEquals(CASES, outcomes.cases());
    assertTrue(outcomes.slowestMillis() < 5_000, "no case takes long: " + outcomes.slowestMillis() + " ms");
  }

  /** One to three mutations: byte-level, or a token spliced in at a JSON-significant place. */
  static byte[] mutate(byte[] b, Random rnd) {
    int n = 1 + rnd.nextInt(3);
    for (int k = 0; k < n; k++) {
      int at = b.length == 0 ? 0 : rnd.nextInt(b.length);
      switch (rnd.nextInt(7)) {
        case 0 -> { // flip bits
          if (b.length > 0) {
            b[at] ^= (byte) (1 << rnd.nextInt(8));
          }
        }
        case 1 -> b = splice(b, at, rnd.nextInt(Math.min(8, b.length - at) + 1), new byte[] {(byte) rnd.nextInt(256)});
        case 2 -> b = splice(b, at, rnd.nextInt(Math.min(16, b.length - at) + 1), new byte[0]);
        case 3 -> b = splice(b, at, 0, TOKENS[rnd.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8));
        case 4 -> b = replaceNumber(b, rnd);
        case 5 -> b = replaceString(b, rnd);
        default -> { // duplicate a slice (duplicate keys, repeated entries)
          int len = rnd.nextInt(Math.min(60, b.length - at) + 1);
          b = splice(b, at, 0, java.util.Arrays.copyOfRange(b, at, at + len));
        }
      }
    }
    return b;
  }

  static byte[] replaceNumber(byte[] b, Random rnd) {
    String s = new String(b, StandardCharsets.ISO_8859_1);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+").matcher(s);
    List<int[]> spans = new java.util.ArrayList<>();
    while (m.find()) {
      spans.add(new int[] {m.start(), m.end()});
    }
    if (spans.isEmpty()) {
      return b;
    }
    int[] sp = spans.get(rnd.nextInt(spans.size()));
    String[] nums = {"0", "1", "-1", "-0", "2147483648", "4294967296", "9223372036854775807", "99999999999999999999", "1.5", "1e3",
        "24", "30", "31", "" + rnd.nextInt(64)};
    return splice(b, sp[0], sp[1] - sp[0], nums[rnd.nextInt(nums.length)].getBytes(StandardCharsets.ISO_8859_1));
  }

  static byte[] replaceString(byte[] b, Random rnd) {
    String s = new String(b, StandardCharsets.ISO_8859_1);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"([^\"\\\\]*)\"").matcher(s);
    List<int[]> spans = new java.util.ArrayList<>();
    while (m.find()) {
      spans.add(new int[] {m.start(1), m.end(1)});
    }
    if (spans.isEmpty()) {
      return b;
    }
    int[] sp = spans.get(rnd.nextInt(spans.size()));
    String[] strs = {"", "F32", "F16", "BF16", "I8", "BOOL", "F8_E5M2", "f32", "__metadata__", "a.weight", "\\ud800w", "\\u001b[31mred",
        "../../x", "a\\u0000b", "dtype", "shape", "data_offsets", "x".repeat(300)};
    return splice(b, sp[0], sp[1] - sp[0], strs[rnd.nextInt(strs.length)].getBytes(StandardCharsets.UTF_8));
  }

  static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
    ByteBuffer o = ByteBuffer.allocate(b.length - remove + insert.length).order(ByteOrder.LITTLE_ENDIAN);
    o.put(b, 0, at).put(insert).put(b, at + remove, b.length - at - remove);
    return o.array();
  }

  static String printable(byte[] b) {
    return io.sparkmerge.Messages.printable(new String(b, StandardCharsets.ISO_8859_1));
  }
}
