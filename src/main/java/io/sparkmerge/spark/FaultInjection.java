package io.sparkmerge.spark;

import java.io.Serializable;
import org.apache.spark.sql.RuntimeConfig;

/**
 * Test hooks to prove retry determinism and atomic output: make the task of one partition fail on
 * its first attempts, after it has written part of its shard. Off unless the session's conf sets
 * {@code spark.sparkmerge.test.failPartition} (and optionally {@code spark.sparkmerge.test.failAttempts},
 * default 1; a large value makes the job fail).
 */
public record FaultInjection(int partition, int attempts) implements Serializable {
  public static final FaultInjection NONE = new FaultInjection(-1, 0);

  public static FaultInjection from(RuntimeConfig conf) {
    int p = Integer.parseInt(conf.get("spark.sparkmerge.test.failPartition", "-1"));
    return p < 0 ? NONE : new FaultInjection(p, Integer.parseInt(conf.get("spark.sparkmerge.test.failAttempts", "1")));
  }

  public void maybeFail(int partition, int attempt) {
    if (partition == this.partition && attempt < attempts) {
      throw new IllegalStateException("injected failure of partition " + partition + " attempt " + attempt
          + " (spark.sparkmerge.test.failPartition)");
    }
  }
}
