package io.sparkmerge.output;

import java.io.IOException;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Publishes on object stores (S3A and the like), which have no atomic rename: a "rename" there copies.
 * The target's {@code _SUCCESS} goes first, then its other old entries; the new entries are moved in one
 * by one and {@code _SUCCESS} is written last. The window: from the deletion of the old {@code _SUCCESS}
 * until the new one is written, the target holds a mix of old and new entries without {@code _SUCCESS};
 * a killed run leaves it so (the next run with --overwrite replaces it). Readers must check
 * {@code _SUCCESS}. A merge's shards skip this copy: {@link MultipartCommit} completes the tasks' uploads instead.
 */
final class InPlacePublisher implements Publisher {
  private final FileSystem fs;
  private final Path workDir;

  InPlacePublisher(FileSystem fs, Path workDir) {
    this.fs = fs;
    this.workDir = workDir;
  }

  @Override
  public void publish(List<Move> moves, CommitStep.Hook hook) throws IOException {
    hook.at(CommitStep.STAGED);
    for (Move m : moves) {
      if (!fs.getFileStatus(m.fresh()).isDirectory()) {
        fs.delete(m.target(), false);
        move(m.fresh(), m.target());
        continue;
      }
      Path success = new Path(m.target(), OutputLifecycle.SUCCESS);
      if (fs.exists(m.target())) {
        fs.delete(success, false);
        for (FileStatus st : fs.listStatus(m.target())) {
          fs.delete(st.getPath(), true);
        }
      }
      hook.at(CommitStep.OLD_DELETED);
      fs.mkdirs(m.target());
      for (FileStatus st : fs.listStatus(m.fresh())) {
        if (!st.getPath().getName().equals(OutputLifecycle.SUCCESS)) {
          move(st.getPath(), new Path(m.target(), st.getPath().getName()));
        }
      }
      hook.at(CommitStep.NEW_MOVED_IN);
      fs.create(success, true).close();
      fs.delete(m.fresh(), true);
    }
  }

  @Override
  public String recover() throws IOException {
    // the copy publish keeps no journal (see the class comment for its window); a multipart commit does
    return new MultipartCommit(fs, workDir).recover();
  }

  private void move(Path from, Path to) throws IOException {
    if (!fs.rename(from, to)) {
      throw new IOException("cannot move " + from + " to " + to);
    }
  }
}
