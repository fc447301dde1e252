package io.sparkmerge.output;

import io.sparkmerge.io.PendingUpload;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;

/**
 * A run's private space in the output's work directory: {@link #scratch()} for task attempts and their
 * records (never published), and {@link #dir()}, the new output being assembled: exactly what is in it
 * when the job's work returns is published. Made by {@link OutputLifecycle}.
 *
 * @param fs the file system of the output
 * @param scratch where tasks write their attempts; dropped after the publish
 * @param dir the new output (a directory output's contents; a file output's entries by name)
 * @param adoptedRun the earlier run whose scratch this run adopted ({@code --resume}), or null
 * @param uploadDir the output, when tasks upload to its final keys (see {@link #uploadDirOrNull}), else null
 * @param uploads the pending uploads promoted into the new output
 */
public record Staging(FileSystem fs, Path scratch, Path dir, String adoptedRun, Path uploadDir, List<PendingUpload> uploads) {
  public Staging(FileSystem fs, Path scratch, Path dir, String adoptedRun) {
    this(fs, scratch, dir, adoptedRun, null, new ArrayList<>());
  }

  /**
   * Where tasks upload the output's large files straight to their final keys as pending multipart uploads
   * ({@link MultipartCommit}; object stores), or null: tasks write attempt files to scratch.
   */
  public String uploadDirOrNull() {
    return uploadDir == null ? null : uploadDir.toString();
  }

  /** Adds a task's pending upload of {@code finalName} to the output: the publish completes it. */
  public void promote(PendingUpload upload, String finalName) throws IOException {
    if (uploadDir == null || !new Path(upload.target()).equals(new Path(uploadDir, finalName))) {
      throw new IOException("the upload to " + upload.target() + " is not " + finalName + " of this run's output " + uploadDir);
    }
    uploads.add(upload);
  }

  /** Moves a finished attempt file (in scratch) to its name in the new output. */
  public void promote(String attemptFile, String finalName) throws IOException {
    Path src = new Path(attemptFile);
    Path dst = new Path(dir, finalName);
    fs.mkdirs(dst.getParent());
    if (!fs.rename(src, dst)) {
      throw new IOException("cannot move " + src + " to " + dst);
    }
  }

  /** Writes a small file into the new output. */
  public void writeStaged(String name, String content) throws IOException {
    write(new Path(dir, name), content);
  }

  /** Writes a small file into scratch (not published). */
  public void writeScratch(String name, String content) throws IOException {
    write(new Path(scratch, name), content);
  }

  private void write(Path p, String content) throws IOException {
    try (OutputStream os = fs.create(p, true)) {
      os.write(content.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Copies a file into the new output. */
  public void copyIntoStaging(FileSystem srcFs, Path src, String name) throws IOException {
    FileUtil.copy(srcFs, src, fs, new Path(dir, name), false, fs.getConf());
  }
}
