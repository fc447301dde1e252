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
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Properties;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer per output: a compare-and-swap on lock generations. The lock of an output is the highest
 * generation file {@code lock-<g>} in its work directory; it is free when {@code lock-<g>.released}
 * exists, or stale when its owner is a dead process on this host or has not refreshed the file for
 * {@code timeoutMs} (a driver killed on another host). A run takes the lock by creating
 * {@code lock-<g+1>} atomically (O_EXCL on a local disk, the NameNode's create-if-absent on HDFS): of
 * runs that saw the same generation, exactly one can create the next, so two runs never both take over
 * a dead lock. After the create it checks that no higher generation exists. Generations only grow (a
 * released lock keeps its file), so a slow run with an old view cannot create a generation that is in use.
 * The owner refreshes its file while it runs and watches for a higher generation: a run whose lock was
 * taken over (it was silent for the timeout) has lost it, stops its work and never publishes.
 */
public final class OutputLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OutputLock.class);
  static final String PREFIX = "lock-";
  static final String RELEASED = ".released";
  /** Spark conf key: seconds without a heartbeat after which another host's lock is stale. */
  public static final String TIMEOUT_KEY = "spark.sparkmerge.lockTimeoutSeconds";
  public static final long DEFAULT_TIMEOUT_MS = 120_000;

  private final FileSystem fs;
  private final Path dir;
  private final String target;
  private final String runId;
  private final long timeoutMs;
  private long generation;
  private Thread heartbeat;
  private volatile String lost;
  private volatile boolean rewrite; // set once setTimes is seen to do nothing (S3A)
  private volatile Runnable onLost = () -> {};

  /** @param target the output the lock guards (for messages) */
  OutputLock(FileSystem fs, Path workDir, String target, String runId, long timeoutMs) {
    this.fs = fs;
    this.dir = workDir;
    this.target = target;
    this.runId = runId;
    this.timeoutMs = timeoutMs;
  }

  /** Takes the lock or fails with exit code 4 naming the run that holds it; {@code onLost} runs if it is taken over later. */
  void acquire(Runnable onLost) throws IOException {
    this.onLost = onLost;
    fs.mkdirs(dir);
    for (int tries = 0; tries < 3; tries++) {
      long g = highest();
      if (g > 0 && !fs.exists(file(g, true))) {
        Properties owner = owner(g);
        String stale = staleness(owner, g);
        if (stale == null) {
          throw held(owner);
        }
        LOG.warn("taking over the lock of run {} on {}: {}", owner.getProperty("runId", "?"), target, stale);
      }
      if (!tryCreate(file(g + 1, false))) {
        continue; // another run took generation g + 1 first: look again
      }
      if (highest() != g + 1) {
        throw held(owner(highest()));
      }
      generation = g + 1;
      for (FileStatus st : fs.listStatus(dir)) {
        long other = generationOf(st.getPath().getName());
        if (other > 0 && other < generation) {
          fs.delete(st.getPath(), false);
        }
      }
      startHeartbeat();
      return;
    }
    throw held(owner(highest()));
  }

  /** Fails (exit 4) when another run has taken the lock over; called before every irreversible step. */
  void checkHeld() throws IOException {
    if (lost == null && (highest() != generation || !fs.exists(file(generation, false)))) {
      lost = "its lock " + file(generation, false) + " was taken over or removed";
    }
    if (lost != null) {
      throw new OutputExistsException("run " + runId + " stopped: " + lost + " (another run now writes " + target
          + "); nothing of this run was published");
    }
  }

  private OutputExistsException held(Properties owner) {
    return new OutputExistsException(target + " is being written by another sparkmerge run (run "
        + owner.getProperty("runId", "?") + ", pid " + owner.getProperty("pid", "?") + " on " + owner.getProperty("host", "?")
        + "); wait for it to finish, or run 'sparkmerge recover " + target + "' if that run is dead");
  }

  /** Null when the owner of generation g is alive, else why its lock is stale. */
  private String staleness(Properties owner, long g) throws IOException {
    String host = owner.getProperty("host");
    String pid = owner.getProperty("pid");
    if (host != null && pid != null && host.equals(hostName()) && pid.matches("\\d+")
        && ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true)) {
      return "its driver (pid " + pid + ") is no longer running";
    }
    long age;
    try {
      age = System.currentTimeMillis() - fs.getFileStatus(file(g, false)).getModificationTime();
    } catch (FileNotFoundException e) {
      return "it was removed";
    }
    return age > timeoutMs ? "no heartbeat for " + age / 1000 + " s" : null;
  }

  /** The highest lock generation in the work directory, 0 when there is none. */
  private long highest() throws IOException {
    long max = 0;
    if (!fs.exists(dir)) {
      return 0;
    }
    for (FileStatus st : fs.listStatus(dir)) {
      max = Math.max(max, generationOf(st.getPath().getName()));
    }
    return max;
  }

  /** The generation a lock file (or its released marker) stands for, 0 for other names. */
  static long generationOf(String name) {
    if (!name.startsWith(PREFIX)) {
      return 0;
    }
    String g = name.substring(PREFIX.length());
    g = g.endsWith(RELEASED) ? g.substring(0, g.length() - RELEASED.length()) : g;
    return g.matches("\\d{1,18}") ? Long.parseLong(g) : 0;
  }

  private Path file(long g, boolean released) {
    return new Path(dir, String.format(Locale.ROOT, "%s%010d%s", PREFIX, g, released ? RELEASED : ""));
  }

  private byte[] content() {
    return ("runId=" + runId + "\nhost=" + hostName() + "\npid=" + ProcessHandle.current().pid() + "\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  private boolean tryCreate(Path path) throws IOException {
    byte[] content = content();
    if ("file".equals(fs.getUri().getScheme())) {
      // Hadoop's local create(overwrite=false) checks and then opens: not atomic. O_EXCL is.
      try {
        Files.write(Paths.get(fs.makeQualified(path).toUri()), content, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
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

  private Properties owner(long g) throws IOException {
    Properties p = new Properties();
    try (InputStream in = fs.open(file(g, false))) {
      p.load(in);
    } catch (FileNotFoundException e) {
      // released and cleaned up in the meantime: no owner
    }
    return p;
  }

  private void startHeartbeat() {
    long period = Math.max(200, timeoutMs / 4);
    Path mine = file(generation, false);
    heartbeat = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted() && lost == null) {
        try {
          Thread.sleep(period);
          refresh(mine);
          if (highest() != generation) {
            lost = "a later run took its lock over (it was silent for longer than " + timeoutMs / 1000 + " s)";
          }
        } catch (InterruptedException e) {
          return;
        } catch (FileNotFoundException e) {
          lost = "its lock " + mine + " was removed";
        } catch (IOException e) {
          LOG.warn("could not refresh {}: {}", mine, e.toString());
        }
        if (lost != null) {
          LOG.error("run {} lost the lock of {}: {}; stopping its work", runId, target, lost);
          onLost.run();
        }
      }
    }, "sparkmerge-lock-heartbeat");
    heartbeat.setDaemon(true);
    heartbeat.start();
  }

  /**
   * Moves the lock's modification time to now. Object stores (S3A) accept setTimes and ignore it (an
   * object's time is its upload time), which would let another host take a live run's lock after the
   * timeout: there, once the time is seen not to move, the file is written again instead. A removed
   * file is not written again (FileNotFoundException: the lock was taken over or removed).
   */
  private void refresh(Path mine) throws IOException {
    long now = System.currentTimeMillis();
    if (!rewrite) {
      fs.setTimes(mine, now, -1);
      rewrite = fs.getFileStatus(mine).getModificationTime() < now - 1000;
    }
    if (rewrite) {
      fs.getFileStatus(mine);
      try (OutputStream os = fs.create(mine, true)) {
        os.write(content());
      }
    }
  }

  /** Releases the lock (idempotent): marks this generation released, unless another run has taken it over. */
  @Override
  public void close() {
    if (heartbeat == null) {
      return;
    }
    heartbeat.interrupt();
    try {
      heartbeat.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    heartbeat = null;
    try {
      if (lost == null && highest() == generation) {
        fs.create(file(generation, true), true).close();
      }
    } catch (IOException e) {
      LOG.error("could not release the lock {}: {}; run 'sparkmerge recover {}'", file(generation, false), e.toString(), target);
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
