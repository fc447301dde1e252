package io.sparkmerge.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmerge.InputDataException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A validated safetensors header. {@link #read} reads only the 8-byte length and the header JSON —
 * never tensor data — and checks every rule of the format before anything else touches the file:
 * length bounds, UTF-8, a JSON object without duplicate keys, string metadata, known dtypes, shapes
 * whose size matches the byte range, and offsets that tile the data section exactly.
 */
public final class SafetensorsHeader implements Serializable {
  /** The largest header we accept (the reference implementation's limit). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;
  private static final int MAX_JSON_DEPTH = 16;
  private static final Set<String> ENTRY_KEYS = Set.of("dtype", "shape", "data_offsets");
  private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_JSON_DEPTH).build())
      .build())
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final String file;
  private final long fileSize;
  private final long headerLength;
  private final Map<String, String> metadata;
  private final LinkedHashMap<String, TensorInfo> tensors;
  private final String headerSha256;

  private SafetensorsHeader(String file, long fileSize, long headerLength, Map<String, String> metadata,
      LinkedHashMap<String, TensorInfo> tensors, String headerSha256) {
    this.file = file;
    this.fileSize = fileSize;
    this.headerLength = headerLength;
    this.metadata = metadata;
    this.tensors = tensors;
    this.headerSha256 = headerSha256;
  }

  /** Reads and validates the header of {@code path}. Tensor data is not read. */
  public static SafetensorsHeader read(FileSystem fs, Path path) throws IOException {
    String label = path.toString();
    long size = fs.getFileStatus(path).getLen();
    if (size < 8) {
      throw new InputDataException(label + ": file is " + size
          + " bytes, shorter than the 8-byte header length; not a safetensors file (truncated copy?)");
    }
    byte[] len8 = new byte[8];
    try (FSDataInputStream in = fs.open(path)) {
      in.readFully(0, len8);
      long n = ByteBuffer.wrap(len8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      checkLength(label, n, size);
      byte[] header = new byte[(int) n];
      in.readFully(8, header);
      return parse(label, header, size, sha256(len8, header));
    }
  }

  private static void checkLength(String label, long n, long size) {
    if (n < 0 || n > MAX_HEADER_BYTES) {
      throw new InputDataException(label + ": header length " + Long.toUnsignedString(n) + " exceeds the limit of "
          + MAX_HEADER_BYTES + " bytes; not a safetensors file, or a corrupt one");
    }
    if (n > size - 8) {
      throw new InputDataException(label + ": header length " + n + " runs past the end of the file (" + size
          + " bytes); the file is truncated or not a safetensors file");
    }
  }

  /** Validates a header's JSON bytes for a file of {@code fileSize} bytes (tests and tools). */
  public static SafetensorsHeader parse(String label, byte[] header, long fileSize) {
    byte[] len8 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array();
    checkLength(label, header.length, fileSize);
    return parse(label, header, fileSize, sha256(len8, header));
  }

  private static SafetensorsHeader parse(String label, byte[] header, long fileSize, String digest) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(header)).toString();
    } catch (CharacterCodingException e) {
      throw new InputDataException(label + ": header is not valid UTF-8; the file is corrupt or not a safetensors file");
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (StreamConstraintsException e) {
      throw new InputDataException(label + ": header JSON is nested deeper than " + MAX_JSON_DEPTH
          + " levels; a safetensors header is a flat object of tensor entries");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      String m = e.getOriginalMessage();
      if (m != null && m.startsWith("Duplicate field")) {
        throw new InputDataException(label + ": header has a duplicate key (" + m + "); every tensor name must be unique");
      }
      throw new InputDataException(label + ": header is not valid JSON (" + m + ")");
    }
    if (root == null || !root.isObject()) {
      throw new InputDataException(label + ": header is JSON but not an object; expected {\"tensor\": {\"dtype\": ..., "
          + "\"shape\": [...], \"data_offsets\": [begin, end]}, ...}");
    }
    long headerLength = header.length;
    long dataLength = fileSize - 8 - headerLength;
    Map<String, String> metadata = Map.of();
    List<TensorInfo> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        metadata = metadata(label, e.getValue());
      } else {
        entries.add(entry(label, e.getKey(), e.getValue(), dataLength, 8 + headerLength));
      }
    }
    HeaderRules.checkTiling(label, entries, dataLength);
    LinkedHashMap<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (TensorInfo t : entries) {
      tensors.put(t.name(), t);
    }
    return new SafetensorsHeader(label, fileSize, headerLength, metadata, tensors, digest);
  }

  private static Map<String, String> metadata(String label, JsonNode node) {
    if (!node.isObject()) {
      throw new InputDataException(label + ": __metadata__ must be an object mapping strings to strings");
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new InputDataException(label + ": __metadata__ value of '" + e.getKey() + "' is " + e.getValue().getNodeType()
            + ", not a string; safetensors metadata maps strings to strings");
      }
      m.put(e.getKey(), e.getValue().asText());
    }
    return Collections.unmodifiableMap(m);
  }

  private static TensorInfo entry(String label, String name, JsonNode node, long dataLength, long dataStart) {
    String where = label + ": tensor '" + name + "'";
    if (name.isEmpty()) {
      throw new InputDataException(label + ": a tensor has an empty name");
    }
    if (!HeaderRules.validUnicode(name)) {
      // a lone surrogate would be written back as '?': two such names collide in the output's index
      throw new InputDataException(label + ": tensor name '" + io.sparkmerge.Messages.printable(name) + "' is not valid Unicode"
          + " (an unpaired UTF-16 surrogate escape); rename the tensor");
    }
    if (!node.isObject()) {
      throw new InputDataException(where + " must be an object with dtype, shape and data_offsets");
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!ENTRY_KEYS.contains(k)) {
        throw new InputDataException(where + " has an unexpected key '" + k + "' (allowed: dtype, shape, data_offsets)");
      }
    }
    for (String k : ENTRY_KEYS) {
      if (!node.has(k)) {
        throw new InputDataException(where + " has no '" + k + "'");
      }
    }
    if (!node.get("dtype").isTextual()) {
      throw new InputDataException(where + ": dtype must be a string such as \"F32\"");
    }
    DType dtype = DType.fromHeader(node.get("dtype").asText(), label, name);
    JsonNode shapeNode = node.get("shape");
    if (!shapeNode.isArray()) {
      throw new InputDataException(where + ": shape must be an array of non-negative integers");
    }
    long[] shape = new long[shapeNode.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
        throw new InputDataException(where + ": shape " + shapeNode + " must hold non-negative integers");
      }
      shape[i] = d.asLong();
      try {
        numel = Math.multiplyExact(numel, shape[i]);
      } catch (ArithmeticException e) {
        throw new InputDataException(where + ": shape " + shapeNode + " overflows (more than 2^63 elements)");
      }
    }
    long bytes;
    try {
      bytes = Math.multiplyExact(numel, (long) dtype.size());
    } catch (ArithmeticException e) {
      throw new InputDataException(where + ": shape " + shapeNode + " × " + dtype + " overflows");
    }
    JsonNode off = node.get("data_offsets");
    if (!off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()
        || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong() || off.get(0).asLong() < 0 || off.get(1).asLong() < 0) {
      throw new InputDataException(where + ": data_offsets " + off + " must be [begin, end] with non-negative integers");
    }
    long begin = off.get(0).asLong();
    long end = off.get(1).asLong();
    if (begin > end) {
      throw new InputDataException(where + ": data_offsets [" + begin + ", " + end + "] are reversed (begin > end)");
    }
    if (end > dataLength) {
      throw new InputDataException(where + ": data_offsets [" + begin + ", " + end + "] run past the data section ("
          + dataLength + " bytes); the file is truncated or the header is wrong");
    }
    if (end - begin != bytes) {
      throw new InputDataException(where + ": shape " + shapeNode + " of " + dtype + " needs " + bytes
          + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
    }
    return new TensorInfo(name, dtype, shape, begin, end, dataStart + begin);
  }

  static String sha256(byte[]... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (byte[] p : parts) {
        md.update(p);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public String file() {
    return file;
  }

  public long fileSize() {
    return fileSize;
  }

  public long headerLength() {
    return headerLength;
  }

  /** Position of the first data byte in the file. */
  public long dataStart() {
    return 8 + headerLength;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  /** Tensors in offset order. */
  public Map<String, TensorInfo> tensors() {
    return Collections.unmodifiableMap(tensors);
  }

  /** SHA-256 (hex) of the 8-byte length and the header bytes: identifies the file's layout in manifests. */
  public String headerSha256() {
    return headerSha256;
  }
}
