package io.sparkmerge.io;

import io.sparkmerge.InputDataException;
import java.io.EOFException;
import java.io.IOException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Positioned reads of exactly the bytes a task needs from one file ({@code readFully(position, …)}:
 * no seek state, safe on HDFS and S3A, never a whole-file read).
 */
public final class TensorReader implements AutoCloseable {
  private final Path file;
  private final FSDataInputStream in;

  public TensorReader(FileSystem fs, Path file) throws IOException {
    this.file = file;
    this.in = fs.open(file);
  }

  public void readFully(long position, byte[] buf, int off, int len) throws IOException {
    try {
      in.readFully(position, buf, off, len);
    } catch (EOFException e) {
      throw new InputDataException(file + ": truncated: cannot read " + len + " bytes at offset " + position
          + "; the file is shorter than its header says (incomplete copy?)", e);
    }
  }

  /** SHA-256 (lower-case hex) of {@code length} bytes at {@code position}, streamed through {@code buf}. */
  public String sha256(long position, long length, byte[] buf) throws IOException {
    java.security.MessageDigest md;
    try {
      md = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    for (long pos = 0; pos < length; ) {
      int n = (int) Math.min(buf.length, length - pos);
      readFully(position + pos, buf, 0, n);
      md.update(buf, 0, n);
      pos += n;
    }
    return java.util.HexFormat.of().formatHex(md.digest());
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  @Override
  public String toString() {
    return "TensorReader(" + file + ")";
  }
}
