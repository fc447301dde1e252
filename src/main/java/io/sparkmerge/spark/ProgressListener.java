package io.sparkmerge.spark;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * The driver's live progress line for a stage of shard tasks: shards and tensors done of the total,
 * GB read, throughput and an ETA, printed at most every two seconds and once at the end.
 */
public final class ProgressListener extends SparkListener {
  private final String stage;
  private final int[] tensorsPerShard;
  private final long totalReadBytes;
  private final long[] readPerShard;
  private final PrintStream out;
  private final long start = System.nanoTime();
  private final AtomicInteger shardsDone = new AtomicInteger();
  private final AtomicInteger tensorsDone = new AtomicInteger();
  private final AtomicLong bytesDone = new AtomicLong();
  private final boolean[] seen;
  private long lastPrint;
  private final int totalTensors;

  public ProgressListener(String stage, int[] tensorsPerShard, long[] readPerShard, PrintStream out) {
    this.stage = stage;
    this.tensorsPerShard = tensorsPerShard;
    this.readPerShard = readPerShard;
    this.out = out;
    this.seen = new boolean[tensorsPerShard.length];
    long r = 0;
    int t = 0;
    for (int i = 0; i < readPerShard.length; i++) {
      r += readPerShard[i];
      t += tensorsPerShard[i];
    }
    this.totalReadBytes = r;
    this.totalTensors = t;
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd end) {
    if (!"Success".equals(end.reason().toString())) {
      return;
    }
    int p = end.taskInfo().partitionId();
    synchronized (this) {
      if (p < 0 || p >= seen.length || seen[p]) {
        return;
      }
      seen[p] = true;
      shardsDone.incrementAndGet();
      tensorsDone.addAndGet(tensorsPerShard[p]);
      bytesDone.addAndGet(readPerShard[p]);
      long now = System.nanoTime();
      if (now - lastPrint > 2_000_000_000L || shardsDone.get() == seen.length) {
        lastPrint = now;
        out.println(line());
      }
    }
  }

  public String line() {
    double secs = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
    double gb = bytesDone.get() / 1e9;
    double rate = gb / secs;
    double left = rate > 0 ? (totalReadBytes / 1e9 - gb) / rate : Double.NaN;
    return String.format(Locale.ROOT, "[%s] shards %d/%d, tensors %d/%d, read %.2f/%.2f GB, %.2f GB/s, elapsed %.1fs, ETA %s",
        stage, shardsDone.get(), seen.length, tensorsDone.get(), totalTensors, gb, totalReadBytes / 1e9, rate, secs,
        Double.isNaN(left) ? "-" : String.format(Locale.ROOT, "%.0fs", left));
  }
}
