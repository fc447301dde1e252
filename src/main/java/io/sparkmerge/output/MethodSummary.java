package io.sparkmerge.output;

import io.sparkmerge.exec.TensorResult;
import io.sparkmerge.method.MergeMethod;
import io.sparkmerge.method.MethodRegistry;
import io.sparkmerge.plan.MergePlan;
import io.sparkmerge.plan.TensorTask;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The job method's report over the whole model: the per-tensor counters its tasks returned, summed
 * by name and handed to its {@link io.sparkmerge.method.MethodReport#summarize} (the interpretation is the method's).
 */
public final class MethodSummary {
  private MethodSummary() {}

  public static Map<String, Object> of(MergePlan plan, Collection<TensorResult> results) {
    Map<String, TensorTask> tasks = new TreeMap<>();
    plan.shards().forEach(s -> s.tensors().forEach(t -> tasks.put(t.name(), t)));
    Map<String, Double> totals = new TreeMap<>();
    long denseBytes = 0;
    long entries = 0;
    for (TensorResult r : results) {
      TensorTask t = tasks.get(r.name());
      if (t == null || !plan.method().equals(t.method()) || r.counters() == null || r.counters().isEmpty()) {
        continue;
      }
      r.counters().forEach((k, v) -> {
        if (!k.startsWith(io.sparkmerge.exec.MergeStatistics.PREFIX)) { // the report's statistics, not the method's
          totals.merge(k, v, Double::sum);
        }
      });
      // the first model's input tensor (under slices it may have another name and model)
      denseBytes += plan.models().get(t.modelIndex(0)).dir().tensors().get(t.modelSource(0)).byteLength();
      entries += t.numel();
    }
    if (totals.isEmpty()) {
      return new LinkedHashMap<>();
    }
    int bytesPerElement = entries == 0 ? 4 : (int) Math.max(1, Math.round((double) denseBytes / entries));
    MergeMethod m = MethodRegistry.get(plan.method());
    return new LinkedHashMap<>(m.report().summarize(totals, plan.models().size(), bytesPerElement));
  }
}
