package io.sparkmerge.job;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The driver's live progress line for a stage of shard tasks: shards and tensors done of the total,
 * GB read, throughput and an ETA, printed at most every two seconds and once at the end. Finished
 * shards count in full; running ones count through the tasks' accumulators, which executors report
 * with their heartbeats ({@code spark.executor.heartbeatInterval}, 10 s by default).
 */
public final class ProgressListener extends SparkListener {
  private final String stage;
  private final int[] tensorsPerShard;
  private final long[] readPerShard;
  private final PrintStream out;
  private final long start = System.nanoTime();
  private final AtomicInteger shardsDone = new AtomicInteger();
  private final AtomicInteger tensorsDone = new AtomicInteger();
  private final AtomicLong bytesDone = new AtomicLong();
  private final boolean[] seen;
  private long lastPrint;
  private final int totalTensors;
  /** Partial progress of running tasks: task id → {tensors, bytes}. */
  private final java.util.Map<Long, long[]> running = new java.util.HashMap<>();
  public static final String TENSORS_ACC = "sparkmerge.tensorsDone";
  public static final String BYTES_ACC = "sparkmerge.bytesRead";

  public ProgressListener(String stage, int[] tensorsPerShard, long[] readPerShard, PrintStream out) {
    this.stage = stage;
    this.tensorsPerShard = tensorsPerShard;
    this.readPerShard = readPerShard;
    this.out = out;
    this.seen = new boolean[tensorsPerShard.length];
    int t = 0;
    for (int n : tensorsPerShard) {
      t += n;
    }
    this.totalTensors = t;
  }

  @Override
  public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
    synchronized (this) {
      for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> u
          : CollectionConverters.asJava(update.accumUpdates())) {
        long taskId = (Long) u._1();
        long[] partial = running.computeIfAbsent(taskId, k -> new long[2]);
        for (AccumulableInfo a : CollectionConverters.asJava(u._4())) {
          String name = a.name().isDefined() ? a.name().get() : "";
          Object v = a.update().isDefined() ? a.update().get() : null;
          if (v instanceof Long l) {
            if (TENSORS_ACC.equals(name)) {
              partial[0] = l;
            } else if (BYTES_ACC.equals(name)) {
              partial[1] = l;
            }
          }
        }
      }
      maybePrint(false);
    }
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd end) {
    int p = end.taskInfo().partitionId();
    synchronized (this) {
      running.remove(end.taskInfo().taskId());
      if (!"Success".equals(end.reason().toString())) {
        return;
      }
      if (p < 0 || p >= seen.length || seen[p]) {
        return;
      }
      seen[p] = true;
      shardsDone.incrementAndGet();
      tensorsDone.addAndGet(tensorsPerShard[p]);
      bytesDone.addAndGet(finalValue(end, BYTES_ACC, readPerShard[p]));
      maybePrint(shardsDone.get() == seen.length);
    }
  }

  /** The task's own final value of one of our accumulators (what it really read), else the plan's estimate. */
  private static long finalValue(SparkListenerTaskEnd end, String name, long fallback) {
    for (AccumulableInfo a : CollectionConverters.asJava(end.taskInfo().accumulables())) {
      if (a.name().isDefined() && name.equals(a.name().get()) && a.update().isDefined() && a.update().get() instanceof Long l) {
        return l;
      }
    }
    return fallback;
  }

  private void maybePrint(boolean force) {
    long now = System.nanoTime();
    if (force || now - lastPrint > 2_000_000_000L) {
      lastPrint = now;
      out.println(line());
    }
  }

  public synchronized String line() {
    double secs = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
    long partialTensors = 0;
    long partialBytes = 0;
    for (long[] r : running.values()) {
      partialTensors += r[0];
      partialBytes += r[1];
    }
    double gb = (bytesDone.get() + partialBytes) / 1e9;
    long tensors = tensorsDone.get() + partialTensors;
    // ETA from the share of tensors done: bytes read can exceed the plan's once-through total when a
    // method makes a preparation pass (TIES reads its inputs twice).
    double left = tensors > 0 ? secs * (totalTensors - tensors) / tensors : Double.NaN;
    return String.format(Locale.ROOT, "[%s] shards %d/%d, tensors %d/%d, read %.2f GB, %.2f GB/s, elapsed %.1fs, ETA %s",
        stage, shardsDone.get(), seen.length, tensors, totalTensors, gb, gb / secs, secs,
        Double.isNaN(left) ? "-" : String.format(Locale.ROOT, "%.0fs", Math.max(0, left)));
  }
}
