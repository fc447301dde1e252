package io.sparkmerge.job;

import io.sparkmerge.exec.CandidateShardTask;
import io.sparkmerge.exec.FaultInjection;
import io.sparkmerge.exec.ShardResult;
import io.sparkmerge.plan.MergePlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.broadcast.Broadcast;

/** One Spark stage of a sweep: a task per output shard, writing that shard of every candidate ({@link CandidateShardTask}). */
final class SweepStage {
  private SweepStage() {}

  /** The shard results of each candidate (its tasks' attempts in {@code scratch.get(c)}), in candidate order, by shard. */
  static List<List<ShardResult>> run(StageRunner runner, List<MergePlan> plans, List<String> scratch) {
    MergePlan first = plans.get(0);
    int n = first.shards().size();
    Broadcast<List<MergePlan>> plansB = runner.broadcast(new ArrayList<>(plans));
    FaultInjection faults = FaultInjection.from(runner.spark().conf());
    List<String> dirs = new ArrayList<>(scratch);
    String name = "sweep " + first.method() + " (" + plans.size() + " candidates)";
    List<List<ShardResult>> perShard = runner.run(name, String.format(Locale.ROOT, "sparkmerge %s: %d tensors in %d shards, %.2f GB read",
        name, first.tensorCount(), n, first.totalReadBytes() / 1e9), StageRunner.shards(first), n, StageRunner.Progress.of(first),
        (it, task) -> {
          int p = it.next();
          try (CandidateShardTask t = new CandidateShardTask(plansB.value(), p, task.conf())) {
            List<ShardResult> r = new ArrayList<>(t.run(dirs, task.attempt(), faults, task.progress()));
            faults.maybePause(p, task.attempt());
            return List.of(r);
          }
        });
    List<List<ShardResult>> perCandidate = new ArrayList<>();
    for (int c = 0; c < plans.size(); c++) {
      List<ShardResult> l = new ArrayList<>();
      for (List<ShardResult> s : perShard) {
        l.add(s.get(c));
      }
      l.sort(java.util.Comparator.comparingInt(ShardResult::partition));
      perCandidate.add(l);
    }
    return perCandidate;
  }
}
