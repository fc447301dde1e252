package io.sparkmerge.job;

import io.sparkmerge.param.ResolvedParams;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.ShardPlan;
import io.sparkmerge.plan.TensorTask;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/** A plan with side inputs resolved by a pre-pass added to its merged tensors' per-model parameters. */
public final class PlanRewrite {
  private PlanRewrite() {}

  /** @param perModel given a merged tensor and its per-model parameters, the new ones (or the same list) */
  static MergePlan withPerModel(MergePlan plan, BiFunction<TensorTask, List<ResolvedParams>, List<ResolvedParams>> perModel) {
    List<ShardPlan> shards = new ArrayList<>();
    for (ShardPlan s : plan.shards()) {
      List<TensorTask> tasks = new ArrayList<>();
      for (TensorTask t : s.tensors()) {
        if (t.isRawCopy()) {
          tasks.add(t);
          continue;
        }
        List<ResolvedParams> pm = List.copyOf(perModel.apply(t, new ArrayList<>(t.perModel())));
        tasks.add(new TensorTask(t.name(), t.shape(), t.outDtype(), t.method(), t.global(), pm, t.copyFrom(),
            t.position(), t.readBytes(), t.cost()));
      }
      shards.add(new ShardPlan(s.index(), s.fileName(), List.copyOf(tasks), s.outBytes(), s.readBytes(), s.cost(),
          s.peakMemoryBytes()));
    }
    return new MergePlan(plan.runId(), plan.method(), plan.base(), plan.baseInMerge(), plan.models(), List.copyOf(shards),
        plan.computeDouble(), plan.seed(), plan.allowNonfinite(), plan.chunkBytes(), plan.globalDefaults(), plan.embeddingRows());
  }
}
