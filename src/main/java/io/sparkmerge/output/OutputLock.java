package io.sparkmerge.output;

import io.sparkmerge.OutputExistsException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Properties;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer per OUT: {@code OUT/_sparkmerge.lock}, created atomically (O_EXCL on a local disk, the
 * NameNode's create-if-absent on HDFS) before a run touches OUT, and removed after commit or abort.
 * The owner refreshes the lock's modification time while it runs; a lock is stale when its owner is a
 * dead process on this host, or when it has not been refreshed for {@code timeoutMs} (a driver killed
 * on another host). A stale lock is taken over by renaming it away first, so two runs cannot both take it.
 */
public final class OutputLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OutputLock.class);
  static final String NAME = "_sparkmerge.lock";
  /** Spark conf key: seconds without a heartbeat after which another host's lock is stale. */
  static final String TIMEOUT_KEY = "spark.sparkmerge.lockTimeoutSeconds";
  static final long DEFAULT_TIMEOUT_MS = 120_000;

  private final FileSystem fs;
  private final Path path;
  private final String runId;
  private final long timeoutMs;
  private Thread heartbeat;

  OutputLock(FileSystem fs, Path out, String runId, long timeoutMs) {
    this.fs = fs;
    this.path = new Path(out, NAME);
    this.runId = runId;
    this.timeoutMs = timeoutMs;
  }

  /** Takes the lock or fails with exit code 4 naming the run that holds it. */
  void acquire() throws IOException {
    if (tryCreate()) {
      startHeartbeat();
      return;
    }
    Properties owner = owner();
    String stale = staleness(owner);
    if (stale != null) {
      Path aside = new Path(path.getParent(), NAME + ".stale-" + runId);
      if (fs.rename(path, aside)) {
        LOG.warn("taking over the lock of run {} on {}: {}", owner.getProperty("runId"), path.getParent(), stale);
        fs.delete(aside, false);
        if (tryCreate()) {
          startHeartbeat();
          return;
        }
        owner = owner();
      }
    }
    throw new OutputExistsException(path.getParent() + " is being written by another sparkmerge run (run "
        + owner.getProperty("runId", "?") + ", pid " + owner.getProperty("pid", "?") + " on " + owner.getProperty("host", "?")
        + "); wait for it to finish, or delete " + path + " if that run is dead");
  }

  /** Null when the lock's owner is alive, else why it is stale. */
  private String staleness(Properties owner) throws IOException {
    String host = owner.getProperty("host");
    String pid = owner.getProperty("pid");
    if (host != null && pid != null && host.equals(hostName()) && pid.matches("\\d+")
        && ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true)) {
      return "its driver (pid " + pid + ") is no longer running";
    }
    long age;
    try {
      age = System.currentTimeMillis() - fs.getFileStatus(path).getModificationTime();
    } catch (FileNotFoundException e) {
      return "it was released";
    }
    return age > timeoutMs ? "no heartbeat for " + age / 1000 + " s" : null;
  }

  private boolean tryCreate() throws IOException {
    byte[] content = ("runId=" + runId + "\nhost=" + hostName() + "\npid=" + ProcessHandle.current().pid() + "\n")
        .getBytes(StandardCharsets.UTF_8);
    if ("file".equals(fs.getUri().getScheme())) {
      // Hadoop's local create(overwrite=false) checks and then opens: not atomic. O_EXCL is.
      java.nio.file.Path p = Paths.get(fs.makeQualified(path).toUri());
      try {
        Files.write(p, content, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
        return true;
      } catch (FileAlreadyExistsException e) {
        return false;
      }
    }
    try (OutputStream os = fs.create(path, false)) {
      os.write(content);
      return true;
    } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      if (fs.exists(path)) {
        return false; // HDFS reports a lost create race as a RemoteException wrapping FileAlreadyExists
      }
      throw e;
    }
  }

  private Properties owner() throws IOException {
    Properties p = new Properties();
    try (InputStream in = fs.open(path)) {
      p.load(in);
    } catch (FileNotFoundException e) {
      // released in the meantime: no owner
    }
    return p;
  }

  private void startHeartbeat() {
    long period = Math.max(200, timeoutMs / 4);
    heartbeat = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        try {
          Thread.sleep(period);
          fs.setTimes(path, System.currentTimeMillis(), -1);
        } catch (InterruptedException e) {
          return;
        } catch (IOException e) {
          LOG.warn("could not refresh {}: {}", path, e.toString());
        }
      }
    }, "sparkmerge-lock-heartbeat");
    heartbeat.setDaemon(true);
    heartbeat.start();
  }

  /** Stops refreshing the lock without removing it (the caller deletes OUT with it); false if not held. */
  boolean stopHeartbeat() {
    if (heartbeat == null) {
      return false;
    }
    heartbeat.interrupt();
    try {
      heartbeat.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    heartbeat = null;
    return true;
  }

  /** Releases the lock (idempotent). */
  @Override
  public void close() {
    if (!stopHeartbeat()) {
      return;
    }
    try {
      fs.delete(path, false);
    } catch (IOException e) {
      LOG.error("could not remove the lock {}: {}; delete it by hand", path, e.toString());
    }
  }

  static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return ManagementFactory.getRuntimeMXBean().getName();
    }
  }
}
