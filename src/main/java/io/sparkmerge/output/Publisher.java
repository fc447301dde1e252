package io.sparkmerge.output;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * How a complete new output in the work directory replaces the output. {@link SwapPublisher} (local
 * disks, HDFS: anything with an atomic rename) keeps the old output whole until the new one is in
 * place; {@link InPlacePublisher} (object stores, which copy instead of renaming) has a window. A merge's
 * output on an object store skips both: {@link MultipartCommit} completes the tasks' pending uploads.
 */
public interface Publisher {
  /** URI schemes of object stores: no atomic rename. */
  Set<String> OBJECT_STORES = Set.of("s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "oss");

  /**
   * One entry to publish.
   *
   * @param fresh the complete new entry (directory or file) in the work directory
   * @param target where it goes
   * @param aside where the old entry waits while the new one moves in (in the work directory)
   */
  record Move(Path fresh, Path target, Path aside) {}

  /** Publishes every move, calling the hook at each {@link CommitStep}. */
  void publish(List<Move> moves, CommitStep.Hook hook) throws IOException;

  /** Finishes a publish a killed run left unfinished in the work directory; a one-line account, or null when there was none. */
  String recover() throws IOException;

  /** The publisher for an output on this file system, keeping its journal in {@code workDir}. */
  static Publisher of(FileSystem fs, Configuration conf, Path workDir) throws IOException {
    String scheme = fs.getUri().getScheme() == null ? "" : fs.getUri().getScheme().toLowerCase(Locale.ROOT);
    return OBJECT_STORES.contains(scheme) ? new InPlacePublisher(fs, workDir) : new SwapPublisher(fs, workDir);
  }
}
