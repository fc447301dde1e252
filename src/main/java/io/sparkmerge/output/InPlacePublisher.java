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
 * {@code _SUCCESS}. An object-store commit (multipart uploads completed by the driver) can replace this.
 */
final class InPlacePublisher implements Publisher {
  private final FileSystem fs;

  InPlacePublisher(FileSystem fs) {
    this.fs = fs;
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
  public String recover() {
    return null; // no journal: see the class comment for the window
  }

  private void move(Path from, Path to) throws IOException {
    if (!fs.rename(from, to)) {
      throw new IOException("cannot move " + from + " to " + to);
    }
  }
}
