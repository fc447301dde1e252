package io.sparkmerge.io;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.MultipartUploader;
import org.apache.hadoop.fs.Path;

/**
 * A stream into a multipart upload to a file's final key, left uncompleted ({@link #pending()} for the
 * driver to complete). The upload's record is written to {@code record} before the first part, so a run
 * that dies mid-write knows the upload to abort. Bytes are buffered in memory one part at a time
 * ({@code fs.s3a.multipart.size}, default 64 MiB, at least 5 MiB as S3 requires of every part but the
 * last; a file smaller than that is one part) and each full part is put synchronously.
 */
public final class MultipartOutput extends OutputStream {
  /** S3's smallest part (but the last). */
  static final long MIN_PART = 5L << 20;

  private final FileSystem fs;
  private final Path target;
  private final MultipartUploader uploader;
  private final byte[] handle;
  private final TreeMap<Integer, byte[]> parts = new TreeMap<>();
  private final byte[] buf;
  private int filled;
  private long written;
  private boolean finished;

  private MultipartOutput(FileSystem fs, Path target, MultipartUploader uploader, byte[] handle, int bufBytes) {
    this.fs = fs;
    this.target = target;
    this.uploader = uploader;
    this.handle = handle;
    this.buf = new byte[bufBytes];
  }

  /** Starts the upload of a file of {@code size} bytes to {@code target}, recording it in {@code record} first thing. */
  public static MultipartOutput start(FileSystem fs, Path target, Path record, long size, Configuration conf) throws IOException {
    long part = Math.max(MIN_PART, conf.getLongBytes("fs.s3a.multipart.size", 64L << 20));
    MultipartUploader up = PendingUpload.uploader(fs, target);
    try {
      byte[] h = PendingUpload.await(up.startUpload(target)).toByteArray();
      new PendingUpload(target.toString(), h, new TreeMap<>(), size).writeTo(fs, record);
      return new MultipartOutput(fs, target, up, h, (int) Math.min(Math.min(part, Integer.MAX_VALUE - 8), Math.max(1, size)));
    } catch (IOException | RuntimeException e) {
      up.close();
      throw e;
    }
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    while (len > 0) {
      int n = Math.min(len, buf.length - filled);
      System.arraycopy(b, off, buf, filled, n);
      filled += n;
      off += n;
      len -= n;
      if (filled == buf.length) {
        putPart();
      }
    }
  }

  private void putPart() throws IOException {
    int number = parts.size() + 1;
    byte[] h = PendingUpload.await(uploader.putPart(() -> java.nio.ByteBuffer.wrap(handle), number, target,
        new ByteArrayInputStream(buf, 0, filled), filled)).toByteArray();
    parts.put(number, h);
    written += filled;
    filled = 0;
  }

  /** Puts the last part; the upload stays pending. */
  @Override
  public void close() throws IOException {
    if (finished) {
      return;
    }
    finished = true;
    try {
      if (filled > 0 || parts.isEmpty()) {
        putPart();
      }
    } finally {
      uploader.close();
    }
  }

  /** The upload with all its parts (after {@link #close}). */
  public PendingUpload pending() {
    if (!finished) {
      throw new IllegalStateException(target + ": the upload is still being written");
    }
    return new PendingUpload(target.toString(), handle, parts, written);
  }

  /** Aborts the upload (a failed task); best effort, the run's cleanup aborts it from the record otherwise. */
  public void abort() {
    try {
      new PendingUpload(target.toString(), handle, parts, written).abort(fs);
    } catch (IOException | RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(MultipartOutput.class).warn("could not abort the upload of {}: {}", target, e.toString());
    }
  }
}
