package io.sparkmerge.exec;

import java.io.Serializable;
import org.apache.spark.sql.RuntimeConfig;

/**
 * Test hooks to prove retry determinism, atomic output and recovery from killed processes. Off unless
 * the session's conf sets them:
 * <ul>
 *   <li>{@code spark.sparkmerge.test.failPartition} (and {@code spark.sparkmerge.test.failAttempts},
 *       default 1; a large value makes the job fail): that partition's task fails on its first attempts,
 *       after it has written part of its shard;
 *   <li>{@code spark.sparkmerge.test.slowPartition} and {@code spark.sparkmerge.test.slowMs}: the first
 *       attempt of that partition's task waits that long after writing its shard, before reporting it
 *       (a straggler for speculation, a window to kill the driver or a worker in).
 * </ul>
 */
public record FaultInjection(int partition, int attempts, int slowPartition, long slowMs) implements Serializable {
  public static final FaultInjection NONE = new FaultInjection(-1, 0, -1, 0);

  public static FaultInjection from(RuntimeConfig conf) {
    return new FaultInjection(Integer.parseInt(conf.get("spark.sparkmerge.test.failPartition", "-1")),
        Integer.parseInt(conf.get("spark.sparkmerge.test.failAttempts", "1")),
        Integer.parseInt(conf.get("spark.sparkmerge.test.slowPartition", "-1")),
        Long.parseLong(conf.get("spark.sparkmerge.test.slowMs", "0")));
  }

  public void maybeFail(int partition, int attempt) {
    if (partition == this.partition && attempt < attempts) {
      throw new IllegalStateException("injected failure of partition " + partition + " attempt " + attempt
          + " (spark.sparkmerge.test.failPartition)");
    }
  }

  /** Sleeps on the first attempt of the slow partition; an interrupt (task kill) ends the sleep. */
  public void maybePause(int partition, int attempt) {
    if (partition == slowPartition && attempt == 0 && slowMs > 0) {
      try {
        Thread.sleep(slowMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
