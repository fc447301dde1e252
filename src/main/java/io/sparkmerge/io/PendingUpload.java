package io.sparkmerge.io;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.MultipartUploader;
import org.apache.hadoop.fs.PartHandle;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.UploadHandle;

/**
 * A multipart upload to an output file's final key that is not completed (Hadoop's
 * {@link MultipartUploader}; on S3 nothing is visible at the key until the driver completes it).
 * Serialisable: a task sends it to the driver in its result, and records it in the run's scratch as soon
 * as the upload starts (with no parts yet) so that a failed or killed run's uploads can be aborted.
 *
 * @param target the final key
 * @param handle the upload's id (the uploader's bytes)
 * @param parts part number to part handle bytes; empty in the record written when the upload starts
 * @param bytes the object's size once completed
 */
public record PendingUpload(String target, byte[] handle, TreeMap<Integer, byte[]> parts, long bytes) implements Serializable {
  /** Suffix of an upload's record in scratch, next to its attempt's name. */
  public static final String RECORD_SUFFIX = ".upload";

  /**
   * Completes the upload. A failure when the object is there with the upload's size is taken for an upload
   * completed already (a commit killed right after completing it, before it could record so: the only case
   * the commit's own records do not settle, see MultipartCommit).
   */
  public void complete(FileSystem fs) throws IOException {
    Path t = new Path(target);
    Map<Integer, PartHandle> m = new TreeMap<>();
    parts.forEach((n, b) -> m.put(n, () -> ByteBuffer.wrap(b)));
    try (MultipartUploader up = uploader(fs, t)) {
      await(up.complete(uploadHandle(), t, m));
    } catch (IOException e) {
      if (!fs.exists(t) || fs.getFileStatus(t).getLen() != bytes) {
        throw new IOException("cannot complete the pending upload of " + target + " (" + e.getMessage() + "); if it was aborted "
            + "or expired by a bucket lifecycle rule, run the merge again without --resume", e);
      }
    }
  }

  /** Aborts the upload; false if there was none to abort (completed or aborted already). */
  public boolean abort(FileSystem fs) throws IOException {
    Path t = new Path(target);
    try (MultipartUploader up = uploader(fs, t)) {
      await(up.abort(uploadHandle(), t));
      return true;
    } catch (FileNotFoundException e) {
      return false;
    }
  }

  private UploadHandle uploadHandle() {
    return () -> ByteBuffer.wrap(handle);
  }

  static MultipartUploader uploader(FileSystem fs, Path target) throws IOException {
    return fs.createMultipartUploader(target.getParent()).build();
  }

  /** The future's value; its failure's cause rethrown as an IOException. */
  static <T> T await(CompletableFuture<T> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for a multipart upload request");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException io) {
        throw io;
      }
      throw new IOException(c);
    }
  }

  /** Writes this upload's record (Java serialisation) to {@code file}. */
  public void writeTo(FileSystem fs, Path file) throws IOException {
    try (OutputStream os = fs.create(file, true); ObjectOutputStream oos = new ObjectOutputStream(os)) {
      oos.writeObject(this);
    }
  }

  /** An upload's record, or null if it cannot be read. */
  public static PendingUpload readFrom(FileSystem fs, Path file) throws IOException {
    try (ObjectInputStream in = new ObjectInputStream(fs.open(file))) {
      return (PendingUpload) in.readObject();
    } catch (ClassNotFoundException | ClassCastException | java.io.StreamCorruptedException | java.io.EOFException e) {
      return null;
    }
  }
}
