package io.sparkmerge.job;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The driver's live progress of a stage of shard tasks: shards and tensors done of the total, bytes read
 * and written, throughput and an ETA, reported at most every interval and once at the end, as a text
 * line or a JSON event ({@link ProgressOutput}). Finished shards count in full; running ones count
 * through the tasks' accumulators, which executors report with their heartbeats
 * ({@code spark.executor.heartbeatInterval}, 10 s by default).
 *
 * <p>The ETA is the planned bytes left at the rate of planned bytes done (each tensor's size is in the
 * plan): a tensor count misleads (small norms finish first, embeddings last) and bytes read exceed the
 * plan when a method reads its inputs twice (TIES). The rate is measured from the first work seen, not
 * from the stage's start: the first seconds are task start-up, native libraries and the JIT (measured
 * from the start, the first ETAs of a small merge were 5× too long; of a large one on a cold cluster,
 * 50×). No ETA is given before {@link #ETA_MIN_SHARE} of the bytes and {@link #ETA_MIN_SECONDS} have
 * passed since then.
 */
public final class ProgressListener extends SparkListener {
  public static final String TENSORS_ACC = "sparkmerge.tensorsDone";
  public static final String BYTES_ACC = "sparkmerge.bytesRead";
  public static final String PLANNED_ACC = "sparkmerge.plannedBytesDone";
  public static final String WRITTEN_ACC = "sparkmerge.bytesWritten";
  static final double ETA_MIN_SHARE = 0.05;
  static final double ETA_MIN_SECONDS = 3;

  private final String job;
  private final String stage;
  private final StageRunner.Progress plan;
  private final PrintStream console;
  private final ProgressOutput output;
  private final long intervalNanos;
  private final long start = System.nanoTime();
  private final boolean[] seen;
  private int shardsDone;
  private long tensorsDone;
  private long bytesRead;
  private long plannedDone;
  private long written;
  private long lastPrint;
  private boolean finished;
  /** When work was first seen, and the planned bytes done then: where the ETA's rate is measured from. */
  private double firstSeenSecs = Double.NaN;
  private long firstSeenBytes;
  /** Partial progress of running tasks: task id → {tensors, bytes read, planned bytes done, bytes written}. */
  private final Map<Long, long[]> running = new HashMap<>();
  /** Tasks already ended: a heartbeat sent before a task's end can arrive after it. */
  private final java.util.Set<Long> ended = new java.util.HashSet<>();

  ProgressListener(String job, String stage, StageRunner.Progress plan, PrintStream console, ProgressOutput output,
      long intervalMillis) {
    this.job = job;
    this.stage = stage;
    this.plan = plan;
    this.console = console;
    this.output = output;
    this.intervalNanos = intervalMillis * 1_000_000L;
    this.seen = new boolean[plan.partitions()];
  }

  @Override
  public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
    synchronized (this) {
      if (finished) {
        return;
      }
      for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> u
          : CollectionConverters.asJava(update.accumUpdates())) {
        if (ended.contains((Long) u._1())) {
          continue;
        }
        long[] partial = running.computeIfAbsent((Long) u._1(), k -> new long[4]);
        for (AccumulableInfo a : CollectionConverters.asJava(u._4())) {
          int slot = slot(a);
          if (slot >= 0 && a.update().isDefined() && a.update().get() instanceof Long l) {
            partial[slot] = l;
          }
        }
      }
      markFirstWork();
      maybeReport(false);
    }
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd end) {
    int p = end.taskInfo().partitionId();
    synchronized (this) {
      if (finished) {
        return;
      }
      running.remove(end.taskInfo().taskId());
      ended.add(end.taskInfo().taskId());
      if (!"Success".equals(end.reason().toString()) || p < 0 || p >= seen.length || seen[p]) {
        return;
      }
      seen[p] = true;
      shardsDone++;
      tensorsDone += plan.items(p);
      plannedDone += plan.bytes(p);
      long[] fin = {0, plan.bytes(p), 0, 0};
      for (AccumulableInfo a : CollectionConverters.asJava(end.taskInfo().accumulables())) {
        int slot = slot(a);
        if ((slot == 1 || slot == 3) && a.update().isDefined() && a.update().get() instanceof Long l) {
          fin[slot] = l; // what the task really read and wrote
        }
      }
      bytesRead += fin[1];
      written += fin[3];
      markFirstWork();
      maybeReport(false);
    }
  }

  /**
   * The stage succeeded: its last report, with every shard done and what the tasks read and wrote (the
   * driver's accumulators). Spark's listener bus delivers the last tasks' ends later, or after the
   * listener is removed; they are ignored from now on.
   */
  public synchronized void finish(long read, long wrote) {
    if (finished) {
      return;
    }
    running.clear();
    java.util.Arrays.fill(seen, true);
    shardsDone = seen.length;
    tensorsDone = plan.totalItems();
    plannedDone = plan.totalBytes();
    bytesRead = Math.max(bytesRead, read);
    written = Math.max(written, wrote);
    maybeReport(true);
    finished = true;
  }

  private double seconds() {
    return Math.max(1e-3, (System.nanoTime() - start) / 1e9);
  }

  private long plannedNow() {
    long p = plannedDone;
    for (long[] r : running.values()) {
      p += r[2];
    }
    return Math.min(plan.totalBytes(), p);
  }

  private void markFirstWork() {
    long p = plannedNow();
    if (Double.isNaN(firstSeenSecs) && p > 0) {
      firstSeenSecs = seconds();
      firstSeenBytes = p;
    }
  }

  private static int slot(AccumulableInfo a) {
    String name = a.name().isDefined() ? a.name().get() : "";
    return switch (name) {
      case TENSORS_ACC -> 0;
      case BYTES_ACC -> 1;
      case PLANNED_ACC -> 2;
      case WRITTEN_ACC -> 3;
      default -> -1;
    };
  }

  private void maybeReport(boolean force) {
    long now = System.nanoTime();
    if (force || now - lastPrint > intervalNanos) {
      lastPrint = now;
      Snapshot s = snapshot();
      if (output.mode() == ProgressOutput.Mode.JSON) {
        output.event(s.event(job, stage));
      } else if (output.mode() == ProgressOutput.Mode.TEXT) {
        console.println(s.line(stage));
      }
    }
  }

  /** The stage's progress now. */
  public synchronized Snapshot snapshot() {
    long[] partial = new long[4];
    for (long[] r : running.values()) {
      for (int i = 0; i < 4; i++) {
        partial[i] += r[i];
      }
    }
    double secs = seconds();
    long planned = plannedNow();
    return new Snapshot(shardsDone, seen.length, Math.min(plan.totalItems(), tensorsDone + partial[0]), plan.totalItems(),
        bytesRead + partial[1], planned, plan.totalBytes(), written + partial[3], secs,
        eta(secs - firstSeenSecs, planned - firstSeenBytes, planned, plan.totalBytes(), shardsDone == seen.length));
  }

  /**
   * Seconds left at the rate of the last {@code secs} seconds, in which {@code bytes} planned bytes were
   * done; NaN while too little has passed to tell (or secs is NaN: no work seen yet).
   */
  static double eta(double secs, long bytes, long plannedDone, long plannedTotal, boolean finished) {
    if (finished) {
      return 0;
    }
    if (Double.isNaN(secs) || plannedTotal <= 0 || secs < ETA_MIN_SECONDS || bytes < ETA_MIN_SHARE * plannedTotal) {
      return Double.NaN;
    }
    return (plannedTotal - plannedDone) * secs / bytes;
  }

  /** One report of a stage's progress. */
  public record Snapshot(int shardsDone, int shardsTotal, long tensorsDone, long tensorsTotal, long bytesRead,
      long plannedBytesDone, long plannedBytes, long bytesWritten, double elapsedSeconds, double etaSeconds) {

    double gbPerSecond() {
      return bytesRead / 1e9 / elapsedSeconds;
    }

    String line(String stage) {
      return String.format(Locale.ROOT, "[%s] shards %d/%d, tensors %d/%d, read %.2f GB, %.2f GB/s, elapsed %.1fs, ETA %s",
          stage, shardsDone, shardsTotal, tensorsDone, tensorsTotal, bytesRead / 1e9, gbPerSecond(), elapsedSeconds,
          Double.isNaN(etaSeconds) ? "-" : String.format(Locale.ROOT, "%.0fs", etaSeconds));
    }

    Map<String, Object> event(String job, String stage) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("event", "progress");
      m.put("job", job);
      m.put("stage", stage);
      m.put("shards_done", shardsDone);
      m.put("shards_total", shardsTotal);
      m.put("tensors_done", tensorsDone);
      m.put("tensors_total", tensorsTotal);
      m.put("bytes_read", bytesRead);
      m.put("planned_bytes_done", plannedBytesDone);
      m.put("planned_bytes", plannedBytes);
      m.put("bytes_written", bytesWritten);
      m.put("gb_per_s", Math.round(gbPerSecond() * 1000) / 1000.0);
      m.put("elapsed_s", Math.round(elapsedSeconds * 10) / 10.0);
      if (!Double.isNaN(etaSeconds)) {
        m.put("eta_s", Math.round(etaSeconds));
      }
      return m;
    }
  }
}
