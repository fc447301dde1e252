package io.sparkmerge.job;

import io.sparkmerge.exec.HadoopConf;
import io.sparkmerge.exec.NativeThreads;
import io.sparkmerge.exec.ShardResult;
import io.sparkmerge.exec.ShardTask;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.TensorTask;
import java.io.PrintStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.JobExecutionStatus;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

/**
 * The Spark plumbing of every job's stages, in one place: broadcasts, the Hadoop configuration for
 * executors, a job group per stage (named in the Spark UI), the progress line with its accumulators,
 * native threads sized to the task's cores, and on failure: the stage's remaining tasks cancelled and
 * awaited (bounded) before the error reaches the caller, so no task writes into a staging directory
 * after the caller has removed it.
 */
public final class StageRunner {
  private static final long AWAIT_MS = 60_000;

  private final SparkSession spark;
  private final JavaSparkContext jsc;
  private final String runId;
  private final PrintStream console;
  private final HadoopConf hadoopConf;
  private final Set<String> groups = ConcurrentHashMap.newKeySet();

  public StageRunner(SparkSession spark, String runId, PrintStream console) {
    this.spark = spark;
    this.jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    this.runId = runId;
    this.console = console;
    this.hadoopConf = new HadoopConf(jsc.hadoopConfiguration());
  }

  public String runId() {
    return runId;
  }

  public SparkSession spark() {
    return spark;
  }

  public <V> Broadcast<V> broadcast(V value) {
    return jsc.broadcast(value);
  }

  /**
   * One stage: {@code items} in {@code partitions} Spark partitions, each partition's items handed to
   * {@code work} in one task.
   *
   * @param name short stage name (job group suffix, progress label)
   * @param description what the Spark UI shows for the stage
   * @param progress the planned tensors and bytes of each partition for the progress line, or null for none
   */
  public <T, R> List<R> run(String name, String description, List<T> items, int partitions, Progress progress,
      Work<T, R> work) {
    String group = "sparkmerge-" + runId + "-" + name;
    HadoopConf hconf = hadoopConf;
    ProgressOutput output = ProgressOutput.current();
    ProgressListener listener = progress == null || output.mode() == ProgressOutput.Mode.NONE ? null
        : new ProgressListener(runId, name, progress, console, output, progressIntervalMillis());
    LongAccumulator tensorsAcc = spark.sparkContext().longAccumulator(ProgressListener.TENSORS_ACC);
    LongAccumulator bytesAcc = spark.sparkContext().longAccumulator(ProgressListener.BYTES_ACC);
    LongAccumulator plannedAcc = spark.sparkContext().longAccumulator(ProgressListener.PLANNED_ACC);
    LongAccumulator writtenAcc = spark.sparkContext().longAccumulator(ProgressListener.WRITTEN_ACC);
    long[][] itemBytes = progress == null ? new long[0][] : progress.itemBytes();
    if (listener != null) {
      spark.sparkContext().addSparkListener(listener);
    }
    groups.add(group);
    jsc.setJobGroup(group, description, true);
    boolean ok = false;
    boolean nativeOnDemand = work instanceof NativeOnDemand;
    try {
      List<R> out = jsc.parallelize(items, Math.max(1, partitions)).mapPartitionsWithIndex((part, it) -> {
        TaskContext tc = TaskContext.get();
        if (nativeOnDemand) {
          NativeThreads.request(tc.cpus());
        } else {
          NativeThreads.use(tc.cpus());
        }
        long[] planned = part < itemBytes.length ? itemBytes[part] : new long[0];
        int[] next = {0};
        Task task = new Task(part, tc.attemptNumber(), hconf, bytes -> {
          tensorsAcc.add(1);
          bytesAcc.add(bytes);
          plannedAcc.add(next[0] < planned.length ? planned[next[0]++] : 0); // the plan's size of the tensor just done
        });
        List<R> r = work.run(it, task);
        writtenAcc.add(bytesWritten(r));
        return r.iterator();
      }, true).collect();
      if (listener != null) {
        listener.finish(bytesAcc.value(), writtenAcc.value());
      }
      ok = true;
      return new ArrayList<>(out);
    } finally {
      jsc.clearJobGroup();
      if (listener != null) {
        spark.sparkContext().removeSparkListener(listener);
      }
      if (!ok) {
        stop(group);
      }
      groups.remove(group);
    }
  }

  /** Cancels every stage of this runner still running and waits for their tasks (the output lock was lost, or the job failed). */
  public void cancelAll() {
    for (String g : List.copyOf(groups)) {
      stop(g);
    }
  }

