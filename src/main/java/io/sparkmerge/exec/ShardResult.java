package io.sparkmerge.exec;

import java.io.Serializable;
import java.util.List;

/**
 * The outcome of one successful shard task: the attempt file it wrote in the staging directory
 * (the driver promotes it), its tensors, and what it cost.
 */
public record ShardResult(int partition, int attempt, String attemptFile, long fileBytes, List<TensorResult> tensors,
    long bytesRead, long millis, List<String> warnings) implements Serializable {}
