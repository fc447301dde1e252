package io.sparkmerge.plan;

import java.io.Serializable;
import java.util.List;

/**
 * One output shard = one Spark task: the tensors it writes (in file order), its final file name,
 * and the planner's estimates.
 */
public record ShardPlan(int index, String fileName, List<TensorTask> tensors, long outBytes, long readBytes,
    double cost, long peakMemoryBytes) implements Serializable {

  /** The same shard writing these tensors (same order and sizes: a pre-pass's side inputs filled in). */
  public ShardPlan withTensors(List<TensorTask> newTensors) {
    return new ShardPlan(index, fileName, List.copyOf(newTensors), outBytes, readBytes, cost, peakMemoryBytes);
  }
}
