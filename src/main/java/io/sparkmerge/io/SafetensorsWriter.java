package io.sparkmerge.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Streams one safetensors file: the header is fixed up front from the tensors' names, dtypes and
 * shapes (padded with spaces to a multiple of 8 bytes, as Hugging Face writes it), then the tensors'
 * bytes are appended in order. Each tensor's SHA-256 is computed on the way. A writer closed before
 * every byte arrived deletes its file: nothing half-written survives. The parent directory must exist.
 */
public final class SafetensorsWriter implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One tensor to write. */
  public record TensorSpec(String name, DType dtype, long[] shape) {
    public long bytes() {
      long n = dtype.size();
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TensorSpec t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
      return name.hashCode();
    }
  }

  private final FileSystem fs;
  private final Path path;
  private final List<TensorSpec> specs;
  private final OutputStream out;
  private final MessageDigest digest;
  private final Map<String, String> sha = new LinkedHashMap<>();
  private final long fileSize;
  private int current;
  private long writtenInCurrent;
  private boolean closed;
  private byte[] scratch = new byte[0];

  public SafetensorsWriter(FileSystem fs, Path path, List<TensorSpec> specs, Map<String, String> metadata) throws IOException {
    // Non-recursive: a task that outlives its failed job must not re-create a staging directory the
    // driver has already removed.
    this(fs, path, new java.io.BufferedOutputStream(fs.createNonRecursive(path, true, 1 << 16,
        fs.getDefaultReplication(path), fs.getDefaultBlockSize(path), null), 1 << 20), specs, metadata);
  }

  /**
   * A writer into a stream that buffers by itself (a {@link MultipartOutput}); {@code path} names it in
   * messages. An incomplete file is not deleted: its owner aborts the stream.
   */
  public SafetensorsWriter(Path path, java.io.OutputStream sink, List<TensorSpec> specs, Map<String, String> metadata)
      throws IOException {
    this(null, path, sink, specs, metadata);
  }

  private SafetensorsWriter(FileSystem fs, Path path, java.io.OutputStream sink, List<TensorSpec> specs,
      Map<String, String> metadata) throws IOException {
    this.fs = fs;
    this.path = path;
    this.specs = List.copyOf(specs);
    byte[] header = header(specs, metadata);
    this.fileSize = 8 + header.length + dataBytes(specs);
    try {
      this.digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    this.out = sink;
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
    out.write(header);
    skipEmpty();
  }

  /** The header JSON for these tensors, padded with spaces to a multiple of 8 bytes. */
  public static byte[] header(List<TensorSpec> specs, Map<String, String> metadata) {
    ObjectNode root = JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode m = root.putObject("__metadata__");
      metadata.forEach(m::put);
    }
    long offset = 0;
    for (TensorSpec s : specs) {
      if (s.name().equals("__metadata__") || root.has(s.name())) {
        throw new IllegalArgumentException("tensor name '" + s.name() + "' is reserved or repeated");
      }
      ObjectNode t = root.putObject(s.name());
      t.put("dtype", s.dtype().name());
      ArrayNode shape = t.putArray("shape");
      for (long d : s.shape()) {
        shape.add(d);
      }
      ArrayNode off = t.putArray("data_offsets");
      off.add(offset);
      offset += s.bytes();
      off.add(offset);
    }
    byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    byte[] out = Arrays.copyOf(json, padded);
    Arrays.fill(out, json.length, padded, (byte) ' ');
    return out;
  }

  /** SHA-256 (hex) of the header these tensors make, its 8-byte length included (what {@link SafetensorsHeader#headerSha256} reads). */
  public static String headerSha256(List<TensorSpec> specs, Map<String, String> metadata) {
    byte[] header = header(specs, metadata);
    return SafetensorsHeader.sha256(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array(), header);
  }

  /** The size of the file these tensors make. */
  public static long fileSize(List<TensorSpec> specs, Map<String, String> metadata) {
    return 8 + header(specs, metadata).length + dataBytes(specs);
  }

  private static long dataBytes(List<TensorSpec> specs) {
    long n = 0;
    for (TensorSpec s : specs) {
      n += s.bytes();
    }
    return n;
  }

  /** Appends the buffer's remaining bytes to the current tensor(s); the buffer's position advances. */
  public void write(ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      if (current >= specs.size()) {
        throw new IllegalStateException(path + ": more bytes written than the " + specs.size() + " tensors hold");
      }
      long left = specs.get(current).bytes() - writtenInCurrent;
      int n = (int) Math.min(left, buf.remaining());
      if (buf.hasArray()) {
        int off = buf.arrayOffset() + buf.position();
        out.write(buf.array(), off, n);
        digest.update(buf.array(), off, n);
        buf.position(buf.position() + n);
      } else {
        if (scratch.length < Math.min(n, 1 << 20)) {
          scratch = new byte[Math.min(n, 1 << 20)];
        }
        int done = 0;
        while (done < n) {
          int k = Math.min(n - done, scratch.length);
          buf.get(scratch, 0, k);
          out.write(scratch, 0, k);
          digest.update(scratch, 0, k);
          done += k;
        }
      }
      writtenInCurrent += n;
      if (writtenInCurrent == specs.get(current).bytes()) {
        sha.put(specs.get(current).name(), HexFormat.of().formatHex(digest.digest()));
        current++;
        writtenInCurrent = 0;
        skipEmpty();
      }
    }
  }

  private void skipEmpty() {
    while (current < specs.size() && specs.get(current).bytes() == 0) {
      sha.put(specs.get(current).name(), HexFormat.of().formatHex(digest.digest()));
      current++;
    }
  }

  /** SHA-256 (hex) of each tensor's bytes, complete after close. */
  public Map<String, String> tensorSha256() {
    return sha;
  }

  public long fileSize() {
    return fileSize;
  }

  /** Closes the file; if not every tensor byte was written, deletes it and throws. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    boolean complete = current == specs.size();
    try {
      out.close();
    } finally {
      if (!complete && fs != null) {
        fs.delete(path, false);
      }
    }
    if (!complete) {
      throw new IllegalStateException(path + ": closed after " + current + " of " + specs.size()
          + " tensors were written; the partial file was deleted");
    }
  }
}
