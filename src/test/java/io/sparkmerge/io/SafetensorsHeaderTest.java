package io.sparkmerge.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkmerge.InputDataException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every header rule has a malformed file that fails with its own message, naming the file (exit code 3). */
class SafetensorsHeaderTest {
  @TempDir Path dir;

  static FileSystem fs() throws IOException {
    return FileSystem.getLocal(new Configuration());
  }

  SafetensorsHeader read(Path p) throws IOException {
    return SafetensorsHeader.read(fs(), new org.apache.hadoop.fs.Path(p.toString()));
  }

  void fails(Path p, String... words) {
    InputDataException e = assertThrows(InputDataException.class, () -> read(p));
    assertEquals(3, e.exitCode());
    assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "'" + w + "' in: " + e.getMessage());
    }
    assertEquals(1, e.getMessage().lines().count(), "one line");
  }

  static final String OK = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

  @Test
  void validFileParses() throws IOException {
    Path p = RawSafetensors.write(dir.resolve("ok.safetensors"),
        "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[8,16]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"e\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[16,16]}}   ",
        16);
    SafetensorsHeader h = read(p);
    assertEquals(Map.of("format", "pt"), h.metadata());
    assertEquals(3, h.tensors().size());
    TensorInfo b = h.tensors().get("b");
    assertEquals(DType.BF16, b.dtype());
    assertArrayEquals(new long[] {2, 2}, b.shape());
    assertEquals(h.dataStart() + 8, b.fileOffset());
    assertEquals(64, h.headerSha256().length());
  }

  /** Issue 16, defect 8: names with a lone UTF-16 surrogate were written back as '?w' twice (a duplicate index key). */
  @Test
  void namesWithLoneSurrogatesAreRefused() throws IOException {
    Path p = RawSafetensors.write(dir.resolve("surrogate.safetensors"), "{\"\\ud800w\":{\"dtype\":\"F32\",\"shape\":[1],"
        + "\"data_offsets\":[0,4]},\"\\ud801w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
    fails(p, "not valid Unicode", "\\uD80");
    // a proper pair (an emoji) is fine
    Path ok = RawSafetensors.write(dir.resolve("emoji.safetensors"), "{\"\\ud83d\\ude00\":{\"dtype\":\"F32\",\"shape\":[1],"
        + "\"data_offsets\":[0,4]}}", 4);
    assertEquals(1, read(ok).tensors().size());
  }

  @Test
  void emptyAnd7ByteFiles() throws IOException {
    Files.write(dir.resolve("empty.safetensors"), new byte[0]);
    fails(dir.resolve("empty.safetensors"), "shorter than the 8-byte");
    Files.write(dir.resolve("seven.safetensors"), new byte[7]);
    fails(dir.resolve("seven.safetensors"), "7 bytes");
  }

  @Test
  void headerLengthPastEofHugeAndOverLimit() throws IOException {
    byte[] h = OK.getBytes();
    fails(RawSafetensors.writeWithLength(dir.resolve("past.safetensors"), h.length + 100, h, 0), "past the end");
    fails(RawSafetensors.writeWithLength(dir.resolve("2p63.safetensors"), Long.MIN_VALUE, h, 8), "9223372036854775808", "limit");
    fails(RawSafetensors.writeWithLength(dir.resolve("big.safetensors"), 100_000_001L, h, 8), "100000001", "limit");
  }

  @Test
  void notJsonNotObjectNotUtf8DeeplyNestedDuplicateKeys() throws IOException {
    fails(RawSafetensors.write(dir.resolve("nojson.safetensors"), "{not json", 0), "not valid JSON");
    fails(RawSafetensors.write(dir.resolve("array.safetensors"), "[1,2,3]", 0), "not an object");
    fails(RawSafetensors.write(dir.resolve("utf8.safetensors"), new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'}, 0),
        "UTF-8");
    fails(RawSafetensors.write(dir.resolve("deep.safetensors"), "{\"a\":" + "[".repeat(500) + "]".repeat(500) + "}", 0), "nested");
    fails(RawSafetensors.write(dir.resolve("dup.safetensors"),
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
        "duplicate");
    fails(RawSafetensors.write(dir.resolve("trailjson.safetensors"), OK + "{}", 8), "not valid JSON");
  }

  @Test
  void metadataMustMapStringsToStrings() throws IOException {
    fails(RawSafetensors.write(dir.resolve("meta.safetensors"), "{\"__metadata__\":{\"n\":1}}", 0), "__metadata__", "'n'");
    fails(RawSafetensors.write(dir.resolve("meta2.safetensors"), "{\"__metadata__\":[1]}", 0), "__metadata__");
  }

  @Test
  void dtypeAndEntryShape() throws IOException {
    fails(RawSafetensors.write(dir.resolve("dtype.safetensors"), OK.replace("F32", "F8_E4M3"), 8), "unsupported dtype", "F8_E4M3", "'a'");
    fails(RawSafetensors.write(dir.resolve("nodtype.safetensors"), "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "no 'dtype'");
    fails(RawSafetensors.write(dir.resolve("noshape.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8), "no 'shape'");
    fails(RawSafetensors.write(dir.resolve("nooff.safetensors"), "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "no 'data_offsets'");
    fails(RawSafetensors.write(dir.resolve("extra.safetensors"), OK.replace("\"shape\"", "\"x\":1,\"shape\""), 8), "unexpected key 'x'");
    fails(RawSafetensors.write(dir.resolve("entry.safetensors"), "{\"a\":5}", 0), "'a'", "object");
  }

  @Test
  void shapeRules() throws IOException {
    fails(RawSafetensors.write(dir.resolve("neg.safetensors"), OK.replace("[2]", "[-2]"), 8), "non-negative");
    fails(RawSafetensors.write(dir.resolve("frac.safetensors"), OK.replace("[2]", "[2.5]"), 8), "non-negative integers");
    fails(RawSafetensors.write(dir.resolve("overflow.safetensors"),
        OK.replace("[2]", "[4294967296,4294967296]"), 8), "overflows");
    fails(RawSafetensors.write(dir.resolve("mismatch.safetensors"), OK.replace("[2]", "[3]"), 8), "needs 12 bytes", "span 8");
  }

  @Test
  void offsetRules() throws IOException {
    fails(RawSafetensors.write(dir.resolve("range.safetensors"), OK.replace("[0,8]", "[8,16]"), 8), "past the data section");
    fails(RawSafetensors.write(dir.resolve("reversed.safetensors"), OK.replace("[0,8]", "[8,0]"), 8), "reversed");
    fails(RawSafetensors.write(dir.resolve("negoff.safetensors"), OK.replace("[0,8]", "[-8,0]"), 8), "data_offsets");
    fails(RawSafetensors.write(dir.resolve("overlap.safetensors"),
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
        "overlaps");
    fails(RawSafetensors.write(dir.resolve("gap.safetensors"),
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12),
        "gap of 4 bytes");
    fails(RawSafetensors.write(dir.resolve("trailing.safetensors"), OK, 12), "4 trailing bytes");
    fails(RawSafetensors.write(dir.resolve("start.safetensors"),
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "gap of 4 bytes");
  }

  @Test
  void truncatedDataIsReportedByTheReader() throws IOException {
    // header claims 8 data bytes; we cut the file so the reader hits EOF
    Path p = RawSafetensors.write(dir.resolve("trunc.safetensors"), OK, 8);
    SafetensorsHeader h = read(p);
    byte[] all = Files.readAllBytes(p);
    Files.write(p, java.util.Arrays.copyOf(all, all.length - 3));
    try (TensorReader r = new TensorReader(fs(), new org.apache.hadoop.fs.Path(p.toString()))) {
      TensorInfo a = h.tensors().get("a");
      InputDataException e = assertThrows(InputDataException.class, () -> r.readFully(a.fileOffset(), new byte[8], 0, 8));
      assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains(p.toString()), e.getMessage());
    }
    // and read() sees the truncation as a layout error before any data read
    fails(p, "past the data section");
  }
}