  /** Cancels a job group and waits (bounded) until none of its jobs runs and no task is active. */
  private void stop(String group) {
    SparkContext sc = spark.sparkContext();
    if (sc.isStopped()) {
      return;
    }
    boolean runningJob = false;
    for (int jobId : sc.statusTracker().getJobIdsForGroup(group)) {
      var info = sc.statusTracker().getJobInfo(jobId);
      runningJob |= info.isDefined() && info.get().status() == JobExecutionStatus.RUNNING;
    }
    if (runningJob) {
      sc.cancelJobGroup(group); // a failed job's group has none: Spark would only log that it found nothing to cancel
    }
    long deadline = System.currentTimeMillis() + AWAIT_MS;
    var tracker = sc.statusTracker();
    while (System.currentTimeMillis() < deadline) {
      boolean running = false;
      for (int jobId : tracker.getJobIdsForGroup(group)) {
        var info = tracker.getJobInfo(jobId);
        running |= info.isDefined() && info.get().status() == JobExecutionStatus.RUNNING;
      }
      int active = 0;
      for (int stageId : tracker.getActiveStageIds()) {
        var st = tracker.getStageInfo(stageId);
        active += st.isDefined() ? st.get().numActiveTasks() : 0;
      }
      if (!running && active == 0) {
        return;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** What one task does with its partition's items. */
  public interface Work<T, R> extends Serializable {
    List<R> run(Iterator<T> items, Task task) throws Exception;
  }

  /** Work that calls {@link NativeThreads#ready} itself before ND4J's first use (a merge: the fused pass never does). */
  public interface NativeOnDemand<T, R> extends Work<T, R> {}

  /** How often progress is reported: {@code spark.sparkmerge.progressIntervalMs}, 2000 by default. */
  private long progressIntervalMillis() {
    return Long.parseLong(spark.conf().get(PROGRESS_INTERVAL, "2000"));
  }

  public static final String PROGRESS_INTERVAL = "spark.sparkmerge.progressIntervalMs";

  /** The bytes of the shard files among a task's results (a sweep's task returns a list per shard). */
  static long bytesWritten(List<?> results) {
    long n = 0;
    for (Object r : results) {
      if (r instanceof ShardResult s) {
        n += s.fileBytes();
      } else if (r instanceof List<?> l) {
        n += bytesWritten(l);
      }
    }
    return n;
  }

  /**
   * The planned bytes read of each item (tensor) of each partition, in the order the task works
   * through them: the progress report's totals and its ETA (bytes of the plan done, of all).
   */
  public record Progress(long[][] itemBytes) implements Serializable {
    /** One partition per planned shard. */
    public static Progress of(MergePlan plan) {
      return of(plan, shards(plan));
    }

    /** Partition k computes shard {@code shards.get(k)}. */
    public static Progress of(MergePlan plan, List<Integer> shards) {
      long[][] b = new long[shards.size()][];
      for (int k = 0; k < b.length; k++) {
        List<TensorTask> ts = plan.shards().get(shards.get(k)).tensors();
        b[k] = new long[ts.size()];
        for (int i = 0; i < b[k].length; i++) {
          b[k][i] = ts.get(i).readBytes();
        }
      }
      return new Progress(b);
    }

    /** One item per partition, of the given bytes each. */
    public static Progress perItem(long[] bytes) {
      long[][] b = new long[bytes.length][];
      for (int k = 0; k < b.length; k++) {
        b[k] = new long[] {bytes[k]};
      }
      return new Progress(b);
    }

    int partitions() {
      return itemBytes.length;
    }

    int items(int p) {
      return itemBytes[p].length;
    }

    long bytes(int p) {
      long n = 0;
      for (long b : itemBytes[p]) {
        n += b;
      }
      return n;
    }

    long totalItems() {
      long n = 0;
      for (long[] p : itemBytes) {
        n += p.length;
      }
      return n;
    }

    long totalBytes() {
      long n = 0;
      for (int p = 0; p < itemBytes.length; p++) {
        n += bytes(p);
      }
      return n;
    }
  }

  /** The shard indices 0 .. n-1 of a plan: the items of a stage with one task per shard. */
  public static List<Integer> shards(MergePlan plan) {
    List<Integer> l = new ArrayList<>();
    for (int k = 0; k < plan.shards().size(); k++) {
      l.add(k);
    }
    return l;
  }

  /** A running task: its partition, attempt, the Hadoop configuration and the progress callback. */
  public record Task(int partition, int attempt, HadoopConf hadoopConf, ShardTask.Progress progress) {
    public Configuration conf() {
      return hadoopConf.get();
    }
  }
}
