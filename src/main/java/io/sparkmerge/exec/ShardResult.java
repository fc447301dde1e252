package io.sparkmerge.exec;

import io.sparkmerge.io.PendingUpload;
import java.io.Serializable;
import java.util.List;

/**
 * The outcome of one successful shard task: the attempt file it wrote in the staging directory (the
 * driver promotes it) or, on an object store, the pending upload to the shard's final key (the driver
 * completes it; {@code attemptFile} then only names the task's records in scratch), its tensors, and what it cost.
 */
public record ShardResult(int partition, int attempt, String attemptFile, long fileBytes, List<TensorResult> tensors,
    long bytesRead, long millis, List<String> warnings, PendingUpload upload) implements Serializable {

  public ShardResult(int partition, int attempt, String attemptFile, long fileBytes, List<TensorResult> tensors,
      long bytesRead, long millis, List<String> warnings) {
    this(partition, attempt, attemptFile, fileBytes, tensors, bytesRead, millis, warnings, null);
  }
}
