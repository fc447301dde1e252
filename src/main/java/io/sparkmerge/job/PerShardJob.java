package io.sparkmerge.job;

import io.sparkmerge.exec.HadoopConf;
import io.sparkmerge.exec.NativeThreads;
import io.sparkmerge.exec.ShardTask;
import io.sparkmerge.plan.MergePlan;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * One Spark task per planned shard for jobs that follow a merge plan but write something else
 * ({@code masks}, {@code task-vectors}): progress per tensor, the run's job group, results collected.
 */
public final class PerShardJob {
  private PerShardJob() {}

  /** What one task computes for its shard. */
  interface ShardWork<R> extends Serializable {
    R run(MergePlan plan, int shard, int attempt, Configuration conf, ShardTask.Progress progress) throws IOException;
  }

  static <R> List<R> run(SparkSession spark, MergePlan plan, String stage, String description, PrintStream console,
      ShardWork<R> work) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int n = plan.shards().size();
    Broadcast<MergePlan> planB = jsc.broadcast(plan);
    HadoopConf hconf = new HadoopConf(jsc.hadoopConfiguration());
    int[] tensorsPerShard = new int[n];
    long[] readPerShard = new long[n];
    List<Integer> shards = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      tensorsPerShard[k] = plan.shards().get(k).tensors().size();
      readPerShard[k] = plan.shards().get(k).readBytes();
      shards.add(k);
    }
    ProgressListener progress = new ProgressListener(stage, tensorsPerShard, readPerShard, console);
    spark.sparkContext().addSparkListener(progress);
    var tensorsAcc = spark.sparkContext().longAccumulator(ProgressListener.TENSORS_ACC);
    var bytesAcc = spark.sparkContext().longAccumulator(ProgressListener.BYTES_ACC);
    jsc.setJobGroup("sparkmerge-" + plan.runId(), description, true);
    try {
      return jsc.parallelize(shards, n).mapPartitions(it -> {
        int p = it.next();
        TaskContext tc = TaskContext.get();
        NativeThreads.use(tc.cpus());
        return List.of(work.run(planB.value(), p, tc.attemptNumber(), hconf.get(), bytes -> {
          tensorsAcc.add(1);
          bytesAcc.add(bytes);
        })).iterator();
      }, true).collect();
    } finally {
      spark.sparkContext().removeSparkListener(progress);
      jsc.clearJobGroup();
    }
  }
}
