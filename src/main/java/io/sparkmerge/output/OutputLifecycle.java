package io.sparkmerge.output;

import io.sparkmerge.OutputExistsException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one output lifecycle of every job that writes (DESIGN.md §5): <b>check</b> (the overlap rule, and
 * an existing output needs --overwrite; before any input is read) → <b>lock</b> (compare-and-swap on
 * lock generations, {@link OutputLock}; then finish a publish a killed run left, {@link Publisher#recover})
 * → <b>stage</b> (a private run directory in the output's work directory) → <b>work</b> (the job; its
 * tasks are cancelled and awaited before anything is removed) → <b>publish</b> ({@code _SUCCESS} last in
 * the new output, then {@link Publisher}: the whole new output replaces the old one) → <b>release</b>.
 *
 * <p>The work directory is a hidden sibling of the output, {@code .<name>.sparkmerge/}: the lock
 * generations, the journal of a publish, and {@code run-<id>/} (scratch files and {@code new/}, the
 * new output). A directory output is published whole; a file output (scopes' JSON and Parquet) entry
 * by entry. Nothing is ever written inside the old output.
 */
public final class OutputLifecycle {
  private static final Logger LOG = LoggerFactory.getLogger(OutputLifecycle.class);
  public static final String SUCCESS = "_SUCCESS";

  /** How long another host's lock may go without a heartbeat before it is stale, and the test hook of the publish. */
  public record Settings(long lockTimeoutMs, CommitStep.Hook hook) {
    public static final Settings DEFAULT = new Settings(OutputLock.DEFAULT_TIMEOUT_MS, CommitStep.Hook.NONE);

    /** From a Spark session's conf: {@code spark.sparkmerge.lockTimeoutSeconds} (default 120) and the test hook. */
    public static Settings of(org.apache.spark.sql.RuntimeConfig conf) {
      double seconds = Double.parseDouble(conf.get(OutputLock.TIMEOUT_KEY, String.valueOf(OutputLock.DEFAULT_TIMEOUT_MS / 1000)));
      return new Settings((long) (seconds * 1000), CommitStep.haltAt(conf.get(CommitStep.HALT_KEY, "")));
    }
  }

  /** The job's work on a staged output: everything it leaves in {@link Staging#dir()} is published. */
  public interface Work<T> {
    T run(Staging staging) throws IOException;
  }

  private final FileSystem fs;
  private final Configuration conf;
  private final Path parent;
  private final List<String> names;
  private final boolean directory;
  private final WorkDir dirs;
  private final Path workDir;
  private final Settings settings;
  private boolean overwrite;
  private OutputLock lock;
  private Path runDir;
  private Staging staging;
  private boolean publishing;
  private boolean published;

  private OutputLifecycle(Configuration conf, Path parent, List<String> names, boolean directory, Settings settings)
      throws IOException {
    this.conf = conf;
    this.fs = parent.getFileSystem(conf);
    this.parent = fs.makeQualified(parent);
    this.names = List.copyOf(names);
    this.directory = directory;
    this.dirs = new WorkDir(fs, this.parent, names.get(0));
    this.workDir = dirs.path();
    this.settings = settings;
  }

  /**
   * The check of a directory output: fails with exit 2 when OUT overlaps an input (or is empty or a
   * root), with exit 4 when it is a file, or holds anything and --overwrite was not given. Touches nothing.
   */
  public static OutputLifecycle directory(Configuration conf, String out, boolean overwrite, List<OverlapRule.Input> inputs,
      Settings settings) throws IOException {
    OverlapRule.check(conf, List.of(OutputPath.parse(out)), inputs);
    OutputLifecycle l = ofDirectory(conf, out, settings);
    l.checkExisting(overwrite);
    return l;
  }

  /** The lifecycle of the directory output {@code out}, qualified; checks nothing. */
  private static OutputLifecycle ofDirectory(Configuration conf, String out, Settings settings) throws IOException {
    Path p = OutputPath.parse(out);
    Path q = p.getFileSystem(conf).makeQualified(p);
    return new OutputLifecycle(conf, q.getParent(), List.of(q.getName()), true, settings);
  }

  /**
   * The check of outputs that are entries of one directory (e.g. scopes' OUT.json and OUT.parquet): the
   * first is published last (the one readers look for), and names the work directory.
   */
  public static OutputLifecycle files(Configuration conf, Path parent, List<String> names, boolean overwrite,
      List<OverlapRule.Input> inputs, Settings settings) throws IOException {
    List<Path> outs = new ArrayList<>();
    names.forEach(n -> outs.add(new Path(parent, n)));
    OverlapRule.check(conf, outs, inputs);
    OutputLifecycle l = new OutputLifecycle(conf, parent, names, false, settings);
    l.checkExisting(overwrite);
    return l;
  }

  /** The output (a directory output's path; a file output's first file). */
  public Path out() {
    return new Path(parent, names.get(0));
  }

  private void checkExisting(boolean overwrite) throws IOException {
    for (String n : names) {
      Path t = new Path(parent, n);
      if (!fs.exists(t)) {
        continue;
      }
      FileStatus st = fs.getFileStatus(t);
      if (directory && !st.isDirectory()) {
        throw new OutputExistsException(t + " exists and is a file; choose another output path");
      }
      if (!overwrite && (!directory || fs.listStatus(t).length > 0)) {
        throw new OutputExistsException(t + (directory ? " exists and is not empty" : " exists")
            + "; pass --overwrite to replace it, or choose another output path");
      }
    }
    this.overwrite = overwrite;
  }

  /**
   * lock → stage → work → publish → release. On any failure {@code stopWork} runs first (it cancels the
   * job's tasks and waits for them), then the run's staging is removed and the lock released.
   */
  public <T> T run(String runId, Runnable stopWork, Work<T> work) throws IOException {
    lock(runId, stopWork);
    return staged(runId, null, false, stopWork, work);
  }

  /**
   * {@link #run} for a job that can resume ({@code merge --resume}): a run kept in the work directory
   * whose scratch file {@code planFile} holds {@code fingerprint} is adopted ({@link Staging#adoptedRun()}),
   * the fingerprint is written to this run's scratch, and on failure the staging stays for the next
   * --resume when {@code keepOnFailure}.
   */
  public <T> T runResumable(String runId, String planFile, String fingerprint, boolean adopt, boolean keepOnFailure,
      Runnable stopWork, Work<T> work) throws IOException {
    lock(runId, stopWork);
    String earlier;
    try {
      earlier = adopt ? dirs.findRun(planFile, fingerprint) : null;
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
    return staged(earlier != null ? earlier : runId, earlier, keepOnFailure, stopWork, staging -> {
      staging.writeScratch(planFile, fingerprint + "\n");
      return work.run(staging);
    });
  }

  private void lock(String runId, Runnable stopWork) throws IOException {
    dirs.ensureWritable(parent, out());
    lock = new OutputLock(fs, workDir, out().toString(), runId, settings.lockTimeoutMs());
    lock.acquire(stopWork);
    try {
      String recovered = Publisher.of(fs, conf, workDir).recover();
      if (recovered != null) {
        LOG.warn("{} (left by a killed run)", recovered);
      }
      checkExisting(overwrite); // a run that held the lock may have published since our first check
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  private <T> T staged(String runId, String adopted, boolean keepOnFailure, Runnable stopWork, Work<T> work) throws IOException {
    boolean done = false;
    try {
      Staging staging = stage(runId, adopted);
      T result = work.run(staging);
      publish();
      done = true;
      return result;
    } finally {
      if (!done) {
        stopWork.run();
        fail(keepOnFailure);
      }
    }
  }

  private Staging stage(String runId, String adopted) throws IOException {
    runDir = dirs.run(runId);
    dirs.removeDeadRuns(runDir); // holding the lock, every other run directory belongs to a dead run
    Path fresh = new Path(runDir, WorkDir.NEW);
    fs.delete(fresh, true); // an adopted run's half-assembled output: its shards are re-promoted from scratch
    fs.mkdirs(fresh);
    fs.mkdirs(new Path(runDir, WorkDir.SCRATCH));
    Path uploadDir = directory && MultipartCommit.supported(fs, conf, out()) ? out() : null;
    staging = new Staging(fs, new Path(runDir, WorkDir.SCRATCH), fresh, adopted, uploadDir, new ArrayList<>());
    return staging;
  }

  private void publish() throws IOException {
    Path fresh = new Path(runDir, WorkDir.NEW);
    Path aside = dirs.aside(runDir.getName().substring(WorkDir.RUN_PREFIX.length()));
    List<Publisher.Move> moves = new ArrayList<>();
    if (directory) {
      fs.create(new Path(fresh, SUCCESS), true).close();
      moves.add(new Publisher.Move(fresh, out(), aside));
    } else {
      fs.mkdirs(aside);
      for (String n : names.subList(1, names.size())) {
        moves.add(new Publisher.Move(new Path(fresh, n), new Path(parent, n), new Path(aside, n)));
      }
      for (String n : names.subList(0, 1)) {
        moves.add(new Publisher.Move(new Path(fresh, n), new Path(parent, n), new Path(aside, n)));
      }
    }
    lock.checkHeld();
    publishing = true;
    if (staging.uploads().isEmpty()) {
      Publisher.of(fs, conf, workDir).publish(moves, settings.hook());
    } else {
      new MultipartCommit(fs, workDir).publish(fresh, out(), staging.uploads(), settings.hook());
      // retried and speculative attempts' uploads of the same shards
      MultipartCommit.abortRecorded(fs, staging.scratch(), MultipartCommit.handles(staging.uploads()), false);
    }
    published = true;
    try {
      fs.delete(runDir, true);
    } catch (IOException e) {
      LOG.warn("could not remove {} after the publish: {}; the next run removes it", runDir, e.toString());
    }
    lock.close();
  }

  private void fail(boolean keepStaging) {
    try {
      if (publishing) {
        // the journal is written: finish the publish now rather than leave it to the next run
        LOG.warn("the publish of {} failed part-way; {}", out(), Publisher.of(fs, conf, workDir).recover());
      } else if (!keepStaging && runDir != null) {
        lock.checkHeld(); // a run that lost its lock leaves the work directory to the new owner
        MultipartCommit.abortRecorded(fs, new Path(runDir, WorkDir.SCRATCH), java.util.Set.of(), false);
        fs.delete(runDir, true);
      }
    } catch (IOException | RuntimeException e) {
      LOG.error("could not remove the staging {}: {}; the next run removes it", runDir, e.toString());
    } finally {
      lock.close();
    }
  }

  /**
   * The lock alone, for a container of outputs that is never published itself (the checkpoint watcher's
   * OUT, holding step-N/ and latest): the overlap rule, then the lock, held until closed.
   */
  public static OutputLock holdLock(Configuration conf, String out, List<OverlapRule.Input> inputs, Settings settings,
      String runId, Runnable onLost) throws IOException {
    OverlapRule.check(conf, List.of(OutputPath.parse(out)), inputs);
    OutputLifecycle l = ofDirectory(conf, out, settings);
    OutputLock lock = new OutputLock(l.fs, l.workDir, l.out().toString(), runId, settings.lockTimeoutMs());
    lock.acquire(onLost);
    return lock;
  }

  /**
   * {@code sparkmerge recover OUT}: takes OUT's lock (failing with exit 4 while a live run holds it),
   * finishes a publish a killed run left, and releases it. Kept run directories stay for --resume.
   */
  public static String recover(Configuration conf, String out, Settings settings) throws IOException {
    OutputLifecycle l = ofDirectory(conf, out, settings);
    FileSystem fs = l.fs;
    Path q = l.out();
    if (!fs.exists(l.workDir)) {
      return "nothing to recover: " + q + " has no work directory " + l.workDir;
    }
    l.lock = new OutputLock(fs, l.workDir, q.toString(), "recover-" + java.util.UUID.randomUUID().toString().substring(0, 8),
        settings.lockTimeoutMs());
    l.lock.acquire(() -> {});
    try {
      String done = Publisher.of(fs, conf, l.workDir).recover();
      int runs = l.dirs.keptRuns();
      int aborted = l.dirs.abortPendingUploads();
      return (done != null ? done : "no interrupted publish: " + q + " is as the last finished run left it")
          + (aborted > 0 ? "; aborted " + aborted + " pending upload(s) of unfinished runs" : "")
          + (runs > 0 ? "; " + runs + " unfinished run(s) kept in " + l.workDir + " (merge --resume reuses their shards"
          + (aborted > 0 ? " but those uploads)" : ")") : "");
    } finally {
      l.lock.close();
    }
  }
}
