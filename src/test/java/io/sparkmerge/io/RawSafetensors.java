package io.sparkmerge.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes hand-made safetensors files (a raw header and data bytes) for the malformed-input corpus. */
public final class RawSafetensors {
  private RawSafetensors() {}

  public static Path write(Path file, String headerJson, int dataBytes) throws IOException {
    return write(file, headerJson.getBytes(StandardCharsets.UTF_8), dataBytes);
  }

  public static Path write(Path file, byte[] header, int dataBytes) throws IOException {
    return writeWithLength(file, header.length, header, dataBytes);
  }

  /** A file with the given header and these data bytes (real tensor values). */
  public static Path write(Path file, String headerJson, byte[] data) throws IOException {
    byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
    Path p = writeWithLength(file, header.length, header, data.length);
    byte[] all = Files.readAllBytes(p);
    System.arraycopy(data, 0, all, 8 + header.length, data.length);
    Files.write(p, all);
    return p;
  }

  /** A file whose 8-byte length field says {@code declaredLength} whatever the header's real size. */
  public static Path writeWithLength(Path file, long declaredLength, byte[] header, int dataBytes) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declaredLength);
    b.put(header);
    Files.createDirectories(file.getParent());
    Files.write(file, b.array());
    return file;
  }
}
