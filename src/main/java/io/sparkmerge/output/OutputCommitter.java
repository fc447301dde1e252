package io.sparkmerge.output;

import io.sparkmerge.OutputExistsException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit protocol of DESIGN.md §4. Work happens in {@code OUT/_staging-<runId>/}; only after
 * every shard is in place does the driver move the files into OUT and write {@code _SUCCESS} last.
 * A failed run deletes its staging directory and leaves OUT as it was (an OUT it created is removed
 * again); with --overwrite the old contents are replaced only at commit time.
 */
public final class OutputCommitter {
  private static final Logger LOG = LoggerFactory.getLogger(OutputCommitter.class);
  public static final String STAGING_PREFIX = "_staging-";
  public static final String SUCCESS = "_SUCCESS";

  private final FileSystem fs;
  private final Path out;
  private final Path staging;
  private final boolean overwrite;
  private final OutputLock lock;
  private boolean createdOut;

  public OutputCommitter(FileSystem fs, Path out, String runId, boolean overwrite) {
    this(fs, out, runId, overwrite, OutputLock.DEFAULT_TIMEOUT_MS);
  }

  /** @param lockTimeoutMs how long another host's lock may go without a heartbeat before it counts as stale */
  public OutputCommitter(FileSystem fs, Path out, String runId, boolean overwrite, long lockTimeoutMs) {
    this.fs = fs;
    this.out = fs.makeQualified(out);
    this.staging = new Path(this.out, STAGING_PREFIX + runId);
    this.overwrite = overwrite;
    this.lock = new OutputLock(fs, this.out, runId, lockTimeoutMs);
  }

  /** The lock timeout a Spark session asks for ({@code spark.sparkmerge.lockTimeoutSeconds}, default 120 s). */
  public static long lockTimeoutMs(org.apache.spark.sql.RuntimeConfig conf) {
    return (long) (Double.parseDouble(conf.get(OutputLock.TIMEOUT_KEY, String.valueOf(OutputLock.DEFAULT_TIMEOUT_MS / 1000))) * 1000);
  }

  public Path staging() {
    return staging;
  }

  public Path out() {
    return out;
  }

  /**
   * Fails with exit code 4 when OUT holds anything but stale staging directories and --overwrite
   * was not given. Called before any work so a mistaken path costs nothing.
   */
  public void checkOutput() throws IOException {
    if (!fs.exists(out)) {
      return;
    }
    if (!fs.getFileStatus(out).isDirectory()) {
      throw new OutputExistsException(out + " exists and is a file; choose another output path");
    }
    if (!overwrite && !userEntries().isEmpty()) {
      throw new OutputExistsException(out + " exists and is not empty; pass --overwrite to replace it, or choose another output path");
    }
  }

  /**
   * Creates OUT (if needed), takes OUT's lock (a concurrent run into the same OUT fails with exit code
   * 4), removes stale staging left by killed runs and creates this run's staging directory.
   */
  public void setUp() throws IOException {
    checkOutput();
    boolean existed = fs.exists(out);
    fs.mkdirs(out);
    lock.acquire();
    try {
      checkOutput(); // a run that held the lock may have committed between our first check and now
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
    createdOut = !existed;
    // Holding the lock, every staging directory in OUT belongs to a run that is dead.
    for (FileStatus st : fs.listStatus(out)) {
      if (st.getPath().getName().startsWith(STAGING_PREFIX) && !st.getPath().equals(staging)) {
        LOG.warn("removing stale staging directory {} left by an earlier run that did not finish", st.getPath());
        fs.delete(st.getPath(), true);
      }
    }
    fs.mkdirs(staging);
  }

  /** Moves a finished attempt file to its final name inside staging. */
  public void promote(String attemptFile, String finalName) throws IOException {
    Path src = new Path(attemptFile);
    Path dst = new Path(staging, finalName);
    if (!fs.rename(src, dst)) {
      throw new IOException("cannot move " + src + " to " + dst);
    }
  }

  /** Writes a small file inside staging. */
  public void writeStaged(String name, String content) throws IOException {
    try (OutputStream os = fs.create(new Path(staging, name), true)) {
      os.write(content.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Copies a file into staging. */
  public void copyIntoStaging(FileSystem srcFs, Path src, String name) throws IOException {
    org.apache.hadoop.fs.FileUtil.copy(srcFs, src, fs, new Path(staging, name), false, fs.getConf());
  }

  /** Replaces OUT's contents by the staged files, then writes _SUCCESS; the attempt files left in staging are dropped. */
  public void commit(List<String> stagedNames) throws IOException {
    if (overwrite) {
      Path success = new Path(out, SUCCESS);
      if (fs.exists(success)) {
        fs.delete(success, false);
      }
      for (Path p : userEntries()) {
        fs.delete(p, true);
      }
    }
    for (String name : stagedNames) {
      Path dst = new Path(out, name);
      if (!fs.rename(new Path(staging, name), dst)) {
        throw new IOException("cannot move " + new Path(staging, name) + " to " + dst);
      }
    }
    fs.delete(staging, true);
    fs.create(new Path(out, SUCCESS), true).close();
    lock.close();
  }

  /** Undoes a failed run: staging goes, and an OUT this run created goes too. */
  public void abort() {
    try {
      if (createdOut && lock.stopHeartbeat()) {
        fs.delete(out, true); // our lock goes with it, so no other run can have started inside
      } else {
        if (fs.exists(staging)) {
          fs.delete(staging, true);
        }
        lock.close();
      }
    } catch (IOException e) {
      LOG.error("could not remove the staging directory {}: {}; delete it by hand", staging, e.toString());
    }
  }

  /** Ends a failed run that may be resumed: its staging directory stays, the lock goes. */
  public void abortKeepingStaging() {
    lock.close();
  }

  private List<Path> userEntries() throws IOException {
    List<Path> l = new ArrayList<>();
    for (FileStatus st : fs.listStatus(out)) {
      String n = st.getPath().getName();
      if (!n.startsWith(STAGING_PREFIX) && !n.startsWith(OutputLock.NAME)) {
        l.add(st.getPath());
      }
    }
    return l;
  }
}
