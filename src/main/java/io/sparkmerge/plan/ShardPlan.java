package io.sparkmerge.plan;

import java.io.Serializable;
import java.util.List;

/**
 * One output shard = one Spark task: the tensors it writes (in file order), its final file name,
 * and the planner's estimates.
 */
public record ShardPlan(int index, String fileName, List<TensorTask> tensors, long outBytes, long readBytes,
    double cost, long peakMemoryBytes) implements Serializable {}
