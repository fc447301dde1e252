package io.sparkmerge.output;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
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
 */
public record Staging(FileSystem fs, Path scratch, Path dir, String adoptedRun) {
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
