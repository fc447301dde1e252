package io.sparkmerge.output;

import io.sparkmerge.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An output's work directory, the hidden sibling {@code .<name>.sparkmerge/}: lock generations
 * ({@link OutputLock}), the journal of a publish ({@link SwapPublisher}), {@code run-<id>/} per run
 * ({@code scratch/} and {@code new/}) and {@code old-<id>/}, the old output while the new one moves in. A run's
 * scratch also records the multipart uploads its tasks started ({@link MultipartCommit}): removing a dead
 * run aborts them.
 */
final class WorkDir {
  private static final Logger LOG = LoggerFactory.getLogger(WorkDir.class);
  static final String SUFFIX = ".sparkmerge";
  static final String RUN_PREFIX = "run-";
  static final String ASIDE_PREFIX = "old-";
  static final String SCRATCH = "scratch";
  static final String NEW = "new";

  private final FileSystem fs;
  private final Path dir;

  /** The work directory of the output {@code parent/name}. */
  WorkDir(FileSystem fs, Path parent, String name) {
    this.fs = fs;
    this.dir = new Path(parent, "." + name + SUFFIX);
  }

  Path path() {
    return dir;
  }

  Path run(String runId) {
    return new Path(dir, RUN_PREFIX + runId);
  }

  Path aside(String runId) {
    return new Path(dir, ASIDE_PREFIX + runId);
  }

  /** A location that cannot be written is a usage error (exit 2) found before any work, not a failure of every task. */
  void ensureWritable(Path parent, Path out) throws IOException {
    try {
      if (fs.mkdirs(dir) && fs.getFileStatus(dir).isDirectory()) {
        Path probe = new Path(dir, ".probe-" + UUID.randomUUID());
        fs.create(probe, false).close();
        fs.delete(probe, false);
        return;
      }
    } catch (org.apache.hadoop.security.AccessControlException | java.nio.file.AccessDeniedException e) {
      // reported below
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage());
      if (!m.contains("ermission denied") && !m.contains("Read-only")) {
        throw e;
      }
    }
    throw new ConfigException("cannot write to " + parent + " (permission denied or read-only): the output " + out
        + " and its work directory " + dir.getName() + " go there; choose a writable output path");
  }

  /** The id of a run kept here whose scratch holds {@code fileName} with this content, or null. */
  String findRun(String fileName, String content) throws IOException {
    for (FileStatus st : fs.listStatus(dir)) {
      String n = st.getPath().getName();
      Path f = new Path(new Path(st.getPath(), SCRATCH), fileName);
      if (st.isDirectory() && n.startsWith(RUN_PREFIX) && fs.exists(f)) {
        try (InputStream in = fs.open(f)) {
          if (new String(in.readAllBytes(), StandardCharsets.UTF_8).strip().equals(content)) {
            return n.substring(RUN_PREFIX.length());
          }
        }
      }
    }
    return null;
  }

  /** Removes every run and old-output directory but {@code keep}'s: called holding the lock, so their runs are dead. */
  void removeDeadRuns(Path keep) throws IOException {
    for (FileStatus st : fs.listStatus(dir)) {
      String n = st.getPath().getName();
      if ((n.startsWith(RUN_PREFIX) || n.startsWith(ASIDE_PREFIX)) && !st.getPath().equals(keep)) {
        LOG.warn("removing {} left by an earlier run that did not finish", st.getPath());
        if (n.startsWith(RUN_PREFIX)) {
          MultipartCommit.abortRecorded(fs, new Path(st.getPath(), SCRATCH), java.util.Set.of(), false);
        }
        fs.delete(st.getPath(), true);
      }
    }
  }

  /** Aborts every pending upload the kept runs recorded (dropping the results --resume would reuse them by); how many. */
  int abortPendingUploads() throws IOException {
    int n = 0;
    for (FileStatus st : fs.listStatus(dir)) {
      if (st.isDirectory() && st.getPath().getName().startsWith(RUN_PREFIX)) {
        n += MultipartCommit.abortRecorded(fs, new Path(st.getPath(), SCRATCH), java.util.Set.of(), true);
      }
    }
    return n;
  }

  /** How many runs are kept here (for --resume). */
  int keptRuns() throws IOException {
    int runs = 0;
    for (FileStatus st : fs.listStatus(dir)) {
      runs += st.getPath().getName().startsWith(RUN_PREFIX) ? 1 : 0;
    }
    return runs;
  }
}
